"""Attacks of bad luck: the database goes away under the Slack surface.

A SQLite file whose directory was removed, a PostgreSQL database that was dropped: every
command, button, modal and event that needs the database then says so in plain words
("the database is away just now, try again in a moment"), not "something went wrong", logs
no traceback, and an event is answered 503 with Retry-After so that Slack delivers it again.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slack_harness import EXAMPLE, MANAGER, SECRET, Bot, FakeSlack, running_bot, sr

from bot.config.routing import load_file
from bot.routing.results import RouteOutcome
from bot.routing.service import RoutingService
from bot.slack.answers import DATABASE_AWAY
from bot.store.db import Database

LEAD = {"id": "L-500", "name": "Jane Doe", "country": "US", "email": "jane@acme.com"}
Outage = tuple[Bot, RouteOutcome]


@pytest.fixture(params=["sqlite file gone", "postgres database dropped"])
async def outage(request: pytest.FixtureRequest, slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Outage]:
    """A bot with a team and one routed lead, whose database is then taken away."""
    if request.param == "sqlite file gone":
        (tmp_path / "data").mkdir()
        url, name = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'rotation.db'}", None
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"away_{abs(hash(request.node.name)) % 10**8}"
        url = server.create_database(name)
    db = Database(url)
    await db.migrate()
    service = RoutingService(db)
    await service.admin.apply_config(load_file(EXAMPLE))
    outcome = await service.assignment.route(dict(LEAD))
    if name is None:
        await db.dispose()  # no open connection keeps the old file alive
        shutil.rmtree(tmp_path / "data")
    else:
        server.drop_database(name)  # WITH (FORCE): the pool's connections are cut too
    try:
        async with running_bot(slack, service) as bot:
            yield bot, outcome
    finally:
        await db.dispose()


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], \
        [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(("words", "user"), [
    ("status", "U01ALICE"), ("pause conference", "U01ALICE"), ("resume", "U01ALICE"),
    ("away 2030-02-03 2030-02-07", "U01ALICE"), ("away", "U01ALICE"), ("who", "U01ALICE"),
    ("why L-500", "U01ALICE"), ("why L-500", MANAGER), ("calibrate @alice", MANAGER),
])
async def test_slash_commands_say_the_database_is_away(outage: Outage, caplog: pytest.LogCaptureFixture,
                                                       words: str, user: str) -> None:
    """Each /rotation subcommand that reads or writes, with the database gone."""
    bot, _ = outage
    assert await bot.command(words, user=user) == DATABASE_AWAY
    no_tracebacks(caplog)


async def test_accept_button_says_the_database_is_away(outage: Outage,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """Accept clicked on a lead's DM while the database is gone."""
    bot, outcome = outage
    assert outcome.assignee is not None
    await bot.post(sr.block_action(SECRET, "lead_accept", f"{outcome.assignment_id}:L-500",
                                   user_id=outcome.assignee.slack_id, message={"ts": "1.2"},
                                   response_url=bot.slack.response_url()))
    [answer] = await bot.slack.wait_for_responses()
    assert answer["text"] == DATABASE_AWAY and bot.slack.calls_to("chat.update") == []
    no_tracebacks(caplog)


async def test_modals_say_the_database_is_away(outage: Outage, caplog: pytest.LogCaptureFixture) -> None:
    """Saving a calibration and scheduling time off: the answer goes on the form, which stays open."""
    bot, _ = outage
    calibration = {"calibrate_member": {"calibrate_member": sr.users_select("U01ALICE")},
                   "calibrate_queue": {"calibrate_queue": sr.static_select("us-east")},
                   "calibrate_adjustment": {"calibrate_adjustment": sr.plain_text("+1")},
                   "calibrate_note": {"calibrate_note": sr.plain_text("cover")}}
    reply = await bot.post(sr.view_submission(SECRET, "calibrate_modal", calibration, user_id=MANAGER))
    assert reply.status == 200 and DATABASE_AWAY in reply.json()["errors"].values()
    leave = {"away_start": {"away_start": sr.datepicker("2030-02-03")},
             "away_end": {"away_end": sr.datepicker("2030-02-07")}}
    reply = await bot.post(sr.view_submission(SECRET, "away_modal", leave))
    assert reply.status == 200 and DATABASE_AWAY in reply.json()["errors"].values()
    no_tracebacks(caplog)


async def test_home_pause_button_says_the_database_is_away(outage: Outage,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """The Home tab's Pause: the Home is republished saying so (not left looking current)."""
    bot, _ = outage
    reply = await bot.post(sr.block_action(SECRET, "home_pause", "pause", view={"id": "VHOME"}))
    assert reply.status == 200
    [published] = await bot.slack.wait_for("views.publish")
    assert DATABASE_AWAY.replace(",", "") in str(published.body["view"]).replace(",", "")
    no_tracebacks(caplog)


async def test_an_event_gets_503_so_slack_sends_it_again(outage: Outage,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """An Events API delivery while the database is gone (its id cannot even be recorded)."""
    bot, _ = outage
    event = {"type": "app_home_opened", "user": "U01ALICE", "channel": "DU01ALICE", "tab": "home"}
    body, headers = sr.event_callback(SECRET, event, event_id="EvAway")
    async with bot.http.post(bot.url, data=body.encode(), headers=headers) as response:
        assert response.status == 503 and response.headers["Retry-After"] == "5"
        assert "database is away" in (await response.json())["error"]
    assert bot.slack.calls_to("views.publish") == []
    no_tracebacks(caplog)

"""Attacks through what Slack passes to the core: reasons, notes, dates and status expirations.

A NUL (PostgreSQL refuses it) or half a surrogate pair (no UTF-8 for it), a date in the year
9999 (a day added to it overflows), a status that expires in 10^20 seconds: each gets a refusal
in plain words (an event is ignored) and changes nothing, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import date, timedelta

import pytest
from slack_harness import MANAGER, SECRET, Bot, sr

from bot.routing.errors import InvalidChange
from bot.slack.answers import SOMETHING_WENT_WRONG

SOON = (date.today() + timedelta(days=20)).isoformat()
VACATION = {"status_text": "Vacationing", "status_emoji": ":palm_tree:"}


def calibrate_values(note: str, weight: str | None = None) -> dict[str, object]:
    return {
        "calibrate_member": {"calibrate_member": sr.users_select("U01ALICE")},
        "calibrate_queue": {"calibrate_queue": sr.static_select("us-east")},
        "calibrate_weight": {"calibrate_weight": sr.plain_text(weight)},
        "calibrate_adjustment": {"calibrate_adjustment": sr.plain_text("+3")},
        "calibrate_note": {"calibrate_note": sr.plain_text(note)},
    }


async def test_nul_in_a_pause_reason(backend_bot: Bot) -> None:
    """`/rotation pause` with a NUL byte in the reason (%00 in the form)."""
    before = await backend_bot.state()
    answer = await backend_bot.command("pause dentist\x00appointment")
    assert "cannot be stored" in answer and "nothing was changed" in answer
    assert answer != SOMETHING_WENT_WRONG
    assert await backend_bot.state() == before
    assert (await backend_bot.service.availability.member_status("U01ALICE")).state == "active"


async def test_a_pause_reason_longer_than_its_column(backend_bot: Bot) -> None:
    """A 600-character reason: PostgreSQL refused it past the column's 500."""
    before = await backend_bot.state()
    answer = await backend_bot.command("pause " + "z" * 600)
    assert "longer than 500 characters" in answer
    assert await backend_bot.state() == before


async def test_lone_surrogate_in_a_pause_reason_and_a_leave_note(backend_bot: Bot) -> None:
    """Half a surrogate pair (what a JSON "\\ud83c" decodes to) as a reason or a leave note."""
    before = await backend_bot.state()
    with pytest.raises(InvalidChange, match="cannot be stored"):
        await backend_bot.service.availability.pause("U01ALICE", reason="beach \ud83c", actor="U01ALICE")
    with pytest.raises(InvalidChange, match="cannot be stored"):
        await backend_bot.service.availability.add_leave("U01ALICE", date.fromisoformat(SOON),
                                            date.fromisoformat(SOON), actor="calendar", note="trip\x00")
    assert await backend_bot.state() == before


async def test_nul_in_a_calibration_note(backend_bot: Bot) -> None:
    """A manager's calibration whose note holds a NUL (JSON "\\u0000" in the modal's state)."""
    before = await backend_bot.state()
    reply = await backend_bot.post(sr.view_submission(SECRET, "calibrate_modal",
                                                      calibrate_values("covering\x00Bob"), user_id=MANAGER))
    assert reply.status == 200
    assert "cannot be stored" in reply.json()["errors"]["calibrate_note"]
    assert await backend_bot.state() == before
    assert backend_bot.slack.calls_to("chat.postMessage") == []


async def test_a_weight_longer_than_its_column(backend_bot: Bot) -> None:
    """A weight of 40 characters that still reads as 1 (zeros first): its words did not fit."""
    before = await backend_bot.state()
    reply = await backend_bot.post(sr.view_submission(SECRET, "calibrate_modal",
                                                      calibrate_values("fine", weight="0" * 39 + "1"),
                                                      user_id=MANAGER))
    assert "longer than 32 characters" in reply.json()["errors"]["calibrate_weight"]
    assert await backend_bot.state() == before


@pytest.mark.parametrize(("words", "said"), [
    (f"away {SOON} 9999-12-31", "too far ahead"),
    ("away 9999-12-30 9999-12-31", "too far ahead"),
    ("away 2101-01-01", "too far ahead"),
    (f"away {SOON} {(date.today() + timedelta(days=20 + 400)).isoformat()}", "at most 366 days"),
    ("away 0001-01-01 0001-01-02", "over already"),
    (f"away 0001-01-01 {SOON}", "at most 366 days"),
    ("pause until 9999-12-31", "too far ahead"),
    ("pause 9999-12-31 forever", "too far ahead"),
])
async def test_far_dates_are_refused_in_words(backend_bot: Bot, words: str, said: str) -> None:
    """Dates at the ends of the calendar, where a day's arithmetic or a time zone overflows."""
    before = await backend_bot.state()
    answer = await backend_bot.command(words)
    assert said in answer and answer != SOMETHING_WENT_WRONG, answer
    assert await backend_bot.state() == before


async def test_far_dates_in_the_time_off_modal(backend_bot: Bot) -> None:
    """The Home tab's time-off modal submitted with 9999-12-31 as the last day."""
    before = await backend_bot.state()
    state = {"away_start": {"away_start": sr.datepicker(SOON)},
             "away_end": {"away_end": sr.datepicker("9999-12-31")}}
    reply = await backend_bot.post(sr.view_submission(SECRET, "away_modal", state))
    assert reply.status == 200 and "too far ahead" in reply.json()["errors"]["away_end"]
    assert await backend_bot.state() == before


@pytest.mark.parametrize("expiration", [10**20, -5, "soon", 2**63, True, [1], "99999999999999999999"])
async def test_status_expiration_that_is_not_a_time(backend_bot: Bot, caplog: pytest.LogCaptureFixture,
                                                    expiration: object) -> None:
    """A user_change whose status_expiration is huge, negative, or not a number."""
    caplog.set_level(logging.INFO, logger="bot.slack.events")
    before = await backend_bot.state()
    event = sr.user_change_event("U01ALICE", **VACATION)
    event["user"]["profile"]["status_expiration"] = expiration
    reply = await backend_bot.post(sr.event_callback(SECRET, event, event_id=f"Ev{expiration!s:.20}"))
    assert reply.status == 200
    await status_not_applied(caplog, "U01ALICE")
    assert await backend_bot.state() == before
    assert (await backend_bot.service.availability.member_status("U01ALICE")).state == "active"
    # the same status with an expiry that is a time still pauses: only the bad one was ignored
    event = sr.user_change_event("U01ALICE", status_expiration=int(time.time()) + 86400, **VACATION)
    assert (await backend_bot.post(sr.event_callback(SECRET, event, event_id="EvGood"))).status == 200
    for _ in range(500):
        if (await backend_bot.service.availability.member_status("U01ALICE")).state != "active":
            break
        await asyncio.sleep(0.01)
    assert (await backend_bot.service.availability.member_status("U01ALICE")).state != "active"


async def test_nul_in_a_slack_status(backend_bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """A status text with a NUL in it: ignored, the member stays as they were."""
    caplog.set_level(logging.INFO, logger="bot.slack.events")
    before = await backend_bot.state()
    event = sr.user_change_event("U01ALICE", status_text="Vacationing\x00", status_emoji=":palm_tree:")
    assert (await backend_bot.post(sr.event_callback(SECRET, event, event_id="EvNul"))).status == 200
    said = await status_not_applied(caplog, "U01ALICE")
    assert "cannot be stored" in said
    assert await backend_bot.state() == before


async def test_leave_number_in_unicode_digits(backend_bot: Bot) -> None:
    """`/rotation away cancel #²`: "²".isdigit() is true, int("²") raises."""
    answer = await backend_bot.command("away cancel #²")
    assert "is not a leave number" in answer


async def status_not_applied(caplog: pytest.LogCaptureFixture, user: str) -> str:
    """Wait for the listener (it runs after the ack) to log that it left the status alone."""
    for _ in range(500):
        found = [r.getMessage() for r in caplog.records if f"status of {user} not applied" in r.getMessage()]
        if found:
            return found[0]
        await asyncio.sleep(0.01)
    raise AssertionError(f"the status of {user} was neither applied nor refused")

"""Messages that stay true: a lead's DM and its channel announcement say what became of it.

Driven the way it happens: the core routes, the real delivery loop sends through the real
Slack runtime to the fake Slack (which answers each post with its ts, stored in the outbox),
a rep clicks through a signed request, the SLA job moves an offer on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_harness import SECRET, Bot, deliver, posts
from sqlalchemy import insert, select, update

from bot.routing.clock import ManualClock
from bot.routing.events import MemberNote, Recipient, lead_card
from bot.routing.outbox import outbox_row
from bot.store.models import OutboxMessage, Team

try:  # works whether or not tests/ is a package
    from tests import slack_requests as sr
except ImportError:
    import slack_requests as sr  # type: ignore[no-redef]

LEAD = {"name": "Jane Doe", "company": "Acme Ltd", "email": "jane@acme.co.uk", "country": "GB"}
TEMPLATE = "https://crm.example.com/leads/{id}"
START = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # a Tuesday, inside everyone's hours in emea


async def set_lead_url(bot: Bot, template: str | None) -> None:
    """The config's `lead_url`, as the team's settings hold it."""
    async with bot.service.db.transaction() as connection:
        settings = (await connection.execute(select(Team.settings))).scalar_one()
        await connection.execute(update(Team).values(settings={**settings, "lead_url": template}))






def actions_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def click(bot: Bot, action_id: str, value: str, user: str, message_ts: str, channel: str) -> None:
    reply = await bot.post(sr.block_action(
        SECRET, action_id, value, user_id=user, message={"ts": message_ts, "text": "lead"},
        channel_id=channel, response_url=bot.slack.response_url("click"), block_id="lead_actions"))
    assert reply.status == 200


@pytest.fixture
async def routed(bot: Bot) -> dict[str, Any]:
    """A lead offered in emea, its DM and announcement sent; the Open lead template set."""
    bot.service.clock = ManualClock(START)
    await set_lead_url(bot, TEMPLATE)
    outcome = await bot.service.assignment.route({"id": "L-1", **LEAD})
    assert outcome.assignee is not None and outcome.assignment_id is not None
    await deliver(bot)
    owner = outcome.assignee.slack_id
    [dm] = posts(bot, owner)
    [announcement] = posts(bot, "C0EMEA")
    return {"outcome": outcome, "owner": owner, "dm": dm, "announcement": announcement,
            "value": f"{outcome.assignment_id}:L-1"}


async def test_the_dm_says_when_the_sla_runs_out_and_pass_asks_first(
        bot: Bot, routed: dict[str, Any]) -> None:
    dm = routed["dm"]
    deadline = int((START + timedelta(minutes=45)).timestamp())
    assert f"Accept by <!date^{deadline}^{{time}}|" in dm.body["text"]
    # the fallback words in the rep's own zone (the example's emea reps are in Europe)
    zone = {"U07GRACE": "Europe/London", "U08HENRIK": "Europe/Berlin", "U09ISABEL": "Europe/Madrid",
            "U10JONAS": "Europe/Amsterdam"}[routed["owner"]]
    local = (START + timedelta(minutes=45)).astimezone(ZoneInfo(zone)).strftime("%H:%M")
    token = f"<!date^{deadline}^{{date_short_pretty}} {{time}}|Tue Dec 1, {local} {zone}>"
    assert f"{token} (within 45 minutes)" in str(dm.body["blocks"])
    accept, passed, link = actions_of(dm.body["blocks"])
    assert "confirm" not in accept
    assert passed["confirm"]["title"]["text"] == "Pass this lead?"
    assert passed["confirm"]["confirm"]["text"] == "Pass it on"
    assert passed["confirm"]["deny"]["text"] == "Keep it"
    assert link["url"] == "https://crm.example.com/leads/L-1"


async def test_accept_updates_the_dm_and_the_announcement_and_keeps_open_lead(
        bot: Bot, routed: dict[str, Any]) -> None:
    dm, announcement, owner = routed["dm"], routed["announcement"], routed["owner"]
    await click(bot, "lead_accept", routed["value"], owner, dm.response["ts"], dm.response["channel"])
    dm_update, root_update = await bot.slack.wait_for("chat.update", 2)
    assert (dm_update.body["channel"], dm_update.body["ts"]) == (dm.response["channel"], dm.response["ts"])
    assert [e["action_id"] for e in actions_of(dm_update.body["blocks"])] == ["lead_open_url"]
    assert (root_update.body["channel"], root_update.body["ts"]) == ("C0EMEA", announcement.response["ts"])
    said = str(root_update.body["blocks"])
    assert "Accepted by" in said and routed["outcome"].assignee.name in said
    assert "<!date^" in said  # when, in each reader's own timezone
    assert [e["url"] for e in actions_of(root_update.body["blocks"])] == ["https://crm.example.com/leads/L-1"]


async def test_pass_updates_the_announcement_and_the_reoffer_goes_in_its_thread(
        bot: Bot, routed: dict[str, Any]) -> None:
    dm, announcement, owner = routed["dm"], routed["announcement"], routed["owner"]
    await click(bot, "lead_pass", routed["value"], owner, dm.response["ts"], dm.response["channel"])
    _, root_update = await bot.slack.wait_for("chat.update", 2)
    assert root_update.body["ts"] == announcement.response["ts"]
    _, second = (await bot.service.assignment.lead("L-1")).assignments
    assert "Offered to" in str(root_update.body["blocks"]) and second["assignee"]["name"] in str(
        root_update.body["blocks"])
    assert "passed on by" in str(root_update.body["blocks"])

    await deliver(bot)
    [new_dm] = posts(bot, second["assignee"]["slack_id"])
    assert "thread_ts" not in new_dm.body  # the new rep's offer is a DM of its own
    first_post, reply = posts(bot, "C0EMEA")
    assert first_post is announcement
    assert reply.body["thread_ts"] == announcement.response["ts"]
    assert reply.body["text"].startswith("Passed on: now offered to")


async def test_an_sla_move_updates_the_first_reps_dm_and_threads_the_reoffer(
        bot: Bot, routed: dict[str, Any]) -> None:
    dm, announcement, owner = routed["dm"], routed["announcement"], routed["owner"]
    clock = bot.service.clock
    assert isinstance(clock, ManualClock)
    clock.advance(minutes=46)
    [moved] = await bot.service.assignment.reassign_overdue()
    assert moved.changed
    await deliver(bot)

    # the DM and the announcement are updated by different outbox lanes, in either order
    [dm_update] = [c for c in bot.slack.calls_to("chat.update")
                   if (c.body["channel"], c.body["ts"]) == (dm.response["channel"], dm.response["ts"])]
    assert "was not accepted within the emea SLA" in str(dm_update.body["blocks"])
    # Accept and Pass are gone; Open lead stays
    assert [e["action_id"] for e in actions_of(dm_update.body["blocks"])] == ["lead_open_url"]
    note = posts(bot, owner)[-1]
    assert "was not accepted within the emea SLA" in note.body["text"]  # the rep is told, too

    replies = [c for c in posts(bot, "C0EMEA") if c.body.get("thread_ts") == announcement.response["ts"]]
    assert any(c.body["text"].startswith("Not accepted in time: now offered to") for c in replies)
    roots = [c for c in bot.slack.calls_to("chat.update") if c.body["ts"] == announcement.response["ts"]]
    assert roots and "not accepted in time by" in str(roots[-1].body["blocks"])


async def test_a_follow_up_whose_announcement_has_no_ts_is_a_plain_post(
        bot: Bot, routed: dict[str, Any]) -> None:
    async with bot.service.db.transaction() as connection:  # sent before results were kept
        await connection.execute(update(OutboxMessage).where(OutboxMessage.key.like("assignment:%:channel"))
                                 .values(result={}))
    await owe_channel_note(bot, "Lead L-1 needs a look.")
    await deliver(bot)
    note = posts(bot, "C0EMEA")[-1]
    assert note.body["text"] == "Lead L-1 needs a look." and "thread_ts" not in note.body


async def test_a_channel_note_about_a_lead_goes_in_its_thread_and_falls_back_when_it_is_gone(
        bot: Bot, routed: dict[str, Any]) -> None:
    root = routed["announcement"].response["ts"]
    await owe_channel_note(bot, "Lead L-1 was looked at.", key="note-1")
    await deliver(bot)
    assert posts(bot, "C0EMEA")[-1].body["thread_ts"] == root

    bot.slack.fail_next("chat.postMessage", status=200, error="thread_not_found")
    await owe_channel_note(bot, "Lead L-1 again.", key="note-2")
    await deliver(bot)
    refused, plain = bot.slack.calls_to("chat.postMessage")[-2:]
    assert refused.body["thread_ts"] == root and refused.status == 200 and not refused.response["ok"]
    assert plain.body["text"] == "Lead L-1 again." and "thread_ts" not in plain.body
    async with bot.service.db.transaction() as connection:
        result = (await connection.execute(select(OutboxMessage.result)
                                           .where(OutboxMessage.key == "note-2"))).scalar_one()
    assert result["ts"] == plain.response["ts"]


async def test_delivering_a_follow_up_twice_posts_it_twice_in_the_thread_and_nothing_else(
        bot: Bot, routed: dict[str, Any]) -> None:
    """A crash between the send and its record repeats the send: the same plan both times."""
    payload = MemberNote("Lead L-1 was looked at.", lead_card("L-1", LEAD)).payload() | {"channel": "C0EMEA"}
    first = await bot.runtime.deliver("channel", payload)
    second = await bot.runtime.deliver("channel", payload)
    replies = posts(bot, "C0EMEA")[-2:]
    assert [r.body["thread_ts"] for r in replies] == [routed["announcement"].response["ts"]] * 2
    assert first["ts"] != second["ts"]


async def owe_channel_note(bot: Bot, text: str, key: str = "note") -> None:
    row = outbox_row(key, MemberNote(text, lead_card("L-1", LEAD)), Recipient.channel("C0EMEA"), "L-1",
                     bot.service.clock.now())
    async with bot.service.db.transaction() as connection:
        await connection.execute(insert(OutboxMessage).values(**row))

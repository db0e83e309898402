"""The core's facts about a lead (moved on by the SLA, reassigned, out of SLA moves) are typed
events, and Slack words them exactly as the core's own sentences used to read.

The old sentences are written out here as the core wrote them into MemberNote / ManagersNote,
and every rendering of the new events (Slack's text and blocks, the log's line) must equal
the rendering of the old note: reps and managers see the same words, escaped the same way.
Then the real delivery loop and Slack runtime send them: a reassigned rep's offer DM is
closed with the words, and a managers' ask carries the card and buttons, never threaded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from slack_harness import MANAGER, Bot, deliver, posts
from sqlalchemy import insert, select, update

from bot.delivery.transports import plain_text
from bot.note_words import note_words
from bot.routing.admin.history import NeverInRotation
from bot.routing.clock import ManualClock
from bot.routing.events import (
    Event,
    ForManagers,
    ForMember,
    LeadMoved,
    LeadReassigned,
    ManagersNote,
    MemberNote,
    Recipient,
    SlaExhausted,
    lead_card,
)
from bot.routing.outbox import outbox_row
from bot.slack.admin_words import refusal
from bot.slack.messages import Extras, log_render, note_text, render
from bot.store.models import OutboxMessage, Team

HOSTILE = lead_card("L-*1*", {"name": "Ko <b> & *Ltd*", "company": "Acme_", "email": "a@b.co"})
PLAIN = lead_card("L-1", {"name": "Jane Doe"})
TEMPLATE = "https://crm.example.com/leads/{id}"


def before(event: Event) -> Event:
    """The note the core used to owe for this fact, its sentence as the core wrote it."""
    lead = event.lead if isinstance(event, ForMember | ForManagers) else None
    assert lead is not None
    lead_id = lead["id"]
    if isinstance(event, LeadMoved):
        where = f"it now goes to {event.now_with}" if event.now_with else "it is waiting for someone"
        return MemberNote(f"Lead {lead_id} was not accepted within the {event.queue} SLA, so {where}.", lead)
    if isinstance(event, LeadReassigned):
        return MemberNote(f"Lead {lead_id} was reassigned by a manager; it is now with {event.now_with}.",
                          lead)
    assert isinstance(event, SlaExhausted)
    where = (f"it is now with {event.now_with}, its last hop" if event.now_with
             else "it is waiting unassigned")
    return ManagersNote(f"Lead {lead_id} was not accepted after {event.offers} offers; {where}. "
                        "Please step in.", lead)


FACTS = [
    LeadMoved(HOSTILE, "emea <x>", "sla", "Bob *Bold* <@U1>"),
    LeadMoved(PLAIN, "emea", "sla", None),
    LeadReassigned(HOSTILE, "Carol & <Co>"),
    LeadReassigned(PLAIN, "Carol Nguyen"),
    SlaExhausted(HOSTILE, 3, "Dan `x`"),
    SlaExhausted(PLAIN, 2, None),
]
WAYS = [("dm", {"to": "U01ADA"}), ("channel", {"channel": "C0EMEA"})]


@pytest.mark.parametrize("event", FACTS, ids=lambda e: f"{e.kind.value}")
@pytest.mark.parametrize(("kind", "address"), WAYS, ids=["dm", "channel"])
def test_slack_shows_a_fact_exactly_as_the_core_s_sentence_read(
        event: Event, kind: str, address: dict[str, str]) -> None:
    for extras in (Extras(), Extras(lead_url=TEMPLATE), Extras(in_thread=True)):
        new = render(kind, event.payload() | address, extras)
        old = render(kind, before(event).payload() | address, extras)
        assert new == old
    assert log_render(kind, event.payload() | address) == log_render(kind, before(event).payload() | address)


@pytest.mark.parametrize("event", FACTS, ids=lambda e: f"{e.kind.value}")
def test_the_log_says_the_same_sentence_as_the_old_note(event: Event) -> None:
    assert plain_text(event.payload()) == plain_text(before(event).payload())


def test_the_sentences_word_for_word() -> None:
    assert note_words(LeadMoved(PLAIN, "emea", "sla", "Bob")) == (
        "Lead L-1 was not accepted within the emea SLA, so it now goes to Bob.")
    assert note_words(LeadMoved(PLAIN, "emea", "sla", None)) == (
        "Lead L-1 was not accepted within the emea SLA, so it is waiting for someone.")
    assert note_words(LeadMoved(PLAIN, "emea", "pass", "Bob")) == (
        "Lead L-1 moved on in emea, so it now goes to Bob.")  # a cause no note tells yet
    assert note_words(LeadReassigned(PLAIN, "Carol")) == (
        "Lead L-1 was reassigned by a manager; it is now with Carol.")
    assert note_words(SlaExhausted(PLAIN, 3, "Dan")) == (
        "Lead L-1 was not accepted after 3 offers; it is now with Dan, its last hop. Please step in.")
    assert note_words(SlaExhausted(PLAIN, 2, None)) == (
        "Lead L-1 was not accepted after 2 offers; it is waiting unassigned. Please step in.")


def test_the_managers_ask_carries_the_card_and_their_buttons() -> None:
    message = render("channel", SlaExhausted(PLAIN, 3, None).payload() | {"channel": "C0MGR"},
                     Extras(lead_url=TEMPLATE))
    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    assert actions["block_id"] == "reassign:L-1"
    assert [e["action_id"] for e in actions["elements"]] == ["lead_reassign_to", "lead_take", "lead_open_url"]


# Through the real delivery loop and Slack runtime.

LEAD = {"name": "Jane Doe", "company": "Acme Ltd", "email": "jane@acme.co.uk", "country": "GB"}
START = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # a Tuesday, inside everyone's hours in emea






async def routed(bot: Bot) -> tuple[str, Any, Any]:
    """L-1 offered in emea with its DM and announcement sent: (owner, the DM, the announcement)."""
    bot.service.clock = ManualClock(START)
    async with bot.service.db.transaction() as connection:
        settings = (await connection.execute(select(Team.settings))).scalar_one()
        await connection.execute(update(Team).values(settings={**settings, "lead_url": TEMPLATE}))
    outcome = await bot.service.assignment.route({"id": "L-1", **LEAD})
    assert outcome.assignee is not None
    await deliver(bot)
    owner = outcome.assignee.slack_id
    [dm] = posts(bot, owner)
    [announcement] = posts(bot, "C0EMEA")
    return owner, dm, announcement


async def test_a_reassigned_rep_is_told_and_their_offer_dm_is_closed_with_the_words(backend_bot: Bot) -> None:
    bot = backend_bot  # on SQLite and PostgreSQL
    owner, dm, _ = await routed(bot)
    members = {m["slack_id"]: m["name"] for m in (await bot.service.admin.export_config())["members"]}
    emea = next(q for q in (await bot.service.admin.export_config())["queues"] if q["name"] == "emea")
    target = next(m["slack_id"] for m in emea["members"] if m["slack_id"] != owner)
    await bot.service.assignment.reassign("L-1", target, actor=MANAGER)
    await deliver(bot)

    words = note_text(f"Lead L-1 was reassigned by a manager; it is now with {members[target]}.",
                      lead_card("L-1", LEAD))
    [closed] = [c for c in bot.slack.calls_to("chat.update") if c.body["ts"] == dm.response["ts"]]
    assert closed.body["text"] == words and words in str(closed.body["blocks"])
    assert [e["action_id"] for b in closed.body["blocks"] if b["type"] == "actions"
            for e in b["elements"]] == ["lead_open_url"]  # Accept and Pass are gone
    assert posts(bot, owner)[-1].body["text"] == words  # and the rep is told in a DM of its own


async def test_the_managers_ask_in_a_lead_s_channel_is_a_post_of_its_own(backend_bot: Bot) -> None:
    bot = backend_bot
    await routed(bot)
    ask = SlaExhausted(lead_card("L-1", LEAD), 3, None)
    row = outbox_row("ask", ask, Recipient.channel("C0EMEA"), "L-1", bot.service.clock.now())
    async with bot.service.db.transaction() as connection:
        await connection.execute(insert(OutboxMessage).values(**row))
    await deliver(bot)
    post = posts(bot, "C0EMEA")[-1]
    assert post.body["text"] == note_text(
        "Lead L-1 was not accepted after 3 offers; it is waiting unassigned. Please step in.", ask.lead)
    assert "thread_ts" not in post.body  # not buried in the announcement's thread
    assert any(b.get("block_id") == "reassign:L-1" for b in post.body["blocks"])


async def test_a_history_of_someone_never_there_names_them_as_a_mention(bot: Bot) -> None:
    stranger = "U77STRANGER"
    with pytest.raises(NeverInRotation) as refused:
        await bot.service.admin.history(stranger)
    assert refused.value.slack_id == stranger and "<@" not in str(refused.value)  # the core names no mention
    said = f"<@{stranger}> has never been in the rotation, so there is no history to show."
    assert refusal(refused.value) == said
    assert await bot.command("history", user=stranger) == said  # Slack names them its own way

"""The managers hear of a message given up on, but never of one that was for them.

A note about a failed note to the managers' channel would go the same way, so every kind told
to the managers (the plain note and the SLA's "please step in") is left out; a rep's DM is not.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.delivery.claims import GaveUp, failure_note
from bot.routing.events import LeadAssigned, ManagersNote, Recipient, SlaExhausted, lead_card
from bot.routing.outbox import Message, outbox_row

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CHANNEL = "C0MANAGERS"


def given_up(event: object, to: Recipient) -> GaveUp:
    row = outbox_row("k", event, to, "L-1", NOW)  # type: ignore[arg-type]
    return GaveUp(Message(7, row["key"], row["kind"], row["payload"], "L-1", 8, NOW), "Slack answered 500")


def test_a_failed_rep_dm_is_told_to_the_managers() -> None:
    event = LeadAssigned(assignment_id=1, cause="new", lead=lead_card("L-1", {}), queue="q", rule=None,
                         assignee={"slack_id": "U01", "name": "Ana"}, summary="s", sla_minutes=None,
                         offered_at=NOW.isoformat())
    note = failure_note(given_up(event, Recipient.dm("U01")), CHANNEL, NOW)
    assert note is not None and note["payload"]["channel"] == CHANNEL
    assert "could not be delivered after 8 attempt(s)" in note["payload"]["text"]


def test_no_note_about_a_failed_note_to_the_managers() -> None:
    for event in (ManagersNote("text", None),
                  SlaExhausted(lead=lead_card("L-1", {}), offers=3, now_with=None)):
        assert failure_note(given_up(event, Recipient.channel(CHANNEL)), CHANNEL, NOW) is None, event

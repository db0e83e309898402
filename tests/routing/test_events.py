"""The outbox's typed events: every kind reads back as what was written, and every kind is
shown somewhere (Slack renders its kinds from one table; the log has a line for all)."""

from __future__ import annotations

import dataclasses

import pytest

from bot.delivery.transports import plain_text
from bot.routing.events import (
    CRM,
    EVENT_TYPES,
    MANAGERS_KINDS,
    WEBHOOK,
    CrmOwner,
    Event,
    EventKind,
    ForManagers,
    ForMember,
    LeadAssigned,
    LeadMoved,
    LeadReassigned,
    LeadUnassigned,
    ManagersNote,
    MemberNote,
    Recipient,
    SlaExhausted,
    StatusPaused,
    UnknownEvent,
    Way,
    event_of,
    lead_card,
)
from bot.slack.messages import RENDERERS, render

CARD = lead_card("L-1", {"Name": "Ada", "company": "Analytical", "notes": "not shown"})
EXAMPLES: list[Event] = [
    LeadAssigned(assignment_id=7, cause="new", lead=CARD, queue="emea", rule="catch-all",
                 assignee={"slack_id": "U01ADA", "name": "Ada"}, summary="Ada was furthest behind.",
                 sla_minutes=30),
    LeadUnassigned(queue="emea", lead=CARD, reason="everyone is paused"),
    MemberNote("Lead L-1 moved on.", CARD),
    ManagersNote("Please step in."),
    StatusPaused(status_text="Vacation", status_emoji=":palm_tree:", until=None, text="You're paused."),
    CrmOwner(assignment_id=7, lead_id="L-1", slack_id="U01ADA"),
    LeadMoved(lead=CARD, queue="emea", cause="sla", now_with="Bob"),
    LeadReassigned(lead=CARD, now_with="Carol"),
    SlaExhausted(lead=CARD, offers=3, now_with=None),
]


def test_every_kind_has_one_class_and_an_example() -> None:
    assert set(EVENT_TYPES) == set(EventKind)
    assert {type(e).kind for e in EXAMPLES} == set(EventKind)


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.kind.value)
def test_a_stored_event_reads_back_as_written(event: Event) -> None:
    stored = event.payload() | Recipient.dm("U01ADA").address_fields()
    assert stored["event"] == event.kind.value
    assert event_of(stored) == event


def test_the_lead_card_keeps_the_shown_fields_whatever_their_case() -> None:
    assert CARD == {"id": "L-1", "name": "Ada", "company": "Analytical"}


def test_an_absent_lead_is_left_out_but_a_missing_rule_is_written_as_null() -> None:
    assert "lead" not in ManagersNote("x").payload()
    assigned = dataclasses.replace(EXAMPLES[0], rule=None).payload()
    assert assigned["rule"] is None and "fields" not in assigned  # the webhook's shape, as before


def test_the_webhook_copy_carries_every_field() -> None:
    assert isinstance(EXAMPLES[0], LeadAssigned)
    copy = dataclasses.replace(EXAMPLES[0], fields={"id": "L-1", "notes": "kept"}).payload()
    assert copy["fields"] == {"id": "L-1", "notes": "kept"} and copy["assignee"]["slack_id"] == "U01ADA"


def test_recipients_name_the_way_and_the_address() -> None:
    assert Recipient.dm("U1").address_fields() == {"to": "U1"}
    assert Recipient.channel("C1").address_fields() == {"channel": "C1"}
    assert WEBHOOK.address_fields() == {} and CRM.way is Way.CRM


@pytest.mark.parametrize("payload", [{"event": "lead_teleported"}, {}, {"event": "member_note"}])
def test_a_payload_no_class_reads_is_refused_in_words(payload: dict[str, object]) -> None:
    with pytest.raises(UnknownEvent):
        event_of(payload)


def test_slack_renders_every_kind_but_the_crm_owner() -> None:
    assert set(RENDERERS) == set(EventKind) - {EventKind.CRM_OWNER}
    for event in EXAMPLES:
        if event.kind in RENDERERS:
            message = render("dm", event.payload() | {"to": "U01ADA"})
            assert message["channel"] == "U01ADA" and message["text"]


def test_slack_refuses_an_event_it_does_not_show() -> None:
    with pytest.raises(ValueError, match="crm_owner"):
        render("dm", next(e for e in EXAMPLES if isinstance(e, CrmOwner)).payload() | {"to": "U01ADA"})


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.kind.value)
def test_the_log_has_words_for_every_kind(event: Event) -> None:
    line = plain_text(event.payload())
    assert line and not line.startswith("{")  # words, not the JSON fallback


def test_the_facts_about_a_lead_are_stored_as_facts_not_sentences() -> None:
    moved, reassigned, exhausted = EXAMPLES[-3:]
    assert moved.payload() == {"event": "lead_moved", "lead": CARD, "queue": "emea", "cause": "sla",
                               "now_with": "Bob"}
    assert reassigned.payload() == {"event": "lead_reassigned", "lead": CARD, "now_with": "Carol"}
    assert exhausted.payload() == {"event": "sla_exhausted", "lead": CARD, "offers": 3, "now_with": None}


def test_the_notes_in_words_keep_their_stored_shape() -> None:
    assert MemberNote("Lead L-1 moved on.", CARD).payload() == {
        "event": "member_note", "text": "Lead L-1 moved on.", "lead": CARD}
    assert ManagersNote("Please step in.").payload() == {"event": "managers_note", "text": "Please step in."}


def test_each_note_says_whom_it_is_for() -> None:
    """Slack threads a member's note under the lead's post and closes the rep's offer with it; a
    managers' note is a post of its own with their buttons (`bot.slack.delivery_plan`)."""
    for_member = {type(e) for e in EXAMPLES if isinstance(e, ForMember)}
    for_managers = {type(e) for e in EXAMPLES if isinstance(e, ForManagers)}
    assert for_member == {MemberNote, LeadMoved, LeadReassigned}
    assert for_managers == {ManagersNote, SlaExhausted}


def test_the_managers_kinds_are_the_notes_for_managers() -> None:
    assert {EventKind.MANAGERS_NOTE, EventKind.SLA_EXHAUSTED} == MANAGERS_KINDS

"""What the core tells the outside world, as typed events: one dataclass per kind of event.

A change owes events to recipients (`Outbox.owe(key, event, to)`); the delivery loop sends
each row through the transport its recipient names, and the Slack side renders it from a
table keyed by `EventKind`. An event is stored as a JSON payload, `{"event": kind, ...its
fields}` plus the recipient's address (`to` or `channel`): that payload is also what the
webhook receives, so its shape is part of the contract and these classes only name it.

Facts about a lead (`LeadNote`: moved on, reassigned, out of SLA moves) are stored as facts
and worded by the front ends (`bot.note_words`); `MemberNote` and `ManagersNote` carry words a
front end already wrote (a calendar feed's failure, a parked source, a delivery given up on).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

# Lead fields a rep needs to see first; the rest stay in the lead record.
SHOWN_FIELDS = ("name", "company", "email", "phone", "country", "source", "url")

LeadCard = dict[str, Any]  # the lead's id and its SHOWN_FIELDS, as given


def lead_card(lead_id: str, fields: dict[str, Any]) -> LeadCard:
    card: LeadCard = {"id": lead_id}
    lowered = {key.lower(): value for key, value in fields.items()}
    for key in SHOWN_FIELDS:
        value = lowered.get(key)
        if value not in (None, ""):
            card[key] = value
    return card


class EventKind(StrEnum):
    LEAD_ASSIGNED = "lead_assigned"
    LEAD_UNASSIGNED = "lead_unassigned"
    MEMBER_NOTE = "member_note"
    MANAGERS_NOTE = "managers_note"
    STATUS_PAUSED = "status_paused"
    CRM_OWNER = "crm_owner"
    LEAD_MOVED = "lead_moved"
    LEAD_REASSIGNED = "lead_reassigned"
    SLA_EXHAUSTED = "sla_exhausted"


class Cause(StrEnum):
    """Why a lead was offered to someone (an assignment's `cause`)."""

    NEW = "new"
    PASS = "pass"  # the previous rep passed it on
    SLA = "sla"  # the previous rep did not accept it in time
    PENDING = "pending"  # it waited for someone available
    REASSIGN = "reassign"  # a manager gave it to this rep ("Take it" included)


class Way(StrEnum):
    """How a message travels: the outbox row's `kind`, which picks the transport."""

    DM = "dm"
    CHANNEL = "channel"
    WEBHOOK = "webhook"
    CRM = "crm"


@dataclass(frozen=True, slots=True)
class Recipient:
    way: Way
    address: str | None = None  # the member (a DM) or the channel; None for the webhook and CRM

    @classmethod
    def dm(cls, slack_id: str) -> Recipient:
        return cls(Way.DM, slack_id)

    @classmethod
    def channel(cls, channel: str) -> Recipient:
        return cls(Way.CHANNEL, channel)

    def address_fields(self) -> dict[str, str]:
        if self.address is None:
            return {}
        return {"to": self.address} if self.way is Way.DM else {"channel": self.address}


def address_of(payload: dict[str, Any]) -> str | None:
    """The member or channel a stored payload is addressed to (`Recipient.address_fields`
    read back); None for the webhook and the CRM."""
    address = payload.get("to") or payload.get("channel")
    return address if isinstance(address, str) and address else None


WEBHOOK = Recipient(Way.WEBHOOK)
CRM = Recipient(Way.CRM)


LEFT_OUT_WHEN_ABSENT = frozenset({"lead", "fields", "offered_at"})


@dataclass(frozen=True, slots=True)
class Event:
    kind: ClassVar[EventKind]

    def payload(self) -> dict[str, Any]:
        """The JSON stored (and sent to the webhook): the kind, then every field (an absent
        lead or field list is left out rather than written as null)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {"event": self.kind.value,
                **{k: v for k, v in fields.items() if v is not None or k not in LEFT_OUT_WHEN_ABSENT}}


@dataclass(frozen=True, slots=True)
class LeadAssigned(Event):
    """A lead offered to a member: new, passed on, moved by the SLA, waiting, or reassigned."""

    kind: ClassVar[EventKind] = EventKind.LEAD_ASSIGNED
    assignment_id: int
    cause: str  # a Cause
    lead: LeadCard
    queue: str
    rule: str | None
    assignee: dict[str, str]  # {"slack_id", "name"}
    summary: str
    sla_minutes: int | None = None
    fields: dict[str, Any] | None = None  # every lead field: for the webhook only
    offered_at: str | None = None  # ISO: when the offer was made (the SLA deadline counts from it)


@dataclass(frozen=True, slots=True)
class LeadUnassigned(Event):
    """Nobody could take a lead; it waits in `queue` until someone can."""

    kind: ClassVar[EventKind] = EventKind.LEAD_UNASSIGNED
    queue: str
    lead: LeadCard
    reason: str | None


class ForMember(Event):
    """A note for a member (their DM) or a queue's channel. About a lead (`lead` set), it is a
    follow-up: Slack threads it under the lead's post, and in a rep's DM it closes their offer
    (the buttons go, the note's words take their place)."""

    __slots__ = ()
    lead: LeadCard | None


class ForManagers(Event):
    """A note for the managers (their channel, each manager's DM). About a lead, Slack shows
    the card and the buttons to act on it; it is never threaded."""

    __slots__ = ()
    lead: LeadCard | None


@dataclass(frozen=True, slots=True)
class MemberNote(ForMember):
    """Something a member (or a queue's channel) should know, in a front end's own words."""

    kind: ClassVar[EventKind] = EventKind.MEMBER_NOTE
    text: str
    lead: LeadCard | None = None


@dataclass(frozen=True, slots=True)
class ManagersNote(ForManagers):
    """Something the managers should know, in a front end's own words, about a lead or not."""

    kind: ClassVar[EventKind] = EventKind.MANAGERS_NOTE
    text: str
    lead: LeadCard | None = None


@dataclass(frozen=True, slots=True)
class LeadMoved(ForMember):
    """A lead moved on from the rep it was offered to (`cause`: a Cause, today only "sla",
    not accepted within `queue`'s SLA): to the rep and the queue's channel. `now_with` is the
    name of whoever has it now, None while it waits for someone."""

    kind: ClassVar[EventKind] = EventKind.LEAD_MOVED
    lead: LeadCard
    queue: str
    cause: str
    now_with: str | None


@dataclass(frozen=True, slots=True)
class LeadReassigned(ForMember):
    """A manager gave the rep's lead to someone else (named `now_with`): to that rep, whose
    offer's buttons no longer work."""

    kind: ClassVar[EventKind] = EventKind.LEAD_REASSIGNED
    lead: LeadCard
    now_with: str


@dataclass(frozen=True, slots=True)
class SlaExhausted(ForManagers):
    """A lead missed its SLA on the last move `sla.max_hops` allows (after `offers` offers): it
    stays with `now_with` (a name) or, None, waits unassigned; the managers should step in."""

    kind: ClassVar[EventKind] = EventKind.SLA_EXHAUSTED
    lead: LeadCard
    offers: int
    now_with: str | None


LeadNote = LeadMoved | LeadReassigned | SlaExhausted  # facts about a lead that a front end words


@dataclass(frozen=True, slots=True)
class StatusPaused(Event):
    """A member's Slack status paused them (the DM offers to keep receiving leads)."""

    kind: ClassVar[EventKind] = EventKind.STATUS_PAUSED
    status_text: str
    status_emoji: str
    until: str | None  # ISO time the status expires, None for "until cleared"
    text: str


@dataclass(frozen=True, slots=True)
class CrmOwner(Event):
    """Set the lead's CRM record owner to the member of this assignment (the CRM transport
    reads the record id, the member's email and CRM owner id when it sends)."""

    kind: ClassVar[EventKind] = EventKind.CRM_OWNER
    assignment_id: int
    lead_id: str
    slack_id: str


EVENT_TYPES: dict[EventKind, type[Event]] = {
    cls.kind: cls for cls in (LeadAssigned, LeadUnassigned, MemberNote, ManagersNote, StatusPaused, CrmOwner,
                              LeadMoved, LeadReassigned, SlaExhausted)
}
# The kinds told to the managers: a failed one is not reported to the managers again.
MANAGERS_KINDS = frozenset(kind for kind, cls in EVENT_TYPES.items() if issubclass(cls, ForManagers))


class UnknownEvent(ValueError):
    """A stored payload no event class reads (a row written by a newer version, or by hand)."""


def event_of(payload: dict[str, Any]) -> Event:
    """The typed event a stored payload holds (its address keys aside)."""
    try:
        cls = EVENT_TYPES[EventKind(str(payload.get("event")))]
    except ValueError:
        raise UnknownEvent(f"unknown outbox event {payload.get('event')!r}") from None
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in payload.items() if k in names})
    except TypeError as error:
        raise UnknownEvent(f"a {cls.kind.value} event without its fields: {error}") from None

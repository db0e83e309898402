"""What a message about a lead needs to know before it is sent, read in one short transaction.

Why at send time: the core owes a follow-up ("not accepted in time, now with Bob") without
knowing where Slack put the first message; the runtime finds it here, from the outbox's
stored results, so the follow-up goes in the announcement's thread and the first rep's DM
can be updated. Nothing here writes: a message sent twice (a crash between the send and
its record) is planned the same way twice, and anything not found means a plain post.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import Connection, select

from bot.routing.events import Cause, Event, ForManagers, ForMember, LeadAssigned, LeadUnassigned, Way
from bot.routing.team import TEAM_ID
from bot.slack import sent_messages
from bot.slack.sent_messages import Posted
from bot.store.models import Assignment, Member, Team


@dataclass(frozen=True, slots=True)
class Plan:
    """How to send one message: the team's Open lead template, the thread to post in (a
    channel's), the rep's offer DM to update first (a note that their offer ended: the note
    itself is still a DM of its own, so the rep is told), and the payload (with the offer's
    time filled in)."""

    payload: dict[str, Any]
    lead_url: str | None = None
    thread: Posted | None = None
    dm_to_update: Posted | None = None
    zone: str = "UTC"  # the rep's timezone, for the words a date falls back to

    @property
    def lead_id(self) -> str | None:
        lead = self.payload.get("lead")
        return str(lead["id"]) if isinstance(lead, dict) and lead.get("id") else None


def lead_url_template(connection: Connection) -> str | None:
    """The config's `lead_url` (e.g. `https://crm.example.com/leads/{id}`), when set."""
    settings = connection.execute(select(Team.settings).where(Team.id == TEAM_ID)).scalar()
    template = (settings or {}).get("lead_url") if isinstance(settings, dict) else None
    return template if isinstance(template, str) and template else None


def offered_at(connection: Connection, assignment_id: int) -> str | None:
    moment = connection.execute(select(Assignment.assigned_at).where(Assignment.id == assignment_id)).scalar()
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def member_zone(connection: Connection, slack_id: str) -> str:
    zone = connection.execute(select(Member.timezone).where(Member.slack_id == slack_id)).scalar()
    return zone if isinstance(zone, str) and zone else "UTC"


class Remembered:
    """The team's `lead_url` and members' timezones, kept for a few seconds: every message
    about a lead needs them, and a burst must not read the team row once per message."""

    TTL_SECONDS = 10.0

    def __init__(self) -> None:
        self._template: tuple[float, str | None] | None = None
        self._zones: dict[str, tuple[float, str]] = {}

    def template(self, connection: Connection) -> str | None:
        now = time.monotonic()
        if self._template is None or self._template[0] < now:
            self._template = (now + self.TTL_SECONDS, lead_url_template(connection))
        return self._template[1]

    def known(self, slack_id: str) -> tuple[str | None, str] | None:
        """The template and the member's zone, when both are still remembered."""
        now = time.monotonic()
        kept = self._zones.get(slack_id)
        if self._template is None or self._template[0] < now or kept is None or kept[0] < now:
            return None
        return self._template[1], kept[1]

    def zone(self, connection: Connection, slack_id: str) -> str:
        now = time.monotonic()
        kept = self._zones.get(slack_id)
        if kept is None or kept[0] < now:
            if len(self._zones) > 10_000:
                self._zones.clear()
            kept = self._zones[slack_id] = (now + self.TTL_SECONDS, member_zone(connection, slack_id))
        return kept[1]


def needs_plan(event: Event) -> bool:
    """Only messages about a lead look anything up; the rest are sent as rendered."""
    return isinstance(event, LeadAssigned | LeadUnassigned) or (
        isinstance(event, ForMember | ForManagers) and bool(event.lead))


def plan_at_once(payload: dict[str, Any], event: Event, remembered: Remembered) -> Plan | None:
    """A new lead's offer (its DM, its first channel post) needs nothing from the database once
    the template and the rep's zone are remembered: the plan, or None when a lookup is needed."""
    if not (isinstance(event, LeadAssigned) and event.cause == Cause.NEW and event.offered_at):
        return None
    known = remembered.known(str(event.assignee.get("slack_id", "")))
    if known is None:
        return None
    template, zone = known
    return Plan(payload, template, zone=zone)


def plan(connection: Connection, kind: str, payload: dict[str, Any], event: Event,
         remembered: Remembered | None = None) -> Plan:
    """Read what sending `payload` needs (see the module's doc)."""
    remembered = remembered or Remembered()
    template = remembered.template(connection)
    zone = "UTC"
    if isinstance(event, LeadAssigned):
        zone = remembered.zone(connection, str(event.assignee.get("slack_id", "")))
        if not event.offered_at:
            found = offered_at(connection, event.assignment_id)
            if found:
                payload = payload | {"offered_at": found}
    lead = getattr(event, "lead", None) or {}
    lead_id = str(lead.get("id", "")) if isinstance(lead, dict) else ""
    if not lead_id:
        return Plan(payload, template, zone=zone)
    first_offer = isinstance(event, LeadAssigned) and event.cause == Cause.NEW
    if kind == Way.CHANNEL and not isinstance(event, ForManagers) and not first_offer:
        channel = str(payload.get("channel", ""))
        root = sent_messages.thread_root(connection, lead_id, channel)
        return Plan(payload, template, thread=root, zone=zone)
    if kind == Way.DM and isinstance(event, ForMember):
        dm = sent_messages.lead_dm(connection, lead_id, str(payload.get("to", "")))
        return Plan(payload, template, dm_to_update=dm)
    return Plan(payload, template, zone=zone)

"""A member's history: the audit trail of what was done to their place in the rotation,
newest first, a page at a time.

Why the trail and not the tables: the tables hold what is true now; the trail holds every
act with who did it, when and why (`bot.routing.audit` writes it in the act's own
transaction). A page is read by keyset on the trail's id, so paging stays cheap and a new
act never shifts the pages already shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from bot.routing.errors import NotFound
from bot.routing.results import MemberRef
from bot.store.models import AuditEvent, Member, Queue

PAGE = 10
MAX_PAGE = 50

# What the history shows: acts on the member's availability and seats. Leads' own steps
# (accept, pass, sla) are the lead's history (`/rotation why`), not the member's.
ACTIONS = (
    "calibrate", "adjustment", "pause", "resume", "leave_add", "leave_cancel", "status_pause",
    "status_clear", "status_ignore", "queue_add", "queue_remove", "person_add", "person_update",
    "person_remove", "timezone", "calendar_set", "calendar_clear",
)


class NeverInRotation(NotFound):
    """The history of someone who was never in the rotation (a front end names them its own way)."""

    def __init__(self, slack_id: str) -> None:
        super().__init__(f"{slack_id} has never been in the rotation, so there is no history to show.")
        self.slack_id = slack_id


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One act. `details` holds what the act recorded (a pause's `until`, a leave's days,
    a calibration's weight, an add's queues), as stored."""

    id: int
    at: datetime
    actor: str
    action: str
    queue: str | None = None
    note: str | None = None
    delta: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    member: MemberRef
    entries: tuple[HistoryEntry, ...]
    older: int | None  # pass as `before` for the next (older) page; None: this is the last


def member_history(connection: Connection, slack_id: str, *, before: int | None = None,
                   limit: int = PAGE) -> HistoryPage:
    """The member's acts older than `before` (an entry id), newest first, up to `limit`."""
    member = connection.execute(select(Member.id, Member.name).where(Member.slack_id == slack_id)).first()
    if member is None:
        raise NeverInRotation(slack_id)
    limit = max(1, min(limit, MAX_PAGE))
    entries: list[HistoryEntry] = []
    cursor = before
    while len(entries) <= limit:
        query = (
            select(AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action, Queue.name,
                   AuditEvent.note, AuditEvent.delta, AuditEvent.details)
            .outerjoin(Queue, Queue.id == AuditEvent.queue_id)
            .where(AuditEvent.member_id == member.id, AuditEvent.action.in_(ACTIONS))
            .order_by(AuditEvent.id.desc())
            .limit(limit * 2)
        )
        if cursor is not None:
            query = query.where(AuditEvent.id < cursor)
        rows = connection.execute(query).all()
        for row in rows:
            if _shown(row.action, row.details or {}):
                entries.append(HistoryEntry(row.id, row.at, row.actor, row.action, row.name, row.note,
                                            row.delta, dict(row.details or {})))
        if len(rows) < limit * 2:
            break
        cursor = rows[-1].id
    page = entries[:limit]
    older = page[-1].id if len(entries) > limit else None
    return HistoryPage(MemberRef(slack_id, member.name), tuple(page), older)


def _shown(action: str, details: dict[str, Any]) -> bool:
    """A calibration that only adjusted is shown once, as its adjustment (which has the note)."""
    if action != "calibrate":
        return True
    return bool(details.get("weight")) or details.get("active") is not None

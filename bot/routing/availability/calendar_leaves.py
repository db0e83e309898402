"""Leave that comes from a member's calendar feed, kept in step with the feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, update

from bot.routing import audit
from bot.routing.availability.time_off import add_leave, member_zone, require_member
from bot.routing.errors import InvalidChange
from bot.routing.team import TeamSettings
from bot.store.models import Leave, Member, table_of


@dataclass(frozen=True, slots=True)
class CalendarAbsence:
    uid: str
    starts_on: date
    ends_on: date
    title: str


def set_calendar(connection: Connection, slack_id: str, url: str | None, now: datetime, actor: str) -> None:
    member = require_member(connection, slack_id)
    connection.execute(update(Member).where(Member.id == member.id).values(calendar_url=url, updated_at=now))
    audit.record(connection, now, actor, "calendar_set" if url else "calendar_clear", member_id=member.id)


def calendars(connection: Connection) -> list[tuple[str, str]]:
    rows = connection.execute(
        select(Member.slack_id, Member.calendar_url).where(
            Member.calendar_url.is_not(None), Member.in_config.is_(True)
        )
    )
    return [(r.slack_id, r.calendar_url) for r in rows]


def sync_calendar(
    connection: Connection, team: TeamSettings, slack_id: str, absences: list[CalendarAbsence], now: datetime
) -> dict[str, int]:
    """Add new absences, cancel ones that left the feed; leave typed by hand is untouched."""
    member = require_member(connection, slack_id)
    existing = {
        row.external_id: row
        for row in (
            connection.execute(
                select(table_of(Leave)).where(
                    Leave.member_id == member.id,
                    Leave.source == "calendar",
                    Leave.cancelled_at.is_(None),
                    Leave.resume_at > now,
                )
            )
        ).all()
    }
    today = now.astimezone(ZoneInfo(member_zone(member, team))).date()  # the member's today, not UTC's
    wanted = {f"{a.uid}@{a.starts_on.isoformat()}": a for a in absences if a.ends_on >= today}
    added = cancelled = skipped = 0
    for key, row in existing.items():
        gone = key not in wanted
        moved = not gone and (wanted[key].starts_on, wanted[key].ends_on) != (row.starts_on, row.ends_on)
        if gone or moved:
            connection.execute(update(Leave).where(Leave.id == row.id).values(cancelled_at=now))
            cancelled += 1
    for key, absence in wanted.items():
        held = existing.get(key)
        if held is not None and (absence.starts_on, absence.ends_on) == (held.starts_on, held.ends_on):
            continue
        declined = connection.execute(
            select(Leave.id).where(
                Leave.member_id == member.id,
                Leave.external_id == key,
                Leave.cancelled_at.is_not(None),
                Leave.created_by == "calendar",
                Leave.starts_on == absence.starts_on,
                Leave.ends_on == absence.ends_on,
            )
        ).first()
        if declined is not None and held is None and _cancelled_by_member(connection, declined.id):
            continue  # the member cancelled this one by hand; the feed does not bring it back
        overlapping = (
            connection.execute(
                select(Leave.id).where(
                    Leave.member_id == member.id,
                    Leave.cancelled_at.is_(None),
                    Leave.source != "calendar",
                    Leave.starts_on <= absence.ends_on,
                    Leave.ends_on >= absence.starts_on,
                )
            )
        ).first()
        if overlapping is not None:
            continue  # already on leave by hand for these days
        try:
            add_leave(
                connection,
                team,
                slack_id,
                now,
                starts_on=absence.starts_on,
                ends_on=absence.ends_on,
                actor="calendar",
                source="calendar",
                external_id=key,
                note=_storable(absence.title)[:500],
            )
        except InvalidChange:  # an absence no leave can be (dated past 2100): the others still count
            skipped += 1
            continue
        added += 1
    return {"added": added, "cancelled": cancelled, "skipped": skipped}


def _storable(text: str) -> str:
    """A feed's event title as text every database stores: no NUL, no half surrogate pair."""
    return text.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8")


def _cancelled_by_member(connection: Connection, leave_id: int) -> bool:
    """Whether a person (not the feed sync) cancelled this calendar leave."""
    from bot.store.models import AuditEvent

    rows = connection.execute(select(AuditEvent.details).where(AuditEvent.action == "leave_cancel"))
    return any(leave_id in (details or {}).get("leave_ids", []) for (details,) in rows)

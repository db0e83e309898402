"""A member's own availability: pause, resume, scheduled leave. Every change is audited."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select, update

from bot.routing import audit
from bot.routing.availability.eligibility import short_time
from bot.routing.availability.timezones import is_timezone
from bot.routing.errors import (
    AlreadyPaused,
    InvalidChange,
    LeaveOverlaps,
    NoSuchLeave,
    NotFound,
    NotPaused,
    OnLeave,
)
from bot.routing.results import LeaveView, Paused, Resumed
from bot.routing.rules.lead_fields import storable
from bot.routing.team import TeamSettings
from bot.store.models import Leave, Member, table_of

LAST_DATE = date(2100, 12, 31)  # further dates are typos (9999-12-31), and overflow a day's arithmetic
MAX_LEAVE_DAYS = 366
MAX_NOTE = 500  # the pause reason's and the leave note's columns


def check_text(text: str | None, what: str, limit: int = MAX_NOTE, field: str | None = None) -> None:
    """A reason or note every database keeps as given: no NUL, no half surrogate, not too long."""
    if text is None:
        return
    if not storable(text):
        raise InvalidChange(f"The {what} contains a character that cannot be stored (a NUL or a broken "
                            "emoji); nothing was changed.", field=field)
    if len(text) > limit:
        raise InvalidChange(f"The {what} is longer than {limit} characters; nothing was changed.",
                            field=field)


def check_date(day: date, what: str, field: str | None = None) -> None:
    if day > LAST_DATE:
        raise InvalidChange(f"{day.isoformat()} is too far ahead for the {what}: give a date before "
                            f"{LAST_DATE.year + 1}. Nothing was changed.", field=field)


def require_member(connection: Connection, slack_id: str) -> Any:
    member = (connection.execute(select(table_of(Member)).where(Member.slack_id == slack_id))).first()
    if member is None or not member.in_config:
        raise NotFound("You are not in the lead rotation. Ask a manager to add you to the routing config.")
    return member


def slack_ids_named(connection: Connection, word: str) -> list[str]:
    """Members whose full or first name is `word` (ignoring case and a leading @).

    For a manager who types `/rotation calibrate @alice` where Slack left the mention
    as plain text instead of turning it into a user ID.
    """
    wanted = word.lstrip("@").casefold()
    rows = connection.execute(select(Member.slack_id, Member.name).where(Member.in_config.is_(True)))
    return [
        slack_id
        for slack_id, name in rows
        if wanted and wanted in (name.casefold(), name.split()[0].casefold() if name.split() else "")
    ]


def member_zone(member: Any, team: TeamSettings) -> str:
    return member.timezone or team.timezone


def local_midnight(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone))


def pause(
    connection: Connection,
    team: TeamSettings,
    slack_id: str,
    now: datetime,
    *,
    until: date | None,
    reason: str | None,
    actor: str,
) -> Paused:
    check_text(reason, "reason")
    if until is not None:
        check_date(until, "end of the pause")
    member = require_member(connection, slack_id)
    zone = member_zone(member, team)
    until_at = None
    if until is not None:
        today = now.astimezone(ZoneInfo(zone)).date()
        if until <= today:
            raise InvalidChange(
                f"{until.isoformat()} is not in the future; give a date after "
                f"{today.isoformat()}, or no date to pause until you resume."
            )
        until_at = local_midnight(until, zone)
    paused = member.paused_at is not None and (member.paused_until is None or now < member.paused_until)
    if paused and until_at == member.paused_until:
        already = f" until {short_time(member.paused_until, zone)}" if member.paused_until else ""
        raise AlreadyPaused(f"You are already paused{already}.")
    # Paused already with another end: the pause is extended or shortened, from when it began.
    connection.execute(
        update(Member)
        .where(Member.id == member.id)
        .values(paused_at=member.paused_at if paused else now, paused_until=until_at,
                pause_reason=reason or (member.pause_reason if paused else None), updated_at=now)
    )
    audit.record(
        connection,
        now,
        actor,
        "pause",
        member_id=member.id,
        note=reason,
        details={"until": until.isoformat() if until else None, "changed": paused},
    )
    return Paused(until=until, zone=zone, extended=paused)


def resume(
    connection: Connection, team: TeamSettings, slack_id: str, now: datetime, *, actor: str
) -> Resumed:
    member = require_member(connection, slack_id)
    paused = member.paused_at is not None and (member.paused_until is None or now < member.paused_until)
    status_paused = member.status_paused_until is not None and now < member.status_paused_until
    if not paused and not status_paused:
        leave = _leave_under_way(connection, member.id, now)
        if leave is not None:
            raise OnLeave(
                f"You are on leave until {short_time(leave, member_zone(member, team))}, so no leads come "
                "to you until then; resuming does not end a leave.")
        raise NotPaused("You are not paused, so there is nothing to resume: you're receiving leads.")
    override = member.status_override
    if status_paused and override and override.startswith("paused:"):
        override = "ignore:" + override.removeprefix("paused:")  # resuming overrides that status
    connection.execute(
        update(Member)
        .where(Member.id == member.id)
        .values(
            paused_at=None,
            paused_until=None,
            pause_reason=None,
            status_paused_until=None,
            status_override=override,
            updated_at=now,
        )
    )
    audit.record(connection, now, actor, "resume", member_id=member.id)
    return Resumed(from_status=status_paused and not paused)


def _leave_under_way(connection: Connection, member_id: int, now: datetime) -> datetime | None:
    """When the leave the member is on now ends (its resume moment), or None."""
    ends: datetime | None = connection.execute(
        select(Leave.resume_at).where(
            Leave.member_id == member_id, Leave.cancelled_at.is_(None),
            Leave.pause_from <= now, Leave.resume_at > now)
        .order_by(Leave.resume_at.desc()).limit(1)
    ).scalar()
    return ends


def leave_window(starts_on: date, ends_on: date, zone: str, team: TeamSettings) -> tuple[datetime, datetime]:
    """The handbook's timing: long leave pauses a few days early; back on the return day."""
    days = (ends_on - starts_on).days + 1
    lead_days = team.pause_days_before if days > team.long_leave_days else 0
    return (
        local_midnight(starts_on - timedelta(days=lead_days), zone),
        local_midnight(ends_on + timedelta(days=1), zone),
    )


def add_leave(
    connection: Connection,
    team: TeamSettings,
    slack_id: str,
    now: datetime,
    *,
    starts_on: date,
    ends_on: date,
    actor: str,
    source: str = "command",
    external_id: str | None = None,
    note: str | None = None,
) -> LeaveView:
    check_text(note, "note")
    check_text(external_id, "calendar event id")
    check_date(starts_on, "start of the leave", "starts_on")
    check_date(ends_on, "end of the leave", "ends_on")
    if source != "calendar" and (ends_on - starts_on).days + 1 > MAX_LEAVE_DAYS:  # typed, not a feed's
        raise InvalidChange(f"A leave can be at most {MAX_LEAVE_DAYS} days long; split a longer one, or "
                            "ask a manager to take you out of the rotation. Nothing was changed.", "ends_on")
    member = require_member(connection, slack_id)
    zone = member_zone(member, team)
    if ends_on < starts_on:
        raise InvalidChange(
            f"The leave ends ({ends_on.isoformat()}) before it starts ({starts_on.isoformat()})."
        )
    today = now.astimezone(ZoneInfo(zone)).date()
    if ends_on < today:
        raise InvalidChange(f"That leave is over already ({ends_on.isoformat()} is in the past).")
    for other in leaves(connection, member.id, now):
        if other.starts_on <= ends_on and starts_on <= other.ends_on:
            raise LeaveOverlaps(
                f"That overlaps your leave {other.starts_on.isoformat()} to "
                f"{other.ends_on.isoformat()}; cancel that one first."
            )
    pause_from, resume_at = leave_window(starts_on, ends_on, zone, team)
    leave_id = (
        connection.execute(
            insert(Leave)
            .values(
                member_id=member.id,
                starts_on=starts_on,
                ends_on=ends_on,
                pause_from=pause_from,
                resume_at=resume_at,
                source=source,
                external_id=external_id,
                note=note,
                created_by=actor,
                created_at=now,
            )
            .returning(Leave.id)
        )
    ).scalar_one()
    audit.record(
        connection,
        now,
        actor,
        "leave_add",
        member_id=member.id,
        note=note,
        details={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat(), "source": source},
    )
    return LeaveView(leave_id, starts_on, ends_on, pause_from, resume_at, source)


def leaves(connection: Connection, member_id: int, now: datetime) -> list[LeaveView]:
    rows = (
        connection.execute(
            select(table_of(Leave))
            .where(Leave.member_id == member_id, Leave.cancelled_at.is_(None), Leave.resume_at > now)
            .order_by(Leave.starts_on)
        )
    ).all()
    return [LeaveView(r.id, r.starts_on, r.ends_on, r.pause_from, r.resume_at, r.source) for r in rows]


def cancel_leave(
    connection: Connection, slack_id: str, now: datetime, *, actor: str, leave_id: int | None = None
) -> list[LeaveView]:
    member = require_member(connection, slack_id)
    upcoming = leaves(connection, member.id, now)
    chosen = [leave for leave in upcoming if leave_id is None or leave.id == leave_id]
    if not chosen and leave_id is not None and upcoming:
        raise NoSuchLeave(f"You have no leave #{leave_id}.")
    if not chosen:
        raise InvalidChange("You have no upcoming leave to cancel.")
    connection.execute(
        update(Leave).where(Leave.id.in_([leave.id for leave in chosen])).values(cancelled_at=now)
    )
    audit.record(
        connection,
        now,
        actor,
        "leave_cancel",
        member_id=member.id,
        details={"leave_ids": [leave.id for leave in chosen]},
    )
    return chosen


def set_timezone(
    connection: Connection,
    slack_id: str,
    timezone: str,
    now: datetime,
    *,
    actor: str,
    only_if_unset: bool = True,
) -> bool:
    """Take a member's timezone from their Slack profile when the config gave none."""
    if not is_timezone(timezone):
        raise InvalidChange(f"{timezone[:80]!r} is not a timezone name like Europe/London.")
    member = require_member(connection, slack_id)
    if member.timezone == timezone or (only_if_unset and member.timezone):
        return False
    connection.execute(update(Member).where(Member.id == member.id).values(timezone=timezone, updated_at=now))
    audit.record(connection, now, actor, "timezone", member_id=member.id, details={"timezone": timezone})
    return True

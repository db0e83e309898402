"""Who may receive a lead right now, and in plain words why not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.routing.availability.hours import WorkingHours


@dataclass(slots=True)
class Availability:
    """The facts about a member and a seat that decide eligibility at one moment."""

    member_active: bool
    seat_active: bool
    paused_at: datetime | None
    paused_until: datetime | None
    pause_reason: str | None
    status_paused_until: datetime | None
    on_leave_until: datetime | None
    open_leads: int
    capacity: int | None
    working_hours: str | None
    timezone: str


def short_time(moment: datetime, timezone: str, now: datetime | None = None) -> str:
    """ "Dec 3", or "14:00" when it is later today, in the person's timezone."""
    local = moment.astimezone(ZoneInfo(timezone))
    if now is not None and local.date() == now.astimezone(ZoneInfo(timezone)).date():
        return local.strftime("%H:%M")
    return f"{local.strftime('%b')} {local.day}"


def is_paused(facts: Availability, now: datetime) -> bool:
    return facts.paused_at is not None and (facts.paused_until is None or now < facts.paused_until)


def unavailable_reason(facts: Availability, now: datetime, *, respect_hours: bool) -> str | None:
    """None when the member may get a lead now; otherwise the reason, in words."""
    if not facts.member_active:
        return "inactive (turned off by a manager)"
    if not facts.seat_active:
        return "inactive in this queue"
    if is_paused(facts, now):
        until = f" until {short_time(facts.paused_until, facts.timezone, now)}" if facts.paused_until else ""
        why = f" ({facts.pause_reason})" if facts.pause_reason else ""
        return f"paused{until}{why}"
    if facts.on_leave_until is not None:
        return f"on leave until {short_time(facts.on_leave_until, facts.timezone, now)}"
    if facts.status_paused_until is not None and now < facts.status_paused_until:
        return "Slack status says away"
    if facts.capacity is not None and facts.open_leads >= facts.capacity:
        return f"at capacity {facts.open_leads}/{facts.capacity}"
    if respect_hours and facts.working_hours:
        hours = WorkingHours.parse(facts.working_hours)
        if not hours.is_working(now, facts.timezone):
            back = hours.next_start(now, facts.timezone).astimezone(ZoneInfo(facts.timezone))
            same_day = back.date() == now.astimezone(ZoneInfo(facts.timezone)).date()
            when = back.strftime("%H:%M" if same_day else "%a %H:%M")
            return f"outside working hours, back {when} {facts.timezone}"
    return None

"""Who may receive a lead right now, in plain words why not, and until when that holds.

`unavailable_reason` answers for one moment. `reason_holds_until` says how long that answer
stays true word for word, so a queue's eligibility can be kept as events (a pause ends, a
leave starts, working hours open) and recomputed only then, not for every seat on every lead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.routing.availability.hours import WorkingHours

Leave = tuple[datetime, datetime]  # (pause_from, resume_at): not eligible in between


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


@lru_cache(maxsize=256)
def working_hours(text: str) -> WorkingHours:
    """Parsed once per distinct text: a queue asks for every seat's hours."""
    return WorkingHours.parse(text)


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
        hours = working_hours(facts.working_hours)
        if not hours.is_working(now, facts.timezone):
            back = hours.next_start(now, facts.timezone).astimezone(ZoneInfo(facts.timezone))
            same_day = back.date() == now.astimezone(ZoneInfo(facts.timezone)).date()
            when = back.strftime("%H:%M" if same_day else "%a %H:%M")
            return f"outside working hours, back {when} {facts.timezone}"
    return None


def on_leave_until(leaves: Iterable[Leave], now: datetime) -> datetime | None:
    """When the leave under way at `now` ends (the latest end, if leaves overlap)."""
    ends = [resume_at for pause_from, resume_at in leaves if pause_from <= now < resume_at]
    return max(ends) if ends else None


def reason_holds_until(
    facts: Availability, leaves: Iterable[Leave], now: datetime, *, respect_hours: bool
) -> datetime | None:
    """A moment after `now` before which `unavailable_reason` answers exactly as at `now`
    (None: as long as the facts stay the same). It may be early, never late.

    Only time moves it: a pause or a Slack status ends, a leave starts or ends, working
    hours open or close, and, for reasons that name a time ("paused until 14:00" against
    "until Dec 3"), the person's midnight. A change of the facts themselves (a write, a new
    open lead) is not a moment: whoever holds the answer must drop it then.
    """
    moments: list[datetime] = []
    if facts.paused_until is not None:
        moments.append(facts.paused_until)
    if facts.status_paused_until is not None:
        moments.append(facts.status_paused_until)
    for pause_from, resume_at in leaves:
        moments += (pause_from, resume_at)
    zone = ZoneInfo(facts.timezone)
    dated = facts.paused_until is not None or facts.on_leave_until is not None
    if respect_hours and facts.working_hours:
        moments += _hours_moments(working_hours(facts.working_hours), now, zone)
        dated = True
    if dated:
        moments += _wall_clock(now.astimezone(zone).date() + timedelta(days=1), time.min, zone)
    later = [moment for moment in moments if moment > now]
    return min(later) if later else None


def _hours_moments(hours: WorkingHours, now: datetime, zone: ZoneInfo) -> list[datetime]:
    """The starts and ends of spans on the first day from today (to a week on) that has
    one after `now`, as instants."""
    today = now.astimezone(zone).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        moments = [moment for span in hours.spans if span.weekday == day.weekday()
                   for clock in (span.start, span.end) for moment in _wall_clock(day, clock, zone)]
        if any(moment > now for moment in moments):
            return moments
    return []


def _wall_clock(day: date, clock: time, zone: ZoneInfo) -> list[datetime]:
    """A local time as instants, in UTC (aware times of one zone compare by wall clock).

    Across a DST change it is read both ways; when it falls in a gap (02:30 on the night
    clocks go forward) the wall clock passes it at the change itself, which lies between
    the two readings on the quarter-hour grid every zone's changes keep to: those quarter
    hours are added too, so the moment comes early, never late."""
    local = datetime.combine(day, clock, tzinfo=zone)
    first, second = local.astimezone(UTC), local.replace(fold=1).astimezone(UTC)
    if first == second:
        return [first]
    early, late = sorted((first, second))
    quarter = timedelta(minutes=15)
    grid = early.replace(minute=early.minute - early.minute % 15, second=0, microsecond=0) + quarter
    moments = [early, late]
    while grid < late:
        moments.append(grid)
        grid += quarter
    return moments

"""Reading time off out of an iCalendar feed.

An event is time off when its title holds one of the team's time-off words
(`status_pause.words`) and it is all-day or lasts at least four hours. Recurring events
are expanded, cancelled ones skipped, and absences that overlap or touch are merged so
the core sees one leave per stretch of days away.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from bot.routing.availability.calendar_leaves import CalendarAbsence
from bot.routing.availability.slack_status import is_away_status
from bot.routing.team import TeamSettings

LOOKAHEAD_DAYS = 60
MIN_TIMED_HOURS = 4


class FeedError(ValueError):
    """The feed is not an iCalendar we can read; the message says why in plain words.

    The message never quotes the feed (a parser's error would): it goes to the member, and
    the "feed" may be anything the address answered, secrets included."""


def parse_absences(data: bytes | str, team: TeamSettings, timezone: str, today: date,
                   *, days: int = LOOKAHEAD_DAYS) -> list[CalendarAbsence]:
    """The time off in `data` from `today` (the member's local date) over the next `days`."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception:
        raise FeedError("not an iCalendar file") from None
    if calendar.name != "VCALENDAR":
        raise FeedError("not an iCalendar file (no VCALENDAR)")
    try:
        events = recurring_ical_events.of(calendar).between(today, today + timedelta(days=days))
    except Exception:
        raise FeedError("its events could not be read") from None
    zone = ZoneInfo(timezone)
    found = []
    for event in events:
        absence = _absence(event, team, zone)
        if absence is not None and absence.ends_on >= today:
            found.append(absence)
    return merge(found)


def _absence(event: Any, team: TeamSettings, zone: ZoneInfo) -> CalendarAbsence | None:
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    title = str(event.get("SUMMARY", "")).strip()
    if not title or not is_away_status(title, "", team):
        return None
    start = event.decoded("DTSTART")
    end = _end(event, start)
    uid = str(event.get("UID", "")) or f"{title}|{start.isoformat()}"
    if not isinstance(start, datetime):  # all-day: DTEND is the day after the last day
        last = end - timedelta(days=1) if isinstance(end, date) and end > start else start
        return CalendarAbsence(uid, start, last, title)
    if not isinstance(end, datetime):  # a timed start with an all-day end: to that day's start
        end = datetime.combine(end, time.min)
    start, end = _aware(start, zone), _aware(end, zone)
    if end - start < timedelta(hours=MIN_TIMED_HOURS):
        return None
    first_day = start.astimezone(zone).date()
    last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return CalendarAbsence(uid, first_day, max(first_day, last_day), title)


def _end(event: Any, start: date) -> date:
    if event.get("DTEND") is not None:
        end = event.decoded("DTEND")
        if isinstance(end, datetime) == isinstance(start, datetime):
            return cast(date, end)
    if event.get("DURATION") is not None:
        return cast(date, start + event.decoded("DURATION"))
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    """Floating times (no TZID) are read in the member's timezone."""
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def merge(absences: list[CalendarAbsence]) -> list[CalendarAbsence]:
    """One absence per stretch: overlapping or back-to-back absences become one."""
    merged: list[CalendarAbsence] = []
    for absence in sorted(absences, key=lambda a: (a.starts_on, a.ends_on, a.uid)):
        last = merged[-1] if merged else None
        if last is not None and absence.starts_on <= last.ends_on + timedelta(days=1):
            if absence.ends_on > last.ends_on:
                merged[-1] = replace(last, ends_on=absence.ends_on)
            continue
        merged.append(absence)
    return merged

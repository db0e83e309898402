"""Working hours like "Mon-Fri 09:00-17:00" or "Mon-Thu 08:00-16:00; Fri 08:00-12:00"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(
    r"^\s*(?P<days>[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?(?:\s*,\s*[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?)*)"
    r"\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)


class HoursError(ValueError):
    """Working hours that cannot be read; the message shows the expected form."""


@dataclass(frozen=True, slots=True)
class Span:
    weekday: int
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class WorkingHours:
    spans: tuple[Span, ...]

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        spans: list[Span] = []
        for part in re.split(r"[;\n]", text):
            if not part.strip():
                continue
            match = _SPAN.match(part)
            if not match:
                raise HoursError(f'cannot read "{part.strip()}"; write it like "Mon-Fri 09:00-17:00"')
            start, end = _clock(match["start"]), _clock(match["end"])
            if end <= start:
                raise HoursError(f'"{part.strip()}" ends before it starts')
            for day in _days(match["days"]):
                spans.append(Span(day, start, end))
        if not spans:
            raise HoursError('working hours are empty; write them like "Mon-Fri 09:00-17:00"')
        return cls(tuple(sorted(spans, key=lambda s: (s.weekday, s.start))))

    def is_working(self, moment: datetime, timezone: str) -> bool:
        local = moment.astimezone(ZoneInfo(timezone))
        now = local.time()
        return any(s.weekday == local.weekday() and s.start <= now < s.end for s in self.spans)

    def next_start(self, moment: datetime, timezone: str) -> datetime:
        """The next moment (at or after `moment`) this person is working."""
        zone = ZoneInfo(timezone)
        local = moment.astimezone(zone)
        if self.is_working(moment, timezone):
            return moment
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            for span in self.spans:
                if span.weekday != day.weekday():
                    continue
                start = datetime.combine(day, span.start, tzinfo=zone)
                if start > local:
                    return start
        raise HoursError("working hours have no upcoming start")  # unreachable when spans exist


def _clock(text: str) -> time:
    hours, minutes = (int(x) for x in text.split(":"))
    if hours == 24 and minutes == 0:
        return time(23, 59, 59)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise HoursError(f'"{text}" is not a time of day')
    return time(hours, minutes)


def _days(text: str) -> list[int]:
    days: list[int] = []
    for chunk in text.split(","):
        ends = [d.strip().lower() for d in chunk.split("-")]
        for name in ends:
            if name not in DAYS:
                raise HoursError(f'"{name}" is not a day; use Mon, Tue, Wed, Thu, Fri, Sat, Sun')
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
        days.extend(span)
    return days

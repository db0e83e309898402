"""Reading time off out of iCalendar files (no database, no network)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.config.schema import StatusPause
from bot.jobs.ics import FeedError, merge, parse_absences
from bot.routing.availability.calendar_leaves import CalendarAbsence
from bot.routing.team import TeamSettings

CALENDARS = Path(__file__).parent / "calendars"
TEAM = TeamSettings(settings={"status_pause": StatusPause().model_dump()})


def spans(name: str, zone: str, today: date = date(2026, 12, 1)) -> list[tuple[str, str, str]]:
    found = parse_absences((CALENDARS / name).read_bytes(), TEAM, zone, today)
    return [(a.uid.split("@")[0], a.starts_on.isoformat(), a.ends_on.isoformat()) for a in found]


def test_all_day_timed_recurring_and_cancelled_events() -> None:
    assert spans("vacation.ics", "Europe/Berlin") == [
        ("pto-day", "2026-12-03", "2026-12-03"),  # 8 h timed event
        ("vac-1", "2026-12-14", "2026-12-18"),  # DTEND is exclusive; "Sick" inside it merged
        ("pto-fridays", "2027-01-08", "2027-01-08"),  # weekly, Jan 15 excluded
        ("pto-fridays", "2027-01-22", "2027-01-22"),
        ("pto-fridays", "2027-01-29", "2027-01-29"),
    ]  # no dentist (1 h), offsite (no time-off word), cancelled, or June (beyond 60 days)


def test_window_starts_today_and_keeps_ongoing_leave() -> None:
    assert spans("vacation.ics", "Europe/Berlin", today=date(2026, 12, 16))[0] == (
        "vac-1", "2026-12-14", "2026-12-18")
    assert [s[1] for s in spans("vacation.ics", "Europe/Berlin", today=date(2026, 12, 19))] == [
        "2027-01-08", "2027-01-22", "2027-01-29"]


@pytest.mark.parametrize(("zone", "night"), [
    ("America/New_York", ("utc-night", "2026-12-09", "2026-12-09")),
    ("Europe/Berlin", ("utc-night", "2026-12-09", "2026-12-10")),
])
def test_times_are_read_in_the_members_timezone(zone: str, night: tuple[str, str, str]) -> None:
    assert spans("floating-and-utc.ics", zone) == [
        ("floating", "2026-12-07", "2026-12-07"),
        night,
        ("duration", "2026-12-28", "2026-12-30"),
    ]


@pytest.mark.parametrize("data", [b"", b"<html>Not found</html>", (CALENDARS / "truncated.ics").read_bytes(),
                                  b"BEGIN:VCARD\nEND:VCARD\n"])
def test_unreadable_feeds_raise_feed_error(data: bytes) -> None:
    with pytest.raises(FeedError):
        parse_absences(data, TEAM, "UTC", date(2026, 12, 1))


def test_merge_joins_overlapping_and_back_to_back_absences() -> None:
    a = CalendarAbsence("a", date(2026, 12, 1), date(2026, 12, 3), "PTO")
    b = CalendarAbsence("b", date(2026, 12, 4), date(2026, 12, 4), "PTO")
    c = CalendarAbsence("c", date(2026, 12, 2), date(2026, 12, 2), "Sick")
    d = CalendarAbsence("d", date(2026, 12, 6), date(2026, 12, 7), "PTO")
    assert merge([d, b, c, a]) == [
        CalendarAbsence("a", date(2026, 12, 1), date(2026, 12, 4), "PTO"), d]

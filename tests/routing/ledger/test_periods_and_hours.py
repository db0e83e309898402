"""Period keys at the team's midnight, and working hours in the member's timezone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.routing.availability.hours import HoursError, WorkingHours
from bot.routing.ledger.periods import period_key


@pytest.mark.parametrize(
    ("moment", "period", "expected"),
    [
        (datetime(2026, 12, 1, 4, 59, tzinfo=UTC), "monthly", "2026-11"),  # 23:59 in New York
        (datetime(2026, 12, 1, 5, 0, tzinfo=UTC), "monthly", "2026-12"),
        (datetime(2026, 11, 30, 4, 59, tzinfo=UTC), "weekly", "2026-W48"),  # Sunday 23:59
        (datetime(2026, 11, 30, 5, 0, tzinfo=UTC), "weekly", "2026-W49"),
        (datetime(2026, 10, 1, 3, 59, tzinfo=UTC), "quarterly", "2026-Q3"),
        (datetime(2026, 10, 1, 4, 0, tzinfo=UTC), "quarterly", "2026-Q4"),
        (datetime(2026, 10, 1, 4, 0, tzinfo=UTC), "never", "all"),
    ],
)
def test_periods_turn_at_the_teams_midnight(moment: datetime, period: str, expected: str) -> None:
    assert period_key(moment, "America/New_York", period) == expected


def test_working_hours_boundaries_and_next_start() -> None:
    hours = WorkingHours.parse("Mon-Thu 09:00-17:00; Fri 09:00-13:00")
    berlin = "Europe/Berlin"
    assert hours.is_working(datetime(2026, 11, 23, 8, 0, tzinfo=UTC), berlin)  # Mon 09:00
    assert not hours.is_working(datetime(2026, 11, 23, 7, 59, tzinfo=UTC), berlin)
    assert not hours.is_working(datetime(2026, 11, 23, 16, 0, tzinfo=UTC), berlin)  # 17:00 ends
    assert not hours.is_working(datetime(2026, 11, 27, 12, 0, tzinfo=UTC), berlin)  # Fri 13:00
    monday = hours.next_start(datetime(2026, 11, 28, 12, 0, tzinfo=UTC), berlin)
    assert monday.isoformat() == "2026-11-30T09:00:00+01:00"


@pytest.mark.parametrize(
    "text", ["9-5", "Mon-Fri 17:00-09:00", "Mon-Funday 09:00-17:00", "", "Mon 25:00-26:00"]
)
def test_unreadable_working_hours_are_refused(text: str) -> None:
    with pytest.raises(HoursError):
        WorkingHours.parse(text)

"""Attack: a calendar feed whose events no leave can be (dated past 2100, a NUL in a title).

The member's other absences are still taken; the feed does not lose the whole sync.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from bot.routing.availability.calendar_leaves import CalendarAbsence
from bot.routing.service import RoutingService

MakeService = Callable[[str], Awaitable[RoutingService]]  # the `make_service` fixture of conftest.py

CONFIG = """
timezone: UTC
members: [{slack_id: U01ANN, name: Ann}]
queues: [{name: q, members: [{slack_id: U01ANN}]}]
rules: [{name: all, queue: q}]
"""


async def test_events_no_leave_can_be_are_skipped_and_the_rest_kept(make_service: MakeService) -> None:
    service = await make_service(CONFIG)
    absences = [
        CalendarAbsence("far", date(9999, 12, 20), date(9999, 12, 31), "Forever"),
        CalendarAbsence("nul", date(2026, 12, 10), date(2026, 12, 11), "Off\x00site \ud800"),
        CalendarAbsence("ok", date(2026, 12, 20), date(2026, 12, 24), "Holiday"),
    ]
    counts = await service.availability.sync_calendar("U01ANN", absences)
    assert counts == {"added": 2, "cancelled": 0, "skipped": 1}
    leaves = await service.availability.leaves("U01ANN")
    assert sorted((leave.starts_on, leave.ends_on) for leave in leaves) == [
        (date(2026, 12, 10), date(2026, 12, 11)), (date(2026, 12, 20), date(2026, 12, 24))]

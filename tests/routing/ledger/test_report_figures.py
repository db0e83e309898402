"""The period report's figures against a small case worked out by hand: who received what,
who passed, whom the SLA moved a lead from, and how long each accept took."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from factories import make_config, make_member, make_queue, make_service

from bot.routing.clock import ManualClock
from bot.routing.errors import InvalidChange, NotFound
from bot.routing.ledger.report import AcceptTimes, PeriodReport, nearest_rank
from bot.routing.service import RoutingService

START = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday afternoon in New York
CONFIG = make_config(
    [make_member("U0ALICE", name="Alice"), make_member("U0BOB", name="Bob")],
    [make_queue("sales", ["U0ALICE", "U0BOB"], sla_minutes=30),
     make_queue("spare", ["U0ALICE"])],
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def service(database_url: str, clock: ManualClock) -> AsyncIterator[RoutingService]:
    routing = await make_service(database_url, clock, CONFIG)
    yield routing
    await routing.db.dispose()


async def offer(service: RoutingService, lead_id: str, expected: str) -> int:
    outcome = await service.assignment.route({"id": lead_id})
    assert outcome.assignee is not None and outcome.assignee.slack_id == expected, outcome
    assert outcome.assignment_id is not None
    return outcome.assignment_id


async def accept_after(service: RoutingService, clock: ManualClock, assignment_id: int, seconds: int) -> None:
    clock.advance(seconds=seconds)
    change = await service.assignment.accept(assignment_id, actor="rep")
    assert change.state == "accepted"


async def play_the_month(service: RoutingService, clock: ManualClock) -> None:
    """Six leads: Alice accepts in 60 s, 900 s and 30 s, passes one and misses one SLA;
    Bob accepts in 120 s, 300 s (the pass) and 600 s (the SLA move)."""
    await accept_after(service, clock, await offer(service, "L1", "U0ALICE"), 60)
    await accept_after(service, clock, await offer(service, "L2", "U0BOB"), 120)
    passed = await service.assignment.pass_lead(await offer(service, "L3", "U0ALICE"), actor="U0ALICE")
    assert passed.next_outcome is not None and passed.next_outcome.assignee is not None
    assert passed.next_outcome.assignee.slack_id == "U0BOB"
    await accept_after(service, clock, passed.next_outcome.assignment_id or 0, 300)
    await offer(service, "L4", "U0ALICE")
    clock.advance(minutes=30)
    [moved] = await service.assignment.reassign_overdue()
    assert moved.next_outcome is not None and moved.next_outcome.assignee is not None
    assert moved.next_outcome.assignee.slack_id == "U0BOB"
    await accept_after(service, clock, moved.next_outcome.assignment_id or 0, 600)
    await accept_after(service, clock, await offer(service, "L5", "U0ALICE"), 900)
    await accept_after(service, clock, await offer(service, "L6", "U0ALICE"), 30)


def figures(report: PeriodReport, queue: str, slack_id: str) -> tuple[object, ...]:
    [member] = [m for q, m in report.members() if q.name == queue and m.slack_id == slack_id]
    return (member.received, member.passes, member.sla_misses, member.accept)


async def test_passes_sla_misses_and_time_to_accept_per_member_and_queue(
        service: RoutingService, clock: ManualClock) -> None:
    await play_the_month(service, clock)
    report = await service.ledger.period_report()
    assert report.period == "2026-11"
    assert [q.name for q in report.queues] == ["sales", "spare"]
    assert figures(report, "sales", "U0ALICE") == (3, 1, 1, AcceptTimes(3, 60.0, 900.0))
    assert figures(report, "sales", "U0BOB") == (3, 0, 0, AcceptTimes(3, 300.0, 600.0))
    sales = report.queues[0]
    # six accepts: 30 60 120 | 300 600 900 -> median (120 + 300) / 2, p90 the 6th of 6
    assert (sales.received, sales.passes, sales.sla_misses, sales.accept) == (
        6, 1, 1, AcceptTimes(6, 210.0, 900.0))
    assert sum(m.fair_share for m in sales.members) == pytest.approx(6)
    for member in sales.members:
        assert member.fair_share == pytest.approx(member.received + member.adjustments + member.lag)
    spare = report.queues[1]
    assert (spare.received, spare.passes, spare.accept) == (0, 0, AcceptTimes(0, None, None))


async def test_a_closed_period_keeps_its_figures_and_one_queue_is_just_that_queue(
        service: RoutingService, clock: ManualClock) -> None:
    await play_the_month(service, clock)
    clock.set(datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    await service.ledger.start_due_periods()
    assert (await service.ledger.period_report()).queues[0].received == 0  # December
    november = await service.ledger.period_report(period="2026-11", queue="sales")
    assert [q.name for q in november.queues] == ["sales"]
    assert figures(november, "sales", "U0ALICE") == (3, 1, 1, AcceptTimes(3, 60.0, 900.0))
    assert figures(november, "sales", "U0BOB") == (3, 0, 0, AcceptTimes(3, 300.0, 600.0))
    assert [m.fair_share for m in november.queues[0].members] == [3.0, 3.0]


async def test_a_period_or_queue_that_does_not_exist_is_refused_in_words(service: RoutingService) -> None:
    with pytest.raises(InvalidChange, match="write it like 2026-11"):
        await service.ledger.period_report(period="2026-13")
    with pytest.raises(NotFound, match="no queue named 'nope'"):
        await service.ledger.period_report(queue="nope")


@pytest.mark.parametrize(("times", "median", "p90"), [
    ([5.0], 5.0, 5.0),
    ([1.0, 2.0], 1.5, 2.0),
    ([float(n) for n in range(1, 11)], 5.5, 9.0),  # 90% of 10 is the 9th
    ([float(n) for n in range(1, 12)], 6.0, 10.0),  # 9.9 rounds up to the 10th
])
def test_median_and_nearest_rank_p90(times: list[float], median: float, p90: float) -> None:
    assert AcceptTimes.of(reversed(times)) == AcceptTimes(len(times), median, p90)
    assert nearest_rank(sorted(times), 0.9) == p90

"""Re-offers (Pass, SLA) keep every ledger exact: the lag of a queue always sums to zero."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

from factories import make_config, make_queue, make_service, team_of

from bot.routing.clock import ManualClock
from bot.routing.service import RoutingService

WEIGHTS = {"U01A": 1, "U02B": 1, "U03C": 2}


async def lags(service: RoutingService, queue: str = "q") -> dict[str, Fraction]:
    [standing] = await service.ledger.standings(queue)
    return {seat.slack_id: seat.lag for seat in standing.seats}


async def test_a_lead_passed_after_the_period_reset_is_new_to_the_new_period(database_url: str) -> None:
    """Attack (found from outside, two replicas across midnight): a lead offered on the 30th
    and passed on the 1st was charged to the new period with no share, and December's lags
    summed to -417 after a day of SLA moves."""
    clock = ManualClock(datetime(2026, 12, 1, 4, 50, tzinfo=UTC))  # 23:50 Nov 30 in New York
    config = make_config(team_of(*WEIGHTS), [make_queue("q", [{"slack_id": k, "weight": w}
                                                            for k, w in WEIGHTS.items()])])
    service = await make_service(database_url, clock, config)
    offered = [(await service.assignment.route({"id": f"N-{i}"})).assignment_id for i in range(12)]
    clock.advance(minutes=20)  # 00:10 Dec 1 in New York: a new period
    for assignment_id in offered:
        assert assignment_id is not None
        change = await service.assignment.pass_lead(assignment_id, actor="U01A")
        assert change.changed
    for i in range(8):
        await service.assignment.route({"id": f"D-{i}"})
    december = await lags(service)
    assert sum(december.values()) == 0, december
    assert all(abs(lag) < 1 for lag in december.values()), december
    await service.db.dispose()


async def test_a_pass_in_the_same_period_credits_back_and_stays_exact(database_url: str,
                                                                     clock: ManualClock) -> None:
    config = make_config(team_of(*WEIGHTS), [make_queue("q", [{"slack_id": k, "weight": w}
                                                            for k, w in WEIGHTS.items()])])
    service = await make_service(database_url, clock, config)
    for i in range(10):
        outcome = await service.assignment.route({"id": f"S-{i}"})
        if i % 3 == 0 and outcome.assignment_id is not None:
            await service.assignment.pass_lead(outcome.assignment_id, actor="U01A")
    assert sum((await lags(service)).values()) == 0
    await service.db.dispose()

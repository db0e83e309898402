"""200 leads routed by 16 concurrent tasks: each assigned once, totals exact, quota intact."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import pytest
from factories import make_config, make_member, make_queue, make_service, team_of
from sqlalchemy import Connection

from bot.routing.assignment.batch import Batch
from bot.routing.assignment.decision import Decision
from bot.routing.clock import ManualClock
from bot.routing.errors import CapacityTaken

WEIGHTS = {"U01A": 1, "U02B": 2, "U03C": 3, "U04D": 4}


async def test_concurrent_routing_is_serialized_per_queue(database_url: str, clock: ManualClock) -> None:
    config = make_config(
        team_of(*WEIGHTS), [make_queue("q", [{"slack_id": k, "weight": w} for k, w in WEIGHTS.items()])]
    )
    service = await make_service(database_url, clock, config)
    leads = [{"id": f"C-{i}"} for i in range(200)]
    queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    for lead in leads + leads[:20]:  # 20 duplicates racing their originals
        queue.put_nowait(lead)
    outcomes = []

    async def worker() -> None:
        while not queue.empty():
            outcomes.append(await service.assignment.route(queue.get_nowait()))

    await asyncio.gather(*(worker() for _ in range(16)))
    created = [o for o in outcomes if o.created]
    assert len(created) == 200 and len({o.lead_id for o in created}) == 200
    by_id = {o.lead_id: o.assignee for o in created}
    assert all(by_id[o.lead_id] == o.assignee for o in outcomes)
    [standing] = await service.ledger.standings("q")
    total = sum(WEIGHTS.values())
    for seat in standing.seats:
        assert abs(seat.received - Fraction(200 * WEIGHTS[seat.slack_id], total)) < 1
    assert sum(s.received for s in standing.seats) == 200
    for lead in leads[:5]:
        assert len((await service.assignment.lead(lead["id"])).assignments) == 1
    await service.db.dispose()


async def test_two_queues_cannot_both_fill_a_members_last_slot(postgres_url: str, clock: ManualClock) -> None:
    """Routing locks a queue, not its members: the second to count the lead must notice."""
    members = [make_member("U01CAP", capacity=1), make_member("U02FREE")]
    config = make_config(
        members,
        [
            make_queue("east", ["U01CAP"]),
            make_queue("west", [{"slack_id": "U01CAP", "weight": 100}, "U02FREE"]),
        ],
        rules=[{"name": "east", "when": {"field": "q", "op": "equals", "value": "east"}, "queue": "east"},
               {"name": "rest", "queue": "west"}],
    )
    service = await make_service(postgres_url, clock, config)
    now = clock.now()

    def decide(connection: Connection, lead_id: str, queue: str) -> tuple[Batch, Decision]:
        router = service.assignment.router
        batch = router.batch(connection, now)
        decided = router.decide(lead_id, {"id": lead_id, "q": queue}, "t", batch)
        assert isinstance(decided, Decision)
        return batch, decided

    async with service.db.engine.connect() as first, service.db.engine.connect() as second:
        await first.begin()
        batch, east = await first.run_sync(decide, "E1", "east")
        assert east.winner is not None and east.winner.slack_id == "U01CAP"  # her count read as 0
        await second.begin()
        router = service.assignment.router
        west = await second.run_sync(lambda c: router.route(c, "W1", {"id": "W1"}, now, "t"))
        assert west.assignee is not None and west.assignee.slack_id == "U01CAP"
        await second.commit()
        with pytest.raises(CapacityTaken):
            await first.run_sync(lambda c: batch.finish())
        await first.rollback()

    again = await service.assignment.route({"id": "E1", "q": "east"})  # what the retry does: she is full now
    assert again.status == "unassigned" and "at capacity 1/1" in str(again.explanation)
    assert (await service.assignment.route({"id": "W2"})).assignee.slack_id == "U02FREE"
    [member] = [s for s in (await service.ledger.standings("west"))[0].seats if s.slack_id == "U01CAP"]
    assert member.received == 1
    await service.db.dispose()

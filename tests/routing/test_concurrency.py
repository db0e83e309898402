"""200 leads routed by 16 concurrent tasks: each assigned once, totals exact, quota intact."""

from __future__ import annotations

import asyncio
from fractions import Fraction

from factories import make_config, make_queue, make_service, team_of

from bot.routing.clock import ManualClock

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
            outcomes.append(await service.route(queue.get_nowait()))

    await asyncio.gather(*(worker() for _ in range(16)))
    created = [o for o in outcomes if o.created]
    assert len(created) == 200 and len({o.lead_id for o in created}) == 200
    by_id = {o.lead_id: o.assignee for o in created}
    assert all(by_id[o.lead_id] == o.assignee for o in outcomes)
    [standing] = await service.standings("q")
    total = sum(WEIGHTS.values())
    for seat in standing.seats:
        assert abs(seat.received - Fraction(200 * WEIGHTS[seat.slack_id], total)) < 1
    assert sum(s.received for s in standing.seats) == 200
    for lead in leads[:5]:
        assert len((await service.lead(lead["id"])).assignments) == 1
    await service.db.dispose()

"""`load_balance` ranks by open leads that move outside its queue: it sees every move.

A member's open leads go up with leads in other queues and down with accepts, neither of
which writes this queue's ledger; the next pick here must rank them as they are now
(whether it walks the seats or reads its order, see `LoadBalance.counts_told`).
"""

from __future__ import annotations

from factories import make_config, make_queue, make_service, team_of

from bot.routing.clock import ManualClock

TO_OTHER = {"field": "queue", "op": "equals", "value": "other"}


async def test_a_pick_sees_open_leads_moved_by_other_queues_and_by_accepts(
    database_url: str, clock: ManualClock
) -> None:
    config = make_config(
        team_of("U01A", "U02B", "U03C"),
        [make_queue("lb", ["U01A", "U02B", "U03C"], strategy="load_balance"),
         make_queue("other", ["U01A"])],
        rules=[{"name": "other", "queue": "other", "when": TO_OTHER}, {"name": "everyone", "queue": "lb"}],
    )
    service = await make_service(database_url, clock, config)

    async def who_gets(lead: dict[str, str]) -> str | None:
        outcome = await service.assignment.route(lead)
        return None if outcome.assignee is None else outcome.assignee.slack_id

    assert [await who_gets({"id": f"LB-{i}"}) for i in range(3)] == ["U01A", "U02B", "U03C"]  # level: by id
    assert [await who_gets({"id": f"OT-{i}", "queue": "other"}) for i in range(2)] == ["U01A", "U01A"]
    # A has 3 open (two from elsewhere), B and C 1: B waited longer.
    assert await who_gets({"id": "LB-3"}) == "U02B"
    for lead_id in ("LB-1", "LB-3"):  # B accepts both: none open
        offered = await service.assignment.route({"id": lead_id})  # a repeat: the same assignment
        assert offered.assignment_id is not None
        assert (await service.assignment.accept(offered.assignment_id, actor="U02B")).changed
    assert await who_gets({"id": "LB-4"}) == "U02B"  # C has 1 open
    await service.db.dispose()

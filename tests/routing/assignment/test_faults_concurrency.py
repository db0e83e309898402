"""Attacks on the core's state under concurrency: clicks and jobs racing on two replicas.

Each replica is a RoutingService with its own engine on the same database, as two `rotation
serve` processes behind a load balancer are. After every race the stored counters are
checked against a recount from the assignments themselves (`recount_drift`), and each lead
against "one live offer at most".
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from factories import make_config, make_member, make_queue, make_service
from sqlalchemy import text

from bot.routing.clock import ManualClock
from bot.routing.service import RoutingService
from bot.store.db import Database

REPS = ["U01A", "U02B", "U03C", "U04D", "U05E", "U06F"]
LEADS = 60

Click = Callable[[RoutingService, int], Awaitable[Any]]


def config(sla_minutes: int | None = 30, capacity: int | None = None) -> str:
    extra = {} if capacity is None else {"capacity": capacity}
    members = [make_member(r, **extra) for r in REPS]
    sla = {"sla_minutes": sla_minutes} if sla_minutes else {}
    queues = [make_queue("east", REPS[:4], fallback="west", **sla),
              make_queue("west", [{"slack_id": r, "weight": i + 1} for i, r in enumerate(REPS)])]
    rules = [{"name": "east", "when": {"field": "q", "op": "equals", "value": "east"}, "queue": "east"},
             {"name": "rest", "queue": "west"}]
    return make_config(members, queues, rules=rules, sla={"max_hops": 50})


async def replicas(url: str, clock: ManualClock, text_: str) -> tuple[RoutingService, RoutingService]:
    first = await make_service(url, clock, text_)
    second = RoutingService(Database(url), clock)
    return first, second


async def offered_ids(service: RoutingService) -> list[int]:
    async with service.db.engine.connect() as c:
        rows = await c.execute(text("SELECT id FROM assignments WHERE state = 'offered' ORDER BY id"))
        return [r.id for r in rows]


async def recount_drift(service: RoutingService) -> dict[str, Any]:
    """Every stored counter that disagrees with a recount from the assignments."""
    async with service.db.engine.connect() as c:
        open_leads = (await c.execute(text(
            "SELECT m.slack_id, m.open_leads, (SELECT count(*) FROM assignments a "
            " WHERE a.member_id = m.id AND a.state = 'offered') AS counted FROM members m"))).all()
        received = (await c.execute(text(
            "SELECT s.id, s.received, (SELECT count(*) FROM assignments a JOIN queues q ON q.id = a.queue_id"
            " WHERE a.membership_id = s.id AND a.period_key = q.period_key"
            " AND a.state IN ('offered', 'accepted')) AS counted FROM memberships s"))).all()
        live = (await c.execute(text(
            "SELECT lead_id, count(*) AS n FROM assignments WHERE state IN ('offered', 'accepted')"
            " GROUP BY lead_id HAVING count(*) > 1"))).all()
        status = (await c.execute(text(
            "SELECT l.id FROM leads l WHERE (l.status = 'assigned') <> EXISTS (SELECT 1 FROM assignments a"
            " WHERE a.lead_id = l.id AND a.state IN ('offered', 'accepted'))"))).all()
    return {
        "open_leads": [tuple(r) for r in open_leads if r.open_leads != r.counted],
        "received": [tuple(r) for r in received if r.received != r.counted],
        "leads with two live offers": [tuple(r) for r in live],
        "lead status wrong": [r.id for r in status],
    }


NO_DRIFT = {"open_leads": [], "received": [], "leads with two live offers": [], "lead status wrong": []}


async def route_leads(service: RoutingService, count: int = LEADS) -> None:
    for i in range(count):
        await service.assignment.route({"id": f"L-{i}", "q": "east" if i % 2 else "west"})


def pass_(service: RoutingService, assignment_id: int) -> Awaitable[Any]:
    return service.assignment.pass_lead(assignment_id, actor="U0CLICK")


def accept(service: RoutingService, assignment_id: int) -> Awaitable[Any]:
    return service.assignment.accept(assignment_id, actor="U0CLICK")


@pytest.mark.parametrize(("first", "second"), [(pass_, pass_), (accept, pass_), (pass_, accept),
                                               (accept, accept)], ids=["pass+pass", "accept+pass",
                                                                       "pass+accept", "accept+accept"])
async def test_two_clicks_at_once_change_an_offer_once(
    database_url: str, clock: ManualClock, first: Click, second: Click
) -> None:
    """Two replicas get a click on the same offer at the same moment: one wins, the other
    answers like a repeated click, and every counter matches a recount."""
    one, two = await replicas(database_url, clock, config(sla_minutes=None))
    await route_leads(one)
    changed = 0
    for assignment_id in await offered_ids(one):
        results = await asyncio.gather(first(one, assignment_id), second(two, assignment_id))
        changed += sum(r.changed for r in results)
        assert sum(r.changed for r in results) == 1, results
        assert {r.state for r in results if r.changed} <= {"accepted", "passed"}
    assert changed == LEADS
    assert await recount_drift(one) == NO_DRIFT
    await one.db.dispose()
    await two.db.dispose()


async def test_clicks_racing_the_sla_job_move_each_offer_once(database_url: str, clock: ManualClock) -> None:
    """Every offer is overdue; one replica's SLA job runs while the other gets Pass and
    Accept clicks on the same offers, in random order."""
    one, two = await replicas(database_url, clock, config())
    await route_leads(one)
    before = await offered_ids(one)
    clock.advance(minutes=31)
    rng = random.Random(14)
    clicks = [rng.choice((pass_, accept))(two, a) for a in before]
    results = await asyncio.gather(one.assignment.reassign_overdue(), *clicks)
    moved = {c.assignment_id for c in results[0]}
    clicked = {r.assignment_id for r in results[1:] if r.changed}
    assert not moved & clicked, "an offer both moved by the SLA job and changed by a click"
    assert await recount_drift(one) == NO_DRIFT
    await one.db.dispose()
    await two.db.dispose()


async def test_passes_and_routing_on_two_replicas_never_deadlock_into_an_error(
    database_url: str, clock: ManualClock
) -> None:
    """Passes (assignment, members, queues) race new leads (queues, members) in both queues
    on two replicas; lock order is one, so nothing fails, and the ledgers add up."""
    one, two = await replicas(database_url, clock, config(sla_minutes=None, capacity=40))
    await route_leads(one, 30)
    offered = await offered_ids(one)
    work = [pass_(two if i % 2 else one, a) for i, a in enumerate(offered)]
    work += [(one if i % 2 else two).assignment.route({"id": f"N-{i}", "q": "east" if i % 3 else "west"})
             for i in range(60)]
    rng = random.Random(7)
    rng.shuffle(work)
    results = await asyncio.gather(*work, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert await recount_drift(one) == NO_DRIFT
    await one.db.dispose()
    await two.db.dispose()


async def test_a_pass_blocked_behind_another_answers_as_repeated(
    postgres_url: str, clock: ManualClock
) -> None:
    """Interleaved on purpose: the first Pass holds its transaction open while the second
    arrives; once the first commits the second finds the offer already passed."""
    one, two = await replicas(postgres_url, clock, config(sla_minutes=None))
    await route_leads(one, 4)
    [target, *_] = await offered_ids(one)
    from bot.routing.assignment import offers

    async with one.db.engine.connect() as held:
        await held.begin()
        change = await held.run_sync(
            lambda c: offers.hand_on(c, one.assignment.router, target, clock.now(), "U0FIRST", cause="pass"))
        assert change.changed
        racing = asyncio.create_task(two.assignment.pass_lead(target, actor="U0SECOND"))
        await asyncio.sleep(0.3)
        assert not racing.done(), "the second Pass did not wait for the first"
        await held.commit()
    late = await racing
    assert not late.changed and late.state == "passed"
    assert await recount_drift(one) == NO_DRIFT
    await one.db.dispose()
    await two.db.dispose()


async def test_pending_leads_are_assigned_once_by_two_replicas(database_url: str, clock: ManualClock) -> None:
    """Everyone is paused, leads wait; two replicas both run assign_pending when a rep comes
    back: each waiting lead is assigned exactly once."""
    text_ = make_config([make_member(r) for r in REPS[:2]], [make_queue("q", REPS[:2])])
    one = await make_service(database_url, clock, text_)
    two = RoutingService(Database(database_url), clock)
    for rep in REPS[:2]:
        await one.availability.pause(rep, actor=rep)
    for i in range(40):
        assert (await one.assignment.route({"id": f"W-{i}"})).status == "unassigned"
    await one.availability.resume(REPS[0], actor=REPS[0])
    first, second = await asyncio.gather(one.assignment.assign_pending(), two.assignment.assign_pending())
    assert len(first) + len(second) == 40
    assert await recount_drift(one) == NO_DRIFT
    await one.db.dispose()
    await two.db.dispose()


async def test_recount_sees_drift(database_url: str, clock: ManualClock) -> None:
    """The recount is not vacuous: a counter changed by hand is reported."""
    service = await make_service(database_url, clock, config(sla_minutes=None))
    await route_leads(service, 3)
    async with service.db.engine.begin() as c:
        await c.execute(text("UPDATE members SET open_leads = open_leads + 5 WHERE slack_id = 'U01A'"))
    drift = await recount_drift(service)
    assert [slack_id for slack_id, *_ in drift["open_leads"]] == ["U01A"]
    await service.db.dispose()

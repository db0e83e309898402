"""A manager's reassign (and "Take it"): a placement like any other, with a pass's counters."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from typing import Any

import pytest
from factories import make_config, make_queue, make_service, team_of
from sqlalchemy import select

from bot.delivery.transports import plain_text
from bot.routing.clock import ManualClock
from bot.routing.errors import InvalidChange, NotFound
from bot.routing.service import RoutingService
from bot.store.models import Assignment, Member, OutboxMessage

BOSS = "U0BOSS"


def config() -> str:
    """q: A, B, C (weight 1); side: D alone (the member outside q)."""
    return make_config(team_of("U01A", "U02B", "U03C", "U04D"),
                       [make_queue("q", ["U01A", "U02B", "U03C"]), make_queue("side", ["U04D"])])


async def ledger(service: RoutingService, queue: str = "q") -> dict[str, tuple[int, Fraction]]:
    [standing] = await service.ledger.standings(queue)
    return {seat.slack_id: (seat.received, seat.lag) for seat in standing.seats}


async def rows(service: RoutingService, lead_id: str) -> list[tuple[Any, ...]]:
    async with service.db.engine.connect() as c:
        found = await c.execute(select(Member.slack_id, Assignment.state, Assignment.cause)
                                .join(Member, Member.id == Assignment.member_id)
                                .where(Assignment.lead_id == lead_id).order_by(Assignment.id))
        return [tuple(r) for r in found]


async def open_leads(service: RoutingService) -> dict[str, int]:
    async with service.db.engine.connect() as c:
        return dict((await c.execute(select(Member.slack_id, Member.open_leads))).all())  # type: ignore[arg-type]


async def outbox(service: RoutingService) -> list[dict[str, Any]]:
    async with service.db.engine.connect() as c:
        return [r.payload for r in await c.execute(select(OutboxMessage.payload).order_by(OutboxMessage.id))]


async def test_an_offer_moves_to_the_named_member_with_a_pass_counters(database_url: str,
                                                                       clock: ManualClock) -> None:
    service = await make_service(database_url, clock, config())
    for i in range(3):
        await service.assignment.route({"id": f"W-{i}"})
    first = await service.assignment.route({"id": "L-1", "name": "Acme"})
    assert first.assignee is not None
    holder = first.assignee.slack_id
    target = next(m for m in ("U01A", "U02B", "U03C") if m != holder)
    before = await ledger(service)
    done = await service.assignment.reassign("L-1", target, actor=BOSS)
    assert done.previous is not None
    assert (done.previous.slack_id, done.previous_state, done.queue) == (holder, "offered", "q")
    after = await ledger(service)
    assert after[holder][0] == before[holder][0] - 1 and after[target][0] == before[target][0] + 1
    assert after[holder][1] == before[holder][1] + 1 and after[target][1] == before[target][1] - 1
    assert sum(lag for _, lag in after.values()) == 0
    steps = await rows(service, "L-1")
    assert steps[-2:] == [(holder, "reassigned", "new"), (target, "offered", "reassign")]
    counts = await open_leads(service)
    assert counts[holder] == 1 and counts[target] == 2  # the W- leads: one each
    sent = await outbox(service)
    assert any(p.get("event") == "lead_assigned" and p.get("to") == target and p["lead"]["id"] == "L-1"
               for p in sent)
    assert any(p.get("event") == "lead_reassigned" and p.get("to") == holder
               and "reassigned" in plain_text(p) for p in sent)
    record = await service.assignment.lead("L-1")
    assert "A manager reassigned it" in record.explanation["summary"]
    await service.db.dispose()


async def test_a_member_outside_the_queue_is_charged_in_their_own(database_url: str,
                                                                  clock: ManualClock) -> None:
    service = await make_service(database_url, clock, config())
    first = await service.assignment.route({"id": "L-1"})
    assert first.assignee is not None
    done = await service.assignment.reassign("L-1", "U04D", actor=BOSS)
    assert (done.queue, done.in_leads_queue) == ("side", False)
    assert (await ledger(service, "side"))["U04D"] == (1, Fraction(0))  # a new lead there: share 1, got 1
    assert (await ledger(service))[first.assignee.slack_id][0] == 0  # credited back in q
    assert "not in q" in (await service.assignment.lead("L-1")).explanation["summary"]
    await service.db.dispose()


async def test_a_waiting_lead_goes_to_a_paused_member_when_a_manager_says_so(database_url: str,
                                                                             clock: ManualClock) -> None:
    service = await make_service(database_url, clock, config())
    for member in ("U01A", "U02B", "U03C"):
        await service.availability.pause(member, actor=member)
    waiting = await service.assignment.route({"id": "L-9"})
    assert waiting.status == "unassigned"
    done = await service.assignment.reassign("L-9", "U02B", actor=BOSS)
    assert done.previous is None and done.outcome.status == "assigned"
    assert (await service.assignment.lead("L-9")).status == "assigned"
    assert sum(lag for _, lag in (await ledger(service)).values()) == 0
    await service.db.dispose()


async def test_an_accepted_lead_moves_too_and_its_rep_is_credited(database_url: str,
                                                                   clock: ManualClock) -> None:
    service = await make_service(database_url, clock, config())
    first = await service.assignment.route({"id": "L-1"})
    assert first.assignee is not None and first.assignment_id is not None
    await service.assignment.accept(first.assignment_id, actor=first.assignee.slack_id)
    target = "U03C" if first.assignee.slack_id != "U03C" else "U01A"
    done = await service.assignment.reassign("L-1", target, actor=BOSS)
    assert done.previous_state == "accepted"
    assert (await open_leads(service))[first.assignee.slack_id] == 0
    assert sum(lag for _, lag in (await ledger(service)).values()) == 0
    await service.db.dispose()


@pytest.mark.parametrize(("lead", "member", "words"), [
    ("NOPE", "U01A", "There is no lead `NOPE`"),
    ("L-1", "U99X", "is not in the rotation"),
    ("L-1", "HOLDER", "already offered to"),
])
async def test_refusals_in_plain_words_change_nothing(database_url: str, clock: ManualClock, lead: str,
                                                      member: str, words: str) -> None:
    service = await make_service(database_url, clock, config())
    first = await service.assignment.route({"id": "L-1"})
    assert first.assignee is not None
    member = first.assignee.slack_id if member == "HOLDER" else member
    before = (await rows(service, "L-1"), await ledger(service), len(await outbox(service)))
    with pytest.raises((NotFound, InvalidChange), match=words):
        await service.assignment.reassign(lead, member, actor=BOSS)
    assert (await rows(service, "L-1"), await ledger(service), len(await outbox(service))) == before
    if first.assignment_id is not None:
        await service.assignment.accept(first.assignment_id, actor=first.assignee.slack_id)
        with pytest.raises(InvalidChange, match="already accepted by"):
            await service.assignment.reassign("L-1", first.assignee.slack_id, actor=BOSS)
    await service.db.dispose()


async def test_a_reassign_racing_an_accept_ends_consistent(postgres_url: str, clock: ManualClock) -> None:
    """PostgreSQL, two transactions at once: the Accept takes no queue lock, so either it wins
    (and its acceptance is what the reassign ends) or the reassign does (and the Accept is told
    the offer is no longer there). Either way one rep holds the lead, counts add up."""
    service = await make_service(postgres_url, clock, config())
    for round_ in range(8):
        lead = f"R-{round_}"
        first = await service.assignment.route({"id": lead})
        assert first.assignee is not None and first.assignment_id is not None
        holder = first.assignee.slack_id
        target = next(m for m in ("U01A", "U02B", "U03C") if m != holder)
        accepted, moved = await asyncio.gather(
            service.assignment.accept(first.assignment_id, actor=holder),
            service.assignment.reassign(lead, target, actor=BOSS))
        states = await rows(service, lead)
        assert [s for s in states if s[1] in ("offered", "accepted")] == [(target, "offered", "reassign")]
        assert states[0][:2] == (holder, "reassigned")
        assert moved.previous_state == ("accepted" if accepted.changed else "offered")
    counts = await open_leads(service)
    async with service.db.engine.connect() as c:
        offered = (await c.execute(select(Member.slack_id, Assignment.id).join(
            Assignment, Assignment.member_id == Member.id).where(Assignment.state == "offered"))).all()
    assert {m: sum(1 for s, _ in offered if s == m) for m in counts} == counts
    assert sum(lag for _, lag in (await ledger(service)).values()) == 0
    await service.db.dispose()

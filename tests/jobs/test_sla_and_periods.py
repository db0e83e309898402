"""SLA reassignment and period reset, driven through the job runner with a manual clock."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.delivery.transports import plain_text
from bot.jobs.runner import JobRunner
from bot.store.models import AuditEvent, OutboxMessage

TO_MANAGERS = ("managers_note", "sla_exhausted")  # what the managers are told, in words or as a fact

CONFIG = """
timezone: America/New_York
period: monthly
managers: [U0MGR]
sla: {max_hops: 2}
members:
  - {slack_id: U0ALICE, name: Alice}
  - {slack_id: U0BOB, name: Bob}
  - {slack_id: U0CAROL, name: Carol}
queues:
  - {name: sales, sla_minutes: 30,
     members: [{slack_id: U0ALICE}, {slack_id: U0BOB}, {slack_id: U0CAROL}]}
rules:
  - {name: all, queue: sales}
"""


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def counts(service) -> dict[str, int]:
    (queue,) = await service.ledger.standings("sales")
    return {seat.slack_id: seat.received for seat in queue.seats}


async def outbox(service) -> list[OutboxMessage]:
    async with service.db.transaction() as connection:
        return list((await connection.execute(select(OutboxMessage.__table__)
                                              .order_by(OutboxMessage.id))).all())


async def test_sla_moves_the_lead_credits_back_and_tells_managers(make_service, clock, leads) -> None:
    service = await make_service(CONFIG)
    runner = JobRunner(service, service.db, None, clock, holder="A")
    first = await leads.route(service)
    assert first == "U0ALICE"
    assert await counts(service) == {"U0ALICE": 1, "U0BOB": 0, "U0CAROL": 0}

    clock.advance(minutes=29, seconds=59)
    assert (await runner.run_once(force=True))["sla"]["reassigned"] == 0

    clock.advance(seconds=1)
    assert (await runner.run_once(force=True))["sla"] == {"reassigned": 1, "leads": ["L1"]}
    # Alice's share is credited back; Bob has it now.
    assert await counts(service) == {"U0ALICE": 0, "U0BOB": 1, "U0CAROL": 0}
    record = await service.assignment.lead("L1")
    assert [(a["assignee"]["slack_id"], a["state"], a["hop"]) for a in record.assignments] == [
        ("U0ALICE", "expired", 0), ("U0BOB", "offered", 1)]
    assert not [m for m in await outbox(service) if m.payload.get("event") in TO_MANAGERS]

    # Running again in the same minute does nothing: the job is idempotent.
    assert (await runner.run_once(force=True))["sla"]["reassigned"] == 0

    clock.advance(minutes=30)  # Bob misses it too: that was the last allowed hop
    assert (await runner.run_once())["sla"]["reassigned"] == 1
    assert await counts(service) == {"U0ALICE": 0, "U0BOB": 0, "U0CAROL": 1}
    notes = [m for m in await outbox(service) if m.payload.get("event") in TO_MANAGERS]
    assert [(m.kind, m.payload["to"]) for m in notes] == [("dm", "U0MGR")]
    assert notes[0].payload["lead"]["id"] == "L1" and "L1" in plain_text(notes[0].payload)


async def test_accepted_lead_is_never_moved(make_service, clock, leads) -> None:
    service = await make_service(CONFIG)
    runner = JobRunner(service, service.db, None, clock, holder="A")
    await leads.route(service)
    record = await service.assignment.lead("L1")
    await service.assignment.accept(record.assignments[0]["assignment_id"], actor="U0ALICE")
    clock.advance(hours=5)
    assert (await runner.run_once())["sla"]["reassigned"] == 0
    assert await counts(service) == {"U0ALICE": 1, "U0BOB": 0, "U0CAROL": 0}


async def test_period_starts_at_team_midnight(make_service, clock, leads) -> None:
    clock.set(utc(2026, 11, 30, 12))
    service = await make_service(CONFIG)
    runner = JobRunner(service, service.db, None, clock, holder="A")
    for _ in range(3):
        await leads.route(service)
        latest = await service.assignment.lead(f"L{leads.count}")
        await service.assignment.accept(latest.assignments[0]["assignment_id"], actor="x")
    assert sum((await counts(service)).values()) == 3

    clock.set(utc(2026, 12, 1, 4, 59))  # Nov 30 23:59 in New York: still November
    assert (await runner.run_once(force=True))["periods"] == {"started": []}
    clock.set(utc(2026, 12, 1, 5, 0))  # Dec 1 00:00 in New York
    assert (await runner.run_once(force=True))["periods"] == {"started": ["sales"]}
    assert await counts(service) == {"U0ALICE": 0, "U0BOB": 0, "U0CAROL": 0}
    assert (await runner.run_once(force=True))["periods"] == {"started": []}  # once only
    november = await service.ledger.report(period="2026-11")
    assert sum(row.leads for row in november) == 3


async def test_period_reset_catches_up_after_downtime_once(make_service, clock, leads) -> None:
    clock.set(utc(2026, 11, 20, 12))
    service = await make_service(CONFIG)
    await leads.route(service)
    runner = JobRunner(service, service.db, None, clock, holder="A")
    assert (await runner.run_once())["periods"] == {"started": []}
    clock.set(utc(2027, 2, 14, 15))  # down for almost three months
    assert (await runner.run_once())["periods"] == {"started": ["sales"]}
    assert (await service.ledger.standings("sales"))[0].period == "2027-02"
    clock.advance(minutes=5)
    assert (await runner.run_once())["periods"] == {"started": []}
    async with service.db.transaction() as connection:
        resets = (await connection.execute(select(AuditEvent.details).where(
            AuditEvent.action == "period_reset"))).scalars().all()
    assert resets == [{"closed": "2026-11", "opened": "2027-02"}]

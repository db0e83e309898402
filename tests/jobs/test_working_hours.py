"""Working hours and availability buckets (queues with respect_working_hours)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.jobs.runner import JobRunner, default_jobs

CONFIG = """
timezone: UTC
members:
  - {slack_id: U0BERLIN, name: Berta, timezone: Europe/Berlin, working_hours: "Mon-Fri 09:00-17:00"}
  - {slack_id: U0NEWYORK, name: Nate, timezone: America/New_York, working_hours: "Mon-Fri 09:00-17:00"}
  - {slack_id: U0SUNDAY, name: Sunny, timezone: Europe/Berlin, working_hours: "Sun 09:00-10:00"}
  - {slack_id: U0MONDAY, name: Mo, timezone: UTC, working_hours: "Mon 09:00-10:00"}
  - {slack_id: U0ANYTIME, name: Any, timezone: UTC, working_hours: "Mon-Fri 09:00-17:00"}
queues:
  - {name: hours, respect_working_hours: true,
     members: [{slack_id: U0BERLIN}, {slack_id: U0NEWYORK}, {slack_id: U0SUNDAY}]}
  - {name: monday, respect_working_hours: true, members: [{slack_id: U0MONDAY}]}
  - {name: ignore, respect_working_hours: false, members: [{slack_id: U0ANYTIME}]}
  - {name: nights, respect_working_hours: true, fallback: ignore, members: [{slack_id: U0BERLIN}]}
rules:
  - {name: nights, when: {field: q, op: equals, value: nights}, queue: nights}
  - {name: monday, when: {field: q, op: equals, value: monday}, queue: monday}
  - {name: ignore, when: {field: q, op: equals, value: ignore}, queue: ignore}
  - {name: rest, queue: hours}
"""


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def test_start_of_hours_is_in_and_end_is_out(make_sqlite_service, clock, leads) -> None:
    service = await make_sqlite_service(CONFIG)
    # Wed Dec 2: Berlin works 08:00-16:00 UTC, New York 14:00-22:00 UTC.
    clock.set(utc(2026, 12, 2, 8, 0))
    assert await leads.route(service) == "U0BERLIN"
    clock.set(utc(2026, 12, 2, 13, 59, 59))
    assert await leads.route(service) == "U0BERLIN"
    clock.set(utc(2026, 12, 2, 16, 0))  # Berlin's 17:00: out; New York works
    assert await leads.route(service) == "U0NEWYORK"
    clock.set(utc(2026, 12, 2, 21, 59))
    assert await leads.route(service) == "U0NEWYORK"


async def test_explanation_says_when_someone_is_back(make_sqlite_service, clock) -> None:
    service = await make_sqlite_service(CONFIG)
    clock.set(utc(2026, 12, 2, 16, 0))
    outcome = await service.assignment.route({"id": "L1"})
    reasons = {c.get("slack_id"): c for c in outcome.explanation["candidates"]}
    assert "outside working hours, back Thu 09:00 Europe/Berlin" in str(reasons["U0BERLIN"])


async def test_queue_without_respect_working_hours_ignores_them(make_sqlite_service, clock, leads) -> None:
    service = await make_sqlite_service(CONFIG)
    clock.set(utc(2026, 12, 5, 3, 0))  # Saturday night
    assert await leads.route(service, q="ignore") == "U0ANYTIME"


async def test_out_of_hours_a_queue_with_a_fallback_uses_it(make_sqlite_service, clock, leads) -> None:
    service = await make_sqlite_service(CONFIG)
    clock.set(utc(2026, 12, 2, 9, 0))  # Berta works: her queue keeps the lead
    assert await leads.route(service, q="nights") == "U0BERLIN"
    clock.set(utc(2026, 12, 2, 23, 0))  # Berta is off until 08:00 UTC: the fallback takes it
    outcome = await service.assignment.route({"id": "N2", "q": "nights"})
    assert outcome.queue == "ignore" and outcome.assignee.slack_id == "U0ANYTIME"
    assert "fell back to ignore" in str(outcome.explanation)


async def test_nobody_working_goes_to_the_earliest_bucket(make_sqlite_service, clock, leads) -> None:
    service = await make_sqlite_service(CONFIG)
    # Fri Dec 4 22:00 UTC: New York just stopped. Sunny starts Sun 08:00 UTC (34 h, the 48 h
    # bucket); Berta and Nate start on Monday (58 h and 64 h, the 72 h bucket).
    clock.set(utc(2026, 12, 4, 22, 0))
    outcome = await service.assignment.route({"id": "F1"})
    assert outcome.assignee is not None and outcome.assignee.slack_id == "U0SUNDAY"
    assert "within 48 h" in outcome.explanation["summary"] + str(outcome.explanation)


async def test_a_bucket_shares_leads_by_the_rotation(make_sqlite_service, clock, leads) -> None:
    service = await make_sqlite_service(CONFIG)
    await service.availability.pause("U0SUNDAY", actor="U0SUNDAY")
    clock.set(utc(2026, 12, 4, 22, 0))  # Berta and Nate both in the 72 h bucket
    got = [await leads.route(service) for _ in range(4)]
    assert sorted(got) == ["U0BERLIN", "U0BERLIN", "U0NEWYORK", "U0NEWYORK"]
    assert got[0] != got[1] and got[2] != got[3]


async def test_nobody_within_120_hours_waits_for_the_pending_job(make_sqlite_service, clock, leads) -> None:
    service = await make_sqlite_service(CONFIG)
    clock.set(utc(2026, 12, 7, 10, 0))  # Monday 10:00: Mo's next start is in 167 h
    outcome = await service.assignment.route({"id": "M1", "q": "monday"})
    assert outcome.status == "unassigned"
    assert "nobody in monday is available" in (await service.assignment.lead("M1")).reason
    runner = JobRunner(service, service.db, None, clock,
                       jobs=[j for j in default_jobs() if j.name == "pending"], holder="A")
    clock.set(utc(2026, 12, 10, 10, 0))  # Thursday: now within 120 h of Monday 09:00
    assert (await runner.run_once())["pending"]["assigned"] == 1
    assert (await service.assignment.lead("M1")).assignments[0]["assignee"]["slack_id"] == "U0MONDAY"

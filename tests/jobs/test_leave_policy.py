"""Leave policy edges: when scheduled leave stops and restarts a member's leads.

Policy under test (time_off in the config): leave longer than long_leave_days (5) pauses
pause_days_before (2) days early; any leave pauses at the member's local midnight and
resumes at local midnight of the day after its last day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.routing.clock import ManualClock

CONFIG = """
timezone: UTC
time_off: {long_leave_days: 5, pause_days_before: 2}
members:
  - {slack_id: U0ALICE, name: Alice, timezone: %s}
queues:
  - {name: solo, members: [{slack_id: U0ALICE}]}
rules:
  - {name: all, queue: solo}
"""


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def expect(service, clock: ManualClock, leads, moment: datetime, gets_leads: bool) -> None:
    clock.set(moment)
    assignee = await leads.route(service)
    assert (assignee == "U0ALICE") is gets_leads, f"at {moment.isoformat()}"
    status = await service.availability.member_status("U0ALICE")
    assert (status.state == "active") is gets_leads, (moment, status.state)
    if not gets_leads:
        assert status.state == "on leave"


async def test_exactly_long_leave_days_pauses_on_the_first_day(make_service, clock, leads) -> None:
    service = await make_service(CONFIG % "Europe/Berlin")
    leave = await service.availability.add_leave("U0ALICE", date(2026, 12, 14), date(2026, 12, 18),
                                                 actor="U0ALICE")
    # Mon 14 00:00 Berlin = Sun 13 23:00 UTC; back Sat 19 00:00 Berlin = Fri 18 23:00 UTC.
    assert leave.pause_from == utc(2026, 12, 13, 23)
    assert leave.resume_at == utc(2026, 12, 18, 23)
    await expect(service, clock, leads, utc(2026, 12, 11, 23), True)  # 2 days early: not for 5 days
    await expect(service, clock, leads, utc(2026, 12, 13, 22, 59), True)
    await expect(service, clock, leads, utc(2026, 12, 13, 23), False)
    await expect(service, clock, leads, utc(2026, 12, 18, 22, 59), False)
    await expect(service, clock, leads, utc(2026, 12, 18, 23), True)


async def test_one_day_longer_pauses_two_days_early(make_service, clock, leads) -> None:
    service = await make_service(CONFIG % "Europe/Berlin")
    leave = await service.availability.add_leave("U0ALICE", date(2026, 12, 14), date(2026, 12, 19),
                                                 actor="U0ALICE")
    assert leave.pause_from == utc(2026, 12, 11, 23)  # Sat 12 00:00 Berlin
    assert leave.resume_at == utc(2026, 12, 19, 23)  # Sun 20 00:00 Berlin
    await expect(service, clock, leads, utc(2026, 12, 11, 22, 59), True)
    await expect(service, clock, leads, utc(2026, 12, 11, 23), False)
    await expect(service, clock, leads, utc(2026, 12, 19, 22, 59), False)
    await expect(service, clock, leads, utc(2026, 12, 19, 23), True)


async def test_member_east_of_utc_is_paused_while_utc_is_the_day_before(make_service, clock, leads) -> None:
    service = await make_service(CONFIG % "Pacific/Auckland")  # UTC+13 in December
    await service.availability.add_leave("U0ALICE", date(2026, 12, 14), date(2026, 12, 15), actor="U0ALICE")
    await expect(service, clock, leads, utc(2026, 12, 13, 10, 59), True)
    await expect(service, clock, leads, utc(2026, 12, 13, 11), False)  # UTC says Sunday 13th
    await expect(service, clock, leads, utc(2026, 12, 15, 10, 59), False)
    await expect(service, clock, leads, utc(2026, 12, 15, 11), True)  # Wed 16 00:00 Auckland


async def test_member_west_of_utc_still_works_after_utc_midnight(make_service, clock, leads) -> None:
    service = await make_service(CONFIG % "America/Los_Angeles")  # UTC-8
    await service.availability.add_leave("U0ALICE", date(2026, 12, 14), date(2026, 12, 14), actor="U0ALICE")
    await expect(service, clock, leads, utc(2026, 12, 14, 7, 59), True)  # UTC already says 14th
    await expect(service, clock, leads, utc(2026, 12, 14, 8), False)
    await expect(service, clock, leads, utc(2026, 12, 15, 7, 59), False)
    await expect(service, clock, leads, utc(2026, 12, 15, 8), True)


async def test_leave_across_the_spring_dst_change_in_new_york(make_service, clock, leads) -> None:
    clock.set(utc(2026, 3, 1, 12))
    service = await make_service(CONFIG % "America/New_York")
    # Thu Mar 5 .. Wed Mar 11 (7 days, long): clocks spring forward on Sun Mar 8.
    leave = await service.availability.add_leave("U0ALICE", date(2026, 3, 5), date(2026, 3, 11),
                                                 actor="U0ALICE")
    assert leave.pause_from == utc(2026, 3, 3, 5)  # Tue Mar 3 00:00 EST (UTC-5)
    assert leave.resume_at == utc(2026, 3, 12, 4)  # Thu Mar 12 00:00 EDT (UTC-4)
    await expect(service, clock, leads, utc(2026, 3, 3, 4, 59), True)
    await expect(service, clock, leads, utc(2026, 3, 3, 5), False)
    await expect(service, clock, leads, utc(2026, 3, 12, 3, 59), False)
    await expect(service, clock, leads, utc(2026, 3, 12, 4), True)


async def test_leave_across_the_autumn_dst_change_in_new_york(make_service, clock, leads) -> None:
    clock.set(utc(2026, 10, 20, 12))
    service = await make_service(CONFIG % "America/New_York")
    # Fri Oct 30 .. Mon Nov 2 (4 days, short); clocks fall back on Sun Nov 1.
    leave = await service.availability.add_leave("U0ALICE", date(2026, 10, 30), date(2026, 11, 2),
                                                 actor="U0ALICE")
    assert leave.pause_from == utc(2026, 10, 30, 4)  # 00:00 EDT
    assert leave.resume_at == utc(2026, 11, 3, 5)  # 00:00 EST
    await expect(service, clock, leads, utc(2026, 10, 30, 3, 59), True)
    await expect(service, clock, leads, utc(2026, 10, 30, 4), False)
    await expect(service, clock, leads, utc(2026, 11, 3, 4, 59), False)
    await expect(service, clock, leads, utc(2026, 11, 3, 5), True)


async def test_cancelled_leave_no_longer_pauses(make_service, clock, leads) -> None:
    service = await make_service(CONFIG % "UTC")
    await service.availability.add_leave("U0ALICE", date(2026, 12, 2), date(2026, 12, 3), actor="U0ALICE")
    await expect(service, clock, leads, utc(2026, 12, 2, 9), False)
    await service.availability.cancel_leave("U0ALICE", actor="U0ALICE")
    await expect(service, clock, leads, utc(2026, 12, 2, 10), True)


async def test_lead_waiting_during_leave_goes_out_by_the_pending_job(make_service, clock, leads) -> None:
    from bot.jobs.runner import JobRunner, default_jobs

    service = await make_service(CONFIG % "UTC")
    await service.availability.add_leave("U0ALICE", date(2026, 12, 2), date(2026, 12, 2), actor="U0ALICE")
    clock.set(utc(2026, 12, 2, 9))
    assert await leads.route(service) is None
    runner = JobRunner(service, service.db, None, clock,
                       jobs=[j for j in default_jobs() if j.name == "pending"], holder="A")
    assert (await runner.run_once())["pending"] == {"assigned": 0, "leads": []}
    clock.set(utc(2026, 12, 3, 0, 0))
    assert (await runner.run_once())["pending"] == {"assigned": 1, "leads": ["L1"]}
    assert (await service.assignment.lead("L1")).assignments[0]["assignee"]["slack_id"] == "U0ALICE"

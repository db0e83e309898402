"""The calendar job against feeds served by a local aiohttp server (trusted by the operator)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from calendar_feeds import calendar_runner, notes

from bot.jobs import calendar as calendar_job

CALENDARS = Path(__file__).parent / "calendars"

CONFIG = """
timezone: UTC
members:
  - {slack_id: U0ALICE, name: Alice, timezone: Europe/Berlin}
  - {slack_id: U0BOB, name: Bob}
  - {slack_id: U0CAROL, name: Carol}
  - {slack_id: U0DAN, name: Dan, timezone: America/Los_Angeles}
queues:
  - {name: alice, members: [{slack_id: U0ALICE}]}
  - {name: dan, members: [{slack_id: U0DAN}]}
rules:
  - {name: dan, when: {field: q, op: equals, value: dan}, queue: dan}
  - {name: alice, queue: alice}
"""


@pytest.fixture(autouse=True)
def trusted(trust_loopback: None) -> None:
    """These feeds are served from 127.0.0.1, which the operator trusts here."""


async def test_feeds_become_leave_and_broken_feeds_are_reported_once(make_service, clock, leads,
                                                                     feeds) -> None:
    state, server = feeds
    state.serve("/alice.ics", (CALENDARS / "vacation.ics").read_bytes())
    state.serve("/broken.ics", b"oops", 500)
    state.serve("/garbage.ics", b"<html>login required</html>")
    service = await make_service(CONFIG)
    await service.availability.set_calendar("U0ALICE", str(server.make_url("/alice.ics")), actor="U0ALICE")
    await service.availability.set_calendar("U0BOB", str(server.make_url("/broken.ics")), actor="U0BOB")
    await service.availability.set_calendar("U0CAROL", str(server.make_url("/garbage.ics")), actor="U0CAROL")
    runner = calendar_runner(service, clock)

    result = (await runner.run_once())["calendar"]
    assert result == {"feeds": 3, "synced": 1, "failed": 2, "added": 5, "cancelled": 0}
    assert [(v.starts_on.isoformat(), v.ends_on.isoformat(), v.source)
            for v in await service.availability.leaves("U0ALICE")] == [
        ("2026-12-03", "2026-12-03", "calendar"), ("2026-12-14", "2026-12-18", "calendar"),
        ("2027-01-08", "2027-01-08", "calendar"), ("2027-01-22", "2027-01-22", "calendar"),
        ("2027-01-29", "2027-01-29", "calendar")]
    told = await notes(service)
    assert sorted((kind, to) for kind, to, _ in told) == [("dm", "U0BOB"), ("dm", "U0CAROL")]
    assert all(key.startswith(f"calendar-failed:{to}:") for _, to, key in told)

    # The next run: nothing new to add, the broken feeds are retried but not reported again.
    clock.advance(minutes=15)
    assert (await runner.run_once())["calendar"] == {
        "feeds": 3, "synced": 1, "failed": 2, "added": 0, "cancelled": 0}
    assert len(await notes(service)) == 2
    assert state.hits.count("/broken.ics") == 2

    # The leave from the feed keeps Alice out of the rotation on her PTO day (Berlin time).
    clock.set(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    assert await leads.route(service) is None

    # The vacation moves in the feed; Bob's feed is fixed.
    state.serve("/alice.ics", (CALENDARS / "vacation-moved.ics").read_bytes())
    state.serve("/broken.ics", (CALENDARS / "floating-and-utc.ics").read_bytes())
    clock.advance(minutes=15)
    result = (await runner.run_once())["calendar"]
    assert result["failed"] == 1 and result["synced"] == 2
    assert [(v.starts_on, v.ends_on) for v in await service.availability.leaves("U0ALICE")] == [
        (date(2026, 12, 21), date(2026, 12, 23))]
    assert len(await service.availability.leaves("U0BOB")) == 3


async def test_a_slow_feed_times_out_without_holding_up_the_others(make_service, clock, feeds,
                                                                  monkeypatch) -> None:
    state, server = feeds
    monkeypatch.setattr(calendar_job, "FETCH_TIMEOUT_SECONDS", 0.3)
    state.serve("/alice.ics", (CALENDARS / "vacation.ics").read_bytes())
    service = await make_service(CONFIG)
    await service.availability.set_calendar("U0ALICE", str(server.make_url("/alice.ics")), actor="U0ALICE")
    await service.availability.set_calendar("U0BOB", str(server.make_url("/slow.ics")), actor="U0BOB")
    await service.availability.set_calendar("U0CAROL", "http://127.0.0.1:9/nothing-listens-here.ics",
                                            actor="U0CAROL")
    result = (await calendar_runner(service, clock).run_once())["calendar"]
    assert result == {"feeds": 3, "synced": 1, "failed": 2, "added": 5, "cancelled": 0}
    texts = {to: key for _, to, key in await notes(service)}
    assert set(texts) == {"U0BOB", "U0CAROL"}


async def test_removed_calendar_url_stops_polling(make_service, clock, feeds) -> None:
    state, server = feeds
    state.serve("/alice.ics", (CALENDARS / "vacation.ics").read_bytes())
    service = await make_service(CONFIG)
    await service.availability.set_calendar("U0ALICE", str(server.make_url("/alice.ics")), actor="U0ALICE")
    runner = calendar_runner(service, clock)
    await runner.run_once()
    await service.availability.set_calendar("U0ALICE", None, actor="U0ALICE")
    clock.advance(minutes=15)
    assert (await runner.run_once())["calendar"]["feeds"] == 0
    assert state.hits == ["/alice.ics"]


async def test_ongoing_calendar_leave_survives_a_sync_after_utc_midnight(make_service, clock, leads,
                                                                        feeds) -> None:
    state, server = feeds
    state.serve("/dan.ics", b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
                                     b"UID:d1\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;VALUE=DATE:20261201\r\n"
                                     b"DTEND;VALUE=DATE:20261202\r\nSUMMARY:Vacation\r\nEND:VEVENT\r\n"
                                     b"END:VCALENDAR\r\n")
    service = await make_service(CONFIG)
    await service.availability.set_calendar("U0DAN", str(server.make_url("/dan.ics")), actor="U0DAN")
    runner = calendar_runner(service, clock)
    await runner.run_once()  # Dec 1 04:00 in Los Angeles: on leave all day
    assert await leads.route(service, q="dan") is None
    clock.set(datetime(2026, 12, 2, 2, 0, tzinfo=UTC))  # Dec 1 18:00 in Los Angeles
    await runner.run_once()
    assert await leads.route(service, q="dan") is None

"""A queue's ledger kept in memory between transactions routes exactly as a fresh read.

Each test routes through a service whose ledgers are kept (`bot.routing.ledger.cache`)
and checks every decision against a router that reads the database afresh, in a
transaction rolled back just before. Writes go through a second service on the same
database (a second replica): if a write forgot to move the queue's version, the first
service would route on its stale copy, and the two decisions would differ.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from factories import make_config, make_member, make_queue, make_service
from sqlalchemy import Connection

from bot.config.routing import load_text
from bot.routing.assignment.router import Router
from bot.routing.clock import ManualClock
from bot.routing.ledger.cache import LedgerCache
from bot.routing.results import Calibration, RouteOutcome
from bot.routing.service import RoutingService
from bot.store.db import Database

BOSS = "U0BOSS"
PEOPLE = ("U01ANA", "U02BEN", "U03CAT", "U04DAN")


def four_config(**queue: Any) -> str:
    members = [make_member(p, timezone="Europe/London") for p in PEOPLE]
    seats = [{"slack_id": p, "weight": w} for p, w in zip(PEOPLE, (1, 2, 3, 1), strict=True)]
    return make_config(members, [make_queue("q", seats, **queue)])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 10, 12, 0, tzinfo=UTC))  # a Tuesday


def ledgers(service: RoutingService) -> LedgerCache:
    return service.assignment.router.ledgers


async def fresh_decision(db: Database, fields: dict[str, Any], now: datetime) -> RouteOutcome:
    """The decision a router that keeps nothing makes, rolled back."""

    def work(connection: Connection) -> RouteOutcome:
        return Router().route(connection, str(fields["id"]), fields, now, "api")

    return await db.run(work, commit=False)


class Checked:
    """Routes through `service` and holds every decision to a fresh read's."""

    def __init__(self, service: RoutingService, clock: ManualClock) -> None:
        self.service, self.clock, self.count = service, clock, 0

    async def route(self, **fields: Any) -> RouteOutcome:
        self.count += 1
        lead = {"id": f"L-{self.count}", **fields}
        expected = await fresh_decision(self.service.db, lead, self.clock.now())
        got = await self.service.assignment.route(lead)
        assert got.assignee == expected.assignee, (lead["id"], got.explanation["summary"])
        assert got.explanation == expected.explanation
        return got

    async def read_again_after(self, write: Any) -> None:
        """`write` (through another replica) makes this service read the queue again."""
        reads = ledgers(self.service).reads
        await write
        await self.route()
        assert ledgers(self.service).reads == reads + 1, "the kept ledger was used after a write"


async def test_a_queue_is_read_once_and_then_kept(database_url: str, clock: ManualClock) -> None:
    service = await make_service(database_url, clock, four_config())
    checked = Checked(service, clock)
    for _ in range(12):
        await checked.route()
    assert ledgers(service).reads == 1 and ledgers(service).reuses == 11


async def test_every_write_through_another_replica_is_seen(database_url: str, clock: ManualClock) -> None:
    service = await make_service(database_url, clock, four_config())
    other = RoutingService(Database(database_url), clock)
    checked = Checked(service, clock)
    try:
        for _ in range(3):
            await checked.route()
        await checked.read_again_after(other.assignment.route({"id": "elsewhere-1"}))
        await checked.read_again_after(other.availability.pause("U03CAT", reason="offsite", actor="U03CAT"))
        assert "paused (offsite)" in str(checked_excluded(await checked.route()))
        await checked.read_again_after(other.availability.resume("U03CAT", actor="U03CAT"))
        await checked.read_again_after(
            other.availability.add_leave("U02BEN", date(2026, 11, 10), date(2026, 11, 12), actor="U02BEN"))
        assert "on leave until" in str(checked_excluded(await checked.route()))
        await checked.read_again_after(other.availability.cancel_leave("U02BEN", actor="U02BEN"))
        await checked.read_again_after(other.availability.apply_slack_status(
            "U01ANA", text="Vacation", emoji=":palm_tree:", expiration=0))
        await checked.read_again_after(other.availability.set_timezone(
            "U04DAN", "Asia/Tokyo", only_if_unset=False))
        await checked.read_again_after(other.admin.calibrate(
            Calibration("q", "U04DAN", weight="5"), actor=BOSS))
        await checked.read_again_after(other.admin.calibrate(
            Calibration("q", "U02BEN", adjustment=3, note="took a call"), actor=BOSS))
        await checked.read_again_after(other.admin.calibrate(
            Calibration("q", "U03CAT", active=False), actor=BOSS))
        await checked.read_again_after(other.admin.remove_from_queue("U04DAN", "q", actor=BOSS))
        await checked.read_again_after(other.admin.add_to_queue("U04DAN", "q", actor=BOSS))
        changed = four_config().replace("timezone: Europe/London", "timezone: Europe/Paris", 1)
        await checked.read_again_after(other.admin.apply_config(load_text(changed)))
        for _ in range(6):
            await checked.route()
    finally:
        await other.db.dispose()


def checked_excluded(outcome: RouteOutcome) -> list[str]:
    return [c["excluded"] for c in outcome.explanation["candidates"] if c["excluded"]]


async def test_a_transaction_rolled_back_leaves_nothing_kept(database_url: str, clock: ManualClock) -> None:
    service = await make_service(database_url, clock, four_config())
    checked = Checked(service, clock)
    await checked.route()
    reads = ledgers(service).reads
    await service.assignment.route({"id": "dry"}, dry_run=True)  # decided, saved, rolled back
    await checked.route()
    assert ledgers(service).reads == reads + 1  # the dry run used the kept one; the next lead reads


async def test_pauses_leaves_and_statuses_end_on_time(database_url: str, clock: ManualClock) -> None:
    service = await make_service(database_url, clock, four_config())
    checked = Checked(service, clock)
    await service.availability.pause("U03CAT", until=date(2026, 11, 12), actor="U03CAT")
    await service.availability.add_leave("U02BEN", date(2026, 11, 13), date(2026, 11, 14), actor="U02BEN")
    await service.availability.apply_slack_status("U01ANA", text="Vacation", emoji=":palm_tree:",
                                                  expiration=int(datetime(2026, 11, 11, 9, 30,
                                                                          tzinfo=UTC).timestamp()))
    reasons = set()
    for _ in range(7 * 24 * 2):  # every half hour for a week
        outcome = await checked.route()
        reasons.update(checked_excluded(outcome))
        clock.advance(minutes=30)
    assert {"Slack status says away", "paused until Nov 12"} <= reasons
    assert any(reason.startswith("on leave until") for reason in reasons)


async def test_working_hours_open_and_close_on_time_across_a_dst_change(
    database_url: str, clock: ManualClock
) -> None:
    hours = {"U01ANA": "Mon-Fri 09:00-17:00", "U02BEN": "Sun 01:30-02:45; Mon-Sat 06:00-10:00",
             "U03CAT": "Sat-Sun 00:00-24:00", "U04DAN": "Mon-Fri 22:00-23:30"}
    members = [make_member(p, timezone="America/New_York", working_hours=hours[p]) for p in PEOPLE]
    config = make_config(members, [make_queue("q", list(PEOPLE), respect_working_hours=True)])
    clock.set(datetime(2026, 3, 6, 20, 0, tzinfo=UTC))  # the Friday before clocks go forward
    service = await make_service(database_url, clock, config)
    checked = Checked(service, clock)
    winners = set()
    for _ in range(4 * 24 * 4):  # every quarter hour for four days
        outcome = await checked.route()
        winners.add(outcome.assignee.slack_id if outcome.assignee else None)
        clock.advance(minutes=15)
    assert set(PEOPLE) <= winners
    assert ledgers(service).reuses > ledgers(service).reads  # kept between the hours' events


async def test_capacity_reached_in_one_queue_holds_in_the_other(
    database_url: str, clock: ManualClock
) -> None:
    members = [make_member("U01ANA", capacity=1), make_member("U02BEN")]
    queues = [make_queue("one", ["U01ANA"]), make_queue("two", [{"slack_id": "U01ANA", "weight": 9},
                                                               "U02BEN"])]
    rules = [{"name": "to one", "when": {"field": "to", "op": "equals", "value": "one"}, "queue": "one"},
             {"name": "rest", "queue": "two"}]
    service = await make_service(database_url, clock, make_config(members, queues, rules))
    other = RoutingService(Database(database_url), clock)
    checked = Checked(service, clock)
    try:
        first = await checked.route(to="two")
        assert first.assignee is not None and first.assignee.slack_id == "U01ANA"
        assert checked_excluded(await checked.route(to="two")) == ["at capacity 1/1"]
        await other.assignment.accept(first.assignment_id or 0, actor="U01ANA")  # free again
        third = await checked.route(to="two")
        assert checked_excluded(third) == [] and third.assignee is not None
        assert third.assignee.slack_id == "U01ANA"
        await other.assignment.accept(third.assignment_id or 0, actor="U01ANA")
        accepted = await other.assignment.route({"id": "O-1", "to": "one"})  # full, through the other
        assert accepted.assignee is not None and accepted.assignee.slack_id == "U01ANA"
        assert checked_excluded(await checked.route(to="two")) == ["at capacity 1/1"]
        for _ in range(3):
            await checked.route(to="two")
    finally:
        await other.db.dispose()


async def test_a_batch_over_several_queues_keeps_and_refreshes_them_all(
    database_url: str, clock: ManualClock
) -> None:
    """Group commit opens every queue its leads matched at once (`LedgerCache.open_many`) and
    saves them together (`queues.save_all`): each is kept at the version written, and the
    open-lead counts of all of them are read again, so an accept elsewhere frees a capped rep."""
    members = [make_member("U01ANA", capacity=1), make_member("U02BEN"), make_member("U03CAT")]
    queues = [make_queue(name, [{"slack_id": "U01ANA", "weight": 9}, "U02BEN", "U03CAT"])
              for name in ("one", "two", "three")]
    rules = [{"name": f"to {name}", "when": {"field": "to", "op": "equals", "value": name}, "queue": name}
             for name in ("one", "two", "three")]
    service = await make_service(database_url, clock, make_config(members, queues, rules))
    other = RoutingService(Database(database_url), clock)
    try:
        def batch(n: int) -> list[dict[str, Any]]:
            return [{"id": f"B{n}-{to}", "to": to} for to in ("one", "two", "three")]

        first = await service.assignment.route_many(batch(1))
        ana = [o for o in first if o.assignee is not None and o.assignee.slack_id == "U01ANA"]
        assert len(ana) == 1  # her capacity of one holds across the three queues of one batch
        assert (ledgers(service).reads, ledgers(service).reuses) == (3, 0)
        second = await service.assignment.route_many(batch(2))
        assert (ledgers(service).reads, ledgers(service).reuses) == (3, 3)  # all three kept
        assert all(o.assignee is not None and o.assignee.slack_id != "U01ANA" for o in second)
        await other.assignment.accept(ana[0].assignment_id or 0, actor="U01ANA")  # free again
        third = await service.assignment.route_many(batch(3))
        assert (ledgers(service).reads, ledgers(service).reuses) == (3, 6)  # no version moved
        assert [o.assignee.slack_id for o in third if o.assignee].count("U01ANA") == 1
        for name in ("one", "two", "three"):
            [standing] = await service.ledger.standings(name)
            assert sum(s.received for s in standing.seats) == 3
    finally:
        await other.db.dispose()

"""New leads' messages handed to the delivery loop already claimed: sent at once, never twice, never lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from delivery_support import (
    START,
    count_rounds,
    outbox_rows,
    service_at_start,
    until_all_sent,
)

from bot.delivery import claims
from bot.delivery.child import _listen
from bot.delivery.handover import WAKE, read_order, take_line
from bot.delivery.loop import MAX_DELAY, DeliveryLoop
from bot.delivery.transports import DeliveryError, Message
from bot.routing.assignment.batch import Batch
from bot.routing.service import RoutingService

LEASE = timedelta(seconds=15)


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[RoutingService]:
    async with service_at_start(database_url) as service:
        yield service


class HeldTransport:
    """Records each send; holds every send until `open` is set."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.open = asyncio.Event()
        self.open.set()

    async def send(self, message: Message) -> dict[str, Any]:
        await self.open.wait()
        self.sent.append(message.key)
        return {"ok": True}


def through_the_pipe(owed: list[Message]) -> list[Message]:
    """What the delivery child reads from serve's `take` lines."""
    messages = [read_order(take_line(o)) for o in owed]
    assert all(m is not None for m in messages)
    return messages  # type: ignore[return-value]


@asynccontextmanager
async def running(service: RoutingService, transport: HeldTransport, *, hand_over: bool = True,
                  **options: Any) -> AsyncIterator[DeliveryLoop]:
    """A delivery loop on the service's clock, running (and given new leads' messages, as
    serve's child is through the pipe, when `hand_over`); stopped and finished on exit."""
    loop = DeliveryLoop(service.db, {"dm": transport, "channel": transport}, clock=service.clock, **options)
    if hand_over:
        service.transactions.hand_over_to(lambda owed: loop.take(through_the_pipe(owed)), lease=LEASE)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        yield loop
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_a_new_leads_messages_are_written_claimed_and_handed_over_once_committed(
        service: RoutingService) -> None:
    handed: list[Message] = []
    woken: list[None] = []
    service.transactions.on_commit = lambda: woken.append(None)
    service.transactions.hand_over_to(handed.extend, lease=LEASE)

    outcome = await service.assignment.route({"id": "L-1", "name": "Ada"})

    rows = await outbox_rows(service.db)
    assert sorted((o.id, o.key, o.kind) for o in handed) == sorted((r.id, r.key, r.kind) for r in rows)
    assert {o.kind for o in handed} == {"dm", "channel"}
    dm = next(o for o in handed if o.kind == "dm")
    assert dm.payload["to"] == outcome.assignee.slack_id and dm.lead_id == "L-1" and dm.created_at == START
    assert all(r.available_at == START + LEASE and r.attempts == 1 for r in rows)  # claimed: this attempt
    assert woken == []  # no claim round is needed for them

    again = await service.assignment.route({"id": "L-1"})
    assert again.created is False and len(handed) == 2  # a repeat owes nothing new

    # Nobody else claims them while the lease runs; if the hand-over was lost (serve died
    # between commit and hand-over), any loop claims them once it has run out.
    assert await claims.claim(service.db, START + LEASE - timedelta(seconds=1), lease=LEASE, limit=10) == []
    late = await claims.claim(service.db, START + LEASE + timedelta(seconds=1), lease=LEASE, limit=10)
    assert sorted(m.id for m in late) == sorted(o.id for o in handed) and all(m.attempts == 2 for m in late)


async def test_while_the_taker_is_behind_new_leads_messages_are_written_due_for_the_rounds(
        service: RoutingService) -> None:
    handed: list[Message] = []
    woken: list[None] = []
    behind = True
    service.transactions.on_commit = lambda: woken.append(None)
    service.transactions.hand_over_to(handed.extend, lease=LEASE, taking=lambda: not behind)

    await service.assignment.route({"id": "L-1"})
    rows = await outbox_rows(service.db)
    assert handed == [] and woken == [None]  # the loop is told to claim them itself
    assert len(rows) == 2 and all(r.available_at == START and r.attempts == 0 for r in rows)  # due now

    behind = False
    await service.assignment.route({"id": "L-2"})
    assert [o.lead_id for o in handed] == ["L-2", "L-2"] and woken == [None]


async def test_a_failed_transaction_hands_nothing_over(service: RoutingService,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    handed: list[Message] = []
    service.transactions.hand_over_to(handed.extend, lease=LEASE)

    def broken(batch: Any) -> list[Message]:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(Batch, "finish", broken)  # the batch writes everything, its messages last
    with pytest.raises(RuntimeError):
        await service.assignment.route({"id": "L-1"})
    assert handed == [] and await outbox_rows(service.db) == []


async def test_handed_over_messages_are_sent_without_a_claim_and_recorded_in_few_rounds(
        service: RoutingService) -> None:
    transport = HeldTransport()
    async with running(service, transport, poll_interval=30) as loop:
        rounds = count_rounds(loop)
        for n in range(20):
            await service.assignment.route({"id": f"L-{n}"})  # the clock stands still: none of them is due
        rows = await until_all_sent(service.db, 40)
    assert sorted(transport.sent) == sorted(r.key for r in rows)  # each once
    assert all(r.attempts == 1 and r.result == {"ok": True} for r in rows)
    assert len(rounds) < 20  # the outcomes are recorded together, not a transaction per lead


async def test_beyond_what_it_may_hold_the_loop_releases_them_to_be_claimed_in_turn(
        service: RoutingService) -> None:
    transport = HeldTransport()
    transport.open.clear()
    async with running(service, transport, poll_interval=0.05, max_handed=2):
        for n in range(3):
            await service.assignment.route({"id": f"L-{n}"})  # six messages: two held, four released
        for _ in range(500):  # the four released are due at once, and a round claims them (30 s lease)
            leases = sorted(r.available_at - START for r in await outbox_rows(service.db))
            if leases == [LEASE] * 2 + [timedelta(seconds=30)] * 4:
                break
            await asyncio.sleep(0.01)
        assert leases == [LEASE] * 2 + [timedelta(seconds=30)] * 4
        transport.open.set()
        rows = await until_all_sent(service.db, 6)
    assert sorted(transport.sent) == sorted(r.key for r in rows)  # each once
    assert all(r.attempts == 1 for r in rows)  # a release is not an attempt


async def test_a_lease_that_runs_out_mid_send_does_not_make_the_loop_send_it_twice(
        service: RoutingService) -> None:
    transport = HeldTransport()
    transport.open.clear()
    async with running(service, transport, poll_interval=30) as loop:
        await service.assignment.route({"id": "L-1"})
        service.clock.advance(seconds=60)  # type: ignore[attr-defined]
        loop.wake.set()  # a round claims both (their lease ran out) while the loop still sends them
        for _ in range(500):
            if all(r.attempts == 2 for r in await outbox_rows(service.db)):
                break
            await asyncio.sleep(0.01)
        transport.open.set()
        rows = await until_all_sent(service.db, 2)
    assert sorted(transport.sent) == sorted(r.key for r in rows)  # each once


def test_a_take_line_carries_the_whole_message() -> None:
    owed = Message(7, "assignment:3:dm", "dm", {"to": "U1", "lead": {"name": "Zoë\n\u2028"}}, "L-1", 1, START,
                   START + LEASE)
    message = read_order(take_line(owed))
    assert message == Message(7, "assignment:3:dm", "dm", owed.payload, "L-1", 1, START, START + LEASE)
    assert take_line(owed).count(b"\n") == 1  # one line, whatever the lead holds
    assert read_order(WAKE) is None


async def test_the_child_reads_takes_and_wakes_and_stops_at_the_end_of_its_stdin(
        service: RoutingService) -> None:
    transport = HeldTransport()
    wake = asyncio.Event()
    loop = DeliveryLoop(service.db, {"dm": transport}, wake=wake, clock=service.clock)
    orders, stop = asyncio.StreamReader(), asyncio.Event()
    owed = Message(1, "k-1", "dm", {"to": "U1"}, None, 1, START, START + LEASE)
    orders.feed_data(take_line(owed) + b"take {garbled\n")
    orders.feed_eof()
    await _listen(orders, loop, stop)
    await asyncio.sleep(0.01)
    assert transport.sent == ["k-1"]  # taken and sent
    assert wake.is_set()  # the garbled order made it look at the outbox instead
    assert stop.is_set()  # serve closed the pipe


async def test_a_send_that_ends_while_a_round_claims_it_again_is_not_sent_twice(
        service: RoutingService) -> None:
    """Its lease ran out mid-send; the round's claim takes the row, and the send finishes
    while that round is on its way back: the id stays held until its outcome is recorded."""
    transport = HeldTransport()
    transport.open.clear()
    async with running(service, transport, poll_interval=30) as loop:
        exchange = loop._exchange

        async def sends_finish_during_the_round(outcomes: list[claims.Outcome], room: int) -> list[Message]:
            claimed = await exchange(outcomes, room)
            transport.open.set()
            await asyncio.sleep(0.05)
            return claimed

        await asyncio.sleep(0.05)
        await service.assignment.route({"id": "L-1"})
        service.clock.advance(seconds=20)  # type: ignore[attr-defined]
        loop._exchange = sends_finish_during_the_round  # type: ignore[method-assign]
        loop.wake.set()
        await asyncio.sleep(0.3)
        loop._exchange = exchange  # type: ignore[method-assign]
        loop.wake.set()
        rows = await until_all_sent(service.db, 2)
        await asyncio.sleep(0.1)
    assert sorted(transport.sent) == sorted(r.key for r in rows)  # each once


async def test_a_take_that_arrives_after_its_lease_ran_out_is_left_to_the_rounds(
        service: RoutingService) -> None:
    transport = HeldTransport()
    late: list[Message] = []
    service.transactions.hand_over_to(late.extend, lease=LEASE)  # a slow transaction, or a line read late
    async with running(service, transport, hand_over=False, poll_interval=30) as loop:
        await service.assignment.route({"id": "L-1"})
        service.clock.advance(seconds=16)  # type: ignore[attr-defined]
        loop.wake.set()
        rows = await until_all_sent(service.db, 2)  # a round claimed and sent them
        loop.take(through_the_pipe(late))
        await asyncio.sleep(0.2)
    assert sorted(transport.sent) == sorted(r.key for r in rows)  # each once


async def test_a_message_that_waited_its_turn_past_the_lease_margin_is_released_not_sent(
        service: RoutingService) -> None:
    """With less than the margin of its lease left, another replica may soon claim it: it
    goes back to the outbox (and this loop's rounds claim it afresh) instead of out."""
    transport = HeldTransport()
    transport.open.clear()
    async with running(service, transport, poll_interval=0.05, concurrency=1,
                       lease_margin=5):
        for n in range(3):
            await service.assignment.route({"id": f"L-{n}"})  # six handed over; one sends (held), five wait
        await asyncio.sleep(0.05)
        service.clock.advance(seconds=11)  # type: ignore[attr-defined]  # 4 s of their lease left
        transport.open.set()
        rows = await until_all_sent(service.db, 6)
    assert sorted(transport.sent) == sorted(r.key for r in rows)  # each once
    leases = sorted(r.available_at - START for r in rows)
    assert leases == [LEASE] + [timedelta(seconds=11 + 30)] * 5  # the five were claimed again, afresh
    assert all(r.attempts == 1 for r in rows)


async def test_a_release_after_another_loop_claimed_the_message_changes_nothing(
        service: RoutingService) -> None:
    handed: list[Message] = []
    service.transactions.hand_over_to(handed.extend, lease=LEASE)
    await service.assignment.route({"id": "L-1"})
    later = START + LEASE + timedelta(seconds=1)
    others = await claims.claim(service.db, later, lease=timedelta(seconds=30), limit=10)
    assert len(others) == 2
    stale = [claims.Released(m) for m in through_the_pipe(handed)]
    await claims.record(service.db, stale, later)
    rows = await outbox_rows(service.db)
    assert all(r.available_at == later + timedelta(seconds=30) and r.attempts == 2 for r in rows)


class FailingOnce(HeldTransport):
    """Fails the first send of `key` (a retry is owed), sends everything else."""

    def __init__(self, key_part: str) -> None:
        super().__init__()
        self.key_part, self.failed = key_part, False

    async def send(self, message: Message) -> dict[str, Any]:
        if self.key_part in message.key and not self.failed:
            self.failed = True
            raise DeliveryError("Slack answered 500")
        return await super().send(message)


async def test_a_retry_comes_due_while_handed_over_sends_keep_finishing(service: RoutingService) -> None:
    """Rounds that only record (no wake, sends finishing all the time) still look for due
    messages every poll interval: a retry is not starved by a steady stream of new leads."""
    transport = FailingOnce(":dm")
    async with running(service, transport, poll_interval=0.2) as loop:
        rounds = count_rounds(loop)
        await service.assignment.route({"id": "L-0"})
        for _ in range(100):
            rows = await outbox_rows(service.db)
            if any(r.last_error for r in rows):
                break
            await asyncio.sleep(0.01)
        service.clock.advance(seconds=MAX_DELAY)  # type: ignore[attr-defined]  # the retry is due
        for n in range(1, 200):  # new leads, handed over; no wake
            await service.assignment.route({"id": f"L-{n}"})
            await asyncio.sleep(0.005)
            if len(transport.sent) >= 2 * n + 2:
                break
        rows = await until_all_sent(service.db, 2 * (n + 1))
    assert sorted(transport.sent) == sorted(r.key for r in rows)  # each once, the failed one too
    assert 0 in rounds  # some rounds only recorded


async def test_sends_not_yet_recorded_never_exceed_the_concurrency(service: RoutingService) -> None:
    """What a crash would repeat: messages being sent or sent and not yet committed. However fast
    the transport, the loop never has more of them than its concurrency (here 4)."""
    transport = HeldTransport()
    unrecorded, most = set(), [0]
    send = transport.send

    async def counted(message: Message) -> dict[str, Any]:
        unrecorded.add(message.id)
        most[0] = max(most[0], len(unrecorded))
        return await send(message)

    transport.send = counted  # type: ignore[method-assign]
    async with running(service, transport, poll_interval=0.05, concurrency=4, max_handed=1000) as loop:
        exchange = loop._exchange

        async def recording(outcomes: list[claims.Outcome], room: int) -> list[Message]:
            claimed = await exchange(outcomes, room)
            unrecorded.difference_update(o.message.id for o in outcomes)  # committed
            return claimed

        loop._exchange = recording  # type: ignore[method-assign]
        for n in range(30):
            await service.assignment.route({"id": f"L-{n}"})
        rows = await until_all_sent(service.db, 60)
    assert sorted(transport.sent) == sorted(r.key for r in rows)
    assert most[0] == 4  # the slots were all used (the bound is reached, never passed)

"""The delivery loop against FakeSlack: send, retry (429, 500), give up, lease, wake, no doubles."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from delivery_support import (
    START,
    FakeSlack,
    count_rounds,
    fail_sends,
    outbox_rows,
    prepared_service,
    service_at_start,
    slack_runtime,
    until_all_sent,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery import claims
from bot.delivery.loop import MAX_DELAY, DeliveryLoop, backoff
from bot.delivery.retry_after import MAX_RETRY_AFTER, bounded_delay
from bot.delivery.transports import (
    ConsoleTransport,
    DeliveryError,
    Message,
    SlackTransport,
    default_transports,
)
from bot.routing.clock import ManualClock
from bot.routing.service import RoutingService
from bot.web.metrics import LATENCY_BUCKETS, Metrics


def loop_for(service: RoutingService, runtime: Any, clock: ManualClock | None = None, **options: Any,
             ) -> DeliveryLoop:
    transports = default_transports(runtime, None, None)
    return DeliveryLoop(service.db, transports, service=service, clock=clock or service.clock,
                        metrics=Metrics(), **options)


@pytest.fixture
async def runtime(fake_slack: FakeSlack, service: RoutingService) -> Any:
    runtime = await slack_runtime(fake_slack, service)
    yield runtime
    await runtime.close()


@pytest.fixture
async def service(sqlite_url: str) -> AsyncIterator[RoutingService]:
    async with service_at_start(sqlite_url) as service:
        yield service


async def test_the_delivery_lag_runs_from_owed_to_sent(service: RoutingService, runtime: Any) -> None:
    await service.assignment.route({"id": "L-lag"})
    service.clock.advance(seconds=3)  # type: ignore[attr-defined]
    loop = loop_for(service, runtime)
    await loop.drain()
    lag = loop.metrics.delivery_latency  # type: ignore[attr-defined]
    assert lag._sum.get() == pytest.approx(6.0)  # two messages, each sent 3 s after it was owed
    assert [b.get() for b in lag._buckets][LATENCY_BUCKETS.index(2.5)] == 0  # none sooner than 2.5 s


async def test_an_assignment_sends_the_dm_and_the_channel_post(service: RoutingService,
                                                               fake_slack: FakeSlack,
        runtime: Any) -> None:
    outcome = await service.assignment.route({"id": "L-1", "name": "Ada Lovelace", "company": "Analytical"})
    loop = loop_for(service, runtime)
    await loop.drain()
    calls = fake_slack.calls_to("chat.postMessage")
    assert sorted(c.body["channel"] for c in calls) == sorted([outcome.assignee.slack_id, "C0EMEA"])
    for call in calls:
        assert "L-1" in call.body["text"] and "Ada Lovelace" in call.body["text"]
    rows = await outbox_rows(service.db)
    assert all(r.sent_at is not None and r.attempts == 1 and r.result["ts"] for r in rows)
    assert {r.result["ts"] for r in rows} == {c.response["ts"] for c in calls}


async def test_a_new_lead_wakes_the_loop_at_once(service: RoutingService, fake_slack: FakeSlack,
        runtime: Any) -> None:
    wake, stop = asyncio.Event(), asyncio.Event()
    loop = loop_for(service, runtime, wake=wake, poll_interval=30)
    task = asyncio.create_task(loop.run(stop))
    await asyncio.sleep(0.05)
    await service.assignment.route({"id": "L-fast"})
    wake.set()
    await fake_slack.wait_for("chat.postMessage", 2, timeout=2)
    stop.set()
    await asyncio.wait_for(task, 2)


async def test_429_is_retried_after_retry_after_then_sent(service: RoutingService,
                                                           fake_slack: FakeSlack,
        runtime: Any) -> None:
    clock = service.clock
    await service.assignment.route({"id": "L-1"})
    # slack_sdk honours the first 429s itself; the last one comes back to us with Retry-After.
    fail_sends(fake_slack, runtime, 2, 429, retry_after=120)
    loop = loop_for(service, runtime, clock, concurrency=1)
    assert await loop.run_once() == 2
    rows = await outbox_rows(service.db)
    assert all(r.sent_at is None and "429" in r.last_error for r in rows)
    assert all(r.available_at >= START + timedelta(seconds=120) for r in rows)
    clock.advance(seconds=119)
    assert await loop.run_once() == 0  # not before Retry-After
    clock.advance(seconds=2)
    assert await loop.run_once() == 2
    rows = await outbox_rows(service.db)
    # a 429 with Retry-After is not a failed attempt: the one that got through is the only one
    assert all(r.sent_at is not None and r.attempts == 1 and r.last_error is None for r in rows)


async def test_500_is_retried_with_backoff_then_sent(service: RoutingService, fake_slack: FakeSlack,
        runtime: Any) -> None:
    clock = service.clock
    await service.assignment.route({"id": "L-1"})
    fail_sends(fake_slack, runtime, 2, 500)
    loop = loop_for(service, runtime, clock)
    assert await loop.run_once() == 2
    rows = await outbox_rows(service.db)
    assert all(r.sent_at is None and "500" in r.last_error for r in rows)
    clock.advance(seconds=2)  # the first retry waits between 1 and 2 seconds
    assert await loop.run_once() == 2
    assert all(r.sent_at is not None for r in await outbox_rows(service.db))
    statuses = [c.status for c in fake_slack.calls_to("chat.postMessage")]
    assert statuses.count(200) == 2 and statuses.count(500) >= 2


async def test_after_the_last_attempt_it_gives_up_and_tells_the_managers(service: RoutingService,
                                                                           fake_slack: FakeSlack,
        runtime: Any) -> None:
    clock = service.clock
    await service.assignment.route({"id": "L-9", "name": "Grace"})
    loop = loop_for(service, runtime, clock, max_attempts=2)
    fail_sends(fake_slack, runtime, 4, 500)
    await loop.run_once()
    clock.advance(seconds=MAX_DELAY)
    await loop.run_once()  # second and last attempt: given up, managers' note owed
    rows = await outbox_rows(service.db)
    failed = [r for r in rows if r.failed_at is not None]
    assert len(failed) == 2 and all(r.attempts == 2 and "500" in r.last_error for r in failed)
    assert loop.metrics.delivery_failures.labels("dm")._value.get() == 1
    assert loop.metrics.delivery_failures.labels("channel")._value.get() == 1
    await loop.drain()
    notes = [c for c in fake_slack.calls_to("chat.postMessage") if c.body["channel"] == "C0MANAGERS"]
    assert len(notes) == 2 and all("L-9" in n.body["text"] for n in notes)
    assert any("could not be delivered after 2 attempt" in n.body["text"] for n in notes)


async def test_a_permanent_slack_error_gives_up_at_once(service: RoutingService,
                                                         fake_slack: FakeSlack,
        runtime: Any) -> None:
    await service.assignment.route({"id": "L-1"})
    fake_slack.fail_next("chat.postMessage", 200, error="channel_not_found")
    fake_slack.fail_next("chat.postMessage", 200, error="channel_not_found")
    loop = loop_for(service, runtime)
    await loop.run_once()
    failed = [r for r in await outbox_rows(service.db) if r.failed_at is not None]
    assert len(failed) == 2 and all("channel_not_found" in r.last_error for r in failed)


async def test_a_claimed_message_waits_for_its_lease(service: RoutingService) -> None:
    """A crash between claiming and recording delays a message by the lease, never loses it."""
    await service.assignment.route({"id": "L-1"})
    lease = timedelta(seconds=30)
    first = await claims.claim(service.db, START + timedelta(days=1), lease=lease, limit=10)
    assert len(first) == 2
    assert await claims.claim(service.db, START + timedelta(days=1, seconds=29), lease=lease, limit=10) == []
    again = await claims.claim(service.db, START + timedelta(days=1, seconds=31), lease=lease, limit=10)
    assert [m.id for m in again] == [m.id for m in first] and all(m.attempts == 2 for m in again)


class CountingTransport:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: Message) -> dict[str, Any]:
        await asyncio.sleep(0.001)
        self.sent.append(message.key)
        return {"ok": True}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_two_loops_never_send_a_message_twice(backend: str, sqlite_url: str,
                                                    request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else sqlite_url
    service = await prepared_service(url)
    try:
        for n in range(40):
            await service.assignment.route({"id": f"L-{n}"})
        transport = CountingTransport()
        loops = [DeliveryLoop(service.db, {"dm": transport, "channel": transport}, batch_size=5)
                 for _ in range(3)]
        await asyncio.gather(*(loop.drain() for loop in loops))
        assert sorted(transport.sent) == sorted(set(transport.sent)) and len(transport.sent) == 80
    finally:
        await service.db.dispose()


async def test_the_running_loop_records_sends_as_they_finish_in_few_rounds(service: RoutingService) -> None:
    """A burst of leads, each waking the loop: every send is recorded while the loop runs,
    once each, and the rounds (one transaction each) are far fewer than the wakes."""
    transport = CountingTransport()
    wake, stop = asyncio.Event(), asyncio.Event()
    loop = DeliveryLoop(service.db, {"dm": transport, "channel": transport}, wake=wake, poll_interval=30,
                        batch_size=16, min_interval=0.02)
    rounds = count_rounds(loop)
    task = asyncio.create_task(loop.run(stop))
    for n in range(60):
        await service.assignment.route({"id": f"L-{n}"})
        wake.set()
    rows = await until_all_sent(service.db, 120)
    assert all(r.attempts == 1 for r in rows)
    assert sorted(transport.sent) == sorted(r.key for r in rows)
    assert len(rounds) < 60
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_stopping_finishes_and_records_the_sends_in_hand(service: RoutingService) -> None:
    class Slow(CountingTransport):
        async def send(self, message: Message) -> dict[str, Any]:
            await asyncio.sleep(0.2)
            return await super().send(message)

    transport = Slow()
    for n in range(5):
        await service.assignment.route({"id": f"L-{n}"})
    stop = asyncio.Event()
    loop = DeliveryLoop(service.db, {"dm": transport, "channel": transport}, poll_interval=30)
    task = asyncio.create_task(loop.run(stop))
    await asyncio.sleep(0.05)  # claimed, sending
    stop.set()
    await asyncio.wait_for(task, 5)
    rows = await outbox_rows(service.db)
    assert len(transport.sent) == 10 and all(r.sent_at is not None for r in rows)


async def test_without_slack_each_message_is_a_readable_log_line(service: RoutingService,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    outcome = await service.assignment.route({"id": "L-7", "name": "Ada", "email": "ada@example.com"})
    loop = DeliveryLoop(service.db, default_transports(None, None, None))
    with caplog.at_level(logging.INFO, logger="bot.delivery.console"):
        await loop.drain()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.delivery.console"]
    assert len(lines) == 2
    assert any(line.startswith(f"[DM to {outcome.assignee.slack_id}]") for line in lines)
    assert any(line.startswith("[#C0EMEA]") for line in lines)
    assert all("L-7" in line and "Ada" in line for line in lines)
    assert all(r.sent_at is not None for r in await outbox_rows(service.db))


async def test_a_newline_in_a_lead_cannot_forge_a_log_line(service: RoutingService,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    await service.assignment.route({"id": "L-8", "name": "Eve\nINFO bot.serve: forged\x00"})
    loop = DeliveryLoop(service.db, default_transports(None, None, None))
    with caplog.at_level(logging.INFO, logger="bot.delivery.console"):
        await loop.drain()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.delivery.console"]
    assert len(lines) == 2
    assert all("\n" not in line and "\x00" not in line for line in lines)
    assert all("Eve\\nINFO bot.serve: forged\\x00" in line for line in lines)


async def test_a_transport_bug_is_retried_not_fatal(service: RoutingService) -> None:
    class Broken:
        async def send(self, message: Message) -> dict[str, Any]:
            raise KeyError("oops")

    await service.assignment.route({"id": "L-1"})
    loop = DeliveryLoop(service.db, {"dm": Broken(), "channel": ConsoleTransport()})
    await loop.run_once()
    rows = {r.kind: r for r in await outbox_rows(service.db)}
    assert rows["dm"].sent_at is None and "KeyError" in rows["dm"].last_error
    assert rows["channel"].sent_at is not None


async def test_slack_transport_maps_network_errors_to_a_retry() -> None:
    class Down:
        async def deliver(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
            raise ConnectionRefusedError("down")

    with pytest.raises(DeliveryError) as raised:
        await SlackTransport(Down()).send(Message(1, "k", "dm", {}, None, 1))
    assert not raised.value.permanent


@given(attempts=st.integers(1, 10_000), retry_after=st.one_of(st.none(), st.floats(allow_nan=True)))
@settings(max_examples=300, deadline=None)
def test_backoff_grows_is_capped_and_honours_retry_after(attempts: int, retry_after: float | None) -> None:
    """Any Retry-After (negative, NaN, inf, 1e308) is honoured up to MAX_RETRY_AFTER, never past."""
    delay = backoff(attempts, retry_after)
    cap = min(MAX_DELAY, 2.0 * 2 ** min(attempts - 1, 64))
    honoured = bounded_delay(retry_after) or 0.0
    assert 0 <= honoured <= MAX_RETRY_AFTER
    assert cap / 2 <= delay or delay == honoured
    assert delay <= max(cap, honoured) <= MAX_RETRY_AFTER
    assert delay >= honoured

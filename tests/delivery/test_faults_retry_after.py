"""Attacks on delivery through what the other side answers: a hostile `Retry-After` (from the
webhook or from Slack) and a webhook that hangs.

Whatever the header says, the message is retried within the bound (an hour) or given up on
visibly, its attempts never pass the limit, and no traceback is logged; a hung webhook fills
only the webhook's own slots, so every rep's DM still goes out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from aiohttp import web
from delivery_support import START, FakeSlack, outbox_rows, service_at_start, slack_runtime
from test_faults_webhook import Local, metric, webhook_row

from bot.delivery.loop import CONCURRENCY, DeliveryLoop
from bot.delivery.retry_after import MAX_RETRY_AFTER, retry_after_seconds
from bot.delivery.transports import ConsoleTransport, SlackTransport, WebhookTransport
from bot.routing.service import RoutingService
from bot.web.metrics import Metrics

ATTEMPTS = 3


def http_date(seconds_from_now: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds_from_now), usegmt=True)


# (what the header says, the least delay it must give, the most); the most is the cap.
IN_TWO_MINUTES = "<an HTTP date two minutes after the test starts>"


def when_run(header: str) -> str:
    """A date relative to now is made when the test runs: at collection, a long suite's
    minutes before it would already have eaten the two minutes."""
    return http_date(120) if header == IN_TWO_MINUTES else header


HOSTILE = {
    "negative": ("-5", 0, MAX_RETRY_AFTER),
    "nan": ("nan", 0, MAX_RETRY_AFTER),
    "infinity": ("inf", 0, MAX_RETRY_AFTER),
    "1e400": ("1e400", MAX_RETRY_AFTER, MAX_RETRY_AFTER),
    "huge": ("99999999999999", MAX_RETRY_AFTER, MAX_RETRY_AFTER),
    "garbage": ("soon, maybe", 0, MAX_RETRY_AFTER),
    "long garbage": ("9" * 5000, 0, MAX_RETRY_AFTER),
    "date in the past": ("Thu, 01 Jan 1970 00:00:00 GMT", 0, MAX_RETRY_AFTER),
    "date in 9999": ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER, MAX_RETRY_AFTER),
    "date in two minutes": (IN_TWO_MINUTES, 100, MAX_RETRY_AFTER),
    "seconds": (" 120 ", 120, MAX_RETRY_AFTER),
}


@pytest.fixture
async def service(sqlite_url: str) -> AsyncIterator[RoutingService]:
    async with service_at_start(sqlite_url, webhook=True) as service:
        yield service


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info or r.stack_info]
    assert tracebacks == []
    assert not any("Task exception was never retrieved" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("header", "least", "most"), HOSTILE.values(), ids=HOSTILE.keys())
def test_any_retry_after_is_read_as_a_bounded_delay(header: str, least: float, most: float) -> None:
    """Attack: the header itself, read on its own: always a finite delay within the bound."""
    delay = retry_after_seconds(when_run(header))
    assert delay is None or least <= delay <= most
    if least > 0:
        assert delay is not None  # a real delay is honoured, not dropped


@pytest.mark.parametrize(("header", "least", "most"), HOSTILE.values(), ids=HOSTILE.keys())
async def test_a_webhook_answering_503_with_a_hostile_retry_after_is_retried_then_given_up(
    header: str, least: float, most: float, service: RoutingService, caplog: pytest.LogCaptureFixture
) -> None:
    """Attack: the webhook answers every POST 503 with this Retry-After (`1e400` crashed the
    loop: the event stuck forever, attempts climbing past the limit, never given up)."""
    header = when_run(header)
    server = await Local("127.0.0.1", lambda _r: web.Response(status=503, headers={"Retry-After": header},
                                                              text="busy")).start()
    webhook = WebhookTransport(f"{server.url}/hook", "secret")
    console = ConsoleTransport()
    loop = DeliveryLoop(service.db, {"dm": console, "channel": console, "webhook": webhook},
                        service=service, clock=service.clock, metrics=Metrics(), max_attempts=ATTEMPTS)
    caplog.set_level(logging.INFO)
    try:
        await service.assignment.route({"id": "L-1", "name": "Ada"})
        await loop.run_once()
        row = await webhook_row(service)
        assert row.sent_at is None and row.failed_at is None and row.attempts == 1
        assert "answered 503" in row.last_error
        wait = (row.available_at - START).total_seconds()
        assert max(least, 1.0) <= wait <= most  # retried later (the backoff at least), within the bound
        for _ in range(10):  # more rounds than attempts: never sent past the limit
            service.clock.advance(seconds=MAX_RETRY_AFTER)
            await loop.run_once()
        row = await webhook_row(service)
    finally:
        await webhook.close()
        await server.close()
    assert row.sent_at is None and row.failed_at is not None and row.attempts == ATTEMPTS
    assert len(server.seen) == ATTEMPTS
    assert metric(loop.metrics, 'rotation_delivery_failures_total{kind="webhook"} 1.0')
    notes = [r for r in await outbox_rows(service.db) if r.key.startswith("delivery-failed:")]
    assert len(notes) == 1 and notes[0].sent_at is not None and "lead L-1" in notes[0].payload["text"]
    no_traceback(caplog)


async def test_the_running_loop_survives_retry_after_1e400_and_gives_up_in_time(
    service: RoutingService, caplog: pytest.LogCaptureFixture
) -> None:
    """Attack, as the tester ran it: the running loop (not one pass) against `Retry-After: 1e400`.
    The event is retried each time it comes due, then given up on: counted and told."""
    server = await Local("127.0.0.1", lambda _r: web.Response(status=503, headers={"Retry-After": "1e400"})
                         ).start()
    webhook = WebhookTransport(f"{server.url}/hook", "secret")
    console = ConsoleTransport()
    loop = DeliveryLoop(service.db, {"dm": console, "channel": console, "webhook": webhook},
                        service=service, clock=service.clock, metrics=Metrics(), max_attempts=ATTEMPTS,
                        poll_interval=0.02)
    caplog.set_level(logging.INFO)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        await service.assignment.route({"id": "L-1"})
        for _ in range(500):
            row = await webhook_row(service)
            if row.failed_at is not None:
                break
            if row.last_error and len(server.seen) == row.attempts:  # this attempt is recorded
                service.clock.advance(seconds=MAX_RETRY_AFTER)  # the bound: due again
            await asyncio.sleep(0.01)
        for _ in range(20):  # some polls more: nothing more is tried
            service.clock.advance(seconds=MAX_RETRY_AFTER)
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await webhook.close()
        await server.close()
    row = await webhook_row(service)
    assert row.failed_at is not None and row.attempts == ATTEMPTS and len(server.seen) == ATTEMPTS
    assert metric(loop.metrics, 'rotation_delivery_failures_total{kind="webhook"} 1.0')
    rows = await outbox_rows(service.db)
    assert all(r.sent_at is not None for r in rows if r.kind != "webhook")  # the DM, post and note
    assert any(r.key.startswith("delivery-failed:") for r in rows)
    no_traceback(caplog)


SLACK_HOSTILE = ["1e400", "99999999999", "Fri, 31 Dec 9999 23:59:59 GMT", "garbage", "-1"]


@pytest.mark.parametrize("header", SLACK_HOSTILE)
async def test_slack_answering_429_with_a_hostile_retry_after_is_retried_within_the_bound(
    header: str, service: RoutingService, caplog: pytest.LogCaptureFixture
) -> None:
    """Attack: Slack (or what answers at its address) rate-limits every post with this
    Retry-After. slack_sdk's own handler did `int(header)` (a ValueError and a traceback per
    attempt) or slept that long inside the send (a slot held for years)."""
    posts: list[str] = []

    def rate_limited(request: web.Request) -> web.Response:
        posts.append(request.path)
        return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                 headers={"Retry-After": header})

    slack = await Local("127.0.0.1", rate_limited).start()
    runtime = await slack_runtime(type("Api", (), {"api_url": f"{slack.url}/api/"})(), service)
    transport = SlackTransport(runtime)
    loop = DeliveryLoop(service.db, {"dm": transport, "channel": transport, "webhook": ConsoleTransport()},
                        service=service, clock=service.clock, metrics=Metrics(), max_attempts=2)
    caplog.set_level(logging.INFO)
    try:
        await service.assignment.route({"id": "L-1"})
        await asyncio.wait_for(loop.run_once(), 30)  # no sleep of the header's length
        rows = [r for r in await outbox_rows(service.db) if r.kind in ("dm", "channel")]
        assert len(rows) == 2 and all(r.sent_at is None and "429" in r.last_error for r in rows)
        assert all(timedelta(0) < r.available_at - START <= timedelta(seconds=MAX_RETRY_AFTER) for r in rows)
        service.clock.advance(seconds=MAX_RETRY_AFTER)
        await asyncio.wait_for(loop.run_once(), 30)
    finally:
        await runtime.close()
        await slack.close()
    rows = {r.key: r for r in await outbox_rows(service.db)}
    owed = [r for r in rows.values() if r.key.startswith("assignment:") and r.kind != "webhook"]
    # A readable Retry-After is a rate limit, not a failed attempt: given up on by age (the second
    # try comes an hour after the lead was owed), no attempt spent; an unreadable one is a failure.
    spent = 2 if retry_after_seconds(header) is None else 0
    assert len(owed) == 2 and all(r.failed_at is not None and r.attempts == spent for r in owed)
    assert metric(loop.metrics, 'rotation_delivery_failures_total{kind="dm"} 1.0')
    assert sum(r.key.startswith("delivery-failed:") for r in rows.values()) == 2  # the managers are told
    assert all(p.endswith("chat.postMessage") for p in posts)
    no_traceback(caplog)


class Hanging:
    """A webhook receiver that reads each POST and answers only when `release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.received: list[str] = []
        self.answered = 0
        self.server: Local | None = None

    async def answer(self, request: web.Request) -> web.Response:
        self.received.append((await request.json())["delivery_id"])
        await self.release.wait()
        self.answered += 1
        return web.Response(text="ok")

    async def start(self) -> Hanging:
        self.server = Local("127.0.0.1", lambda _r: None)
        self.server.handle = self.answer  # type: ignore[method-assign]
        await self.server.start()
        return self


LEADS = 40


@pytest.mark.parametrize("hand_over", [True, False], ids=["leads arriving", "a backlog"])
async def test_a_hanging_webhook_does_not_hold_up_the_dms(hand_over: bool, service: RoutingService,
                                                          fake_slack: FakeSlack) -> None:
    """Attack: the webhook receiver never answers (the client would wait a minute). 40 leads:
    every DM and channel post still reaches Slack while the webhook holds only its own slots;
    once it answers, every event arrives, each once."""
    hanging = await Hanging().start()
    assert hanging.server is not None
    runtime = await slack_runtime(fake_slack, service)
    slack = SlackTransport(runtime)
    webhook = WebhookTransport(f"{hanging.server.url}/hook", "secret", timeout=60)
    loop = DeliveryLoop(service.db, {"dm": slack, "channel": slack, "webhook": webhook},
                        service=service, clock=service.clock, metrics=Metrics(), poll_interval=0.05)
    if hand_over:
        service.transactions.hand_over_to(loop.take, lease=timedelta(seconds=30))
    else:
        for n in range(LEADS):
            await service.assignment.route({"id": f"L-{n}"})
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        if hand_over:
            for n in range(LEADS):
                await service.assignment.route({"id": f"L-{n}"})
        calls = await fake_slack.wait_for("chat.postMessage", 2 * LEADS, timeout=40)
        assert hanging.answered == 0  # every DM went out while the webhook still hung
        assert len(hanging.received) == CONCURRENCY["webhook"]  # it holds its own slots, no more
        hanging.release.set()
        for _ in range(1000):
            rows = await outbox_rows(service.db)
            if len(rows) == 3 * LEADS and all(r.sent_at is not None for r in rows):
                break
            await asyncio.sleep(0.02)
    finally:
        hanging.release.set()
        stop.set()
        await asyncio.wait_for(task, 30)
        await webhook.close()
        await runtime.close()
        await hanging.server.close()
    dms = [c.body["channel"] for c in calls if c.body["channel"] != "C0EMEA"]
    assert len(dms) == LEADS and len(calls) == 2 * LEADS  # each DM and post once
    assert len(rows) == 3 * LEADS and all(r.sent_at is not None and r.attempts == 1 for r in rows)
    assert sorted(hanging.received) == sorted(r.key for r in rows if r.kind == "webhook")  # each once

"""A rate limit that says when to come back is not a failed attempt; age and real failures end tries.

Why: Slack answers chat.postMessage past about a message a second per channel with 429 and a
Retry-After. In a 2,500-lead burst each 429 spent one of a post's 8 attempts while it waited
its turn, so most of the queues' channel announcements were given up on though nothing was
wrong but the queue. Now a 429 with Retry-After (Slack's, the webhook's) puts the message back
uncounted; it is given up on after `max_attempts` real failures, as before, or once it has
waited past `MAX_UNSENT_AGE` (counted, the managers told). Every test drives real HTTP: the
real Slack client or webhook transport against a local server answering as scripted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from delivery_support import START, outbox_rows, service_at_start, slack_runtime
from test_faults_webhook import Local, metric

from bot.delivery.loop import MAX_DELAY, DeliveryLoop
from bot.delivery.retry_after import MAX_UNSENT_AGE
from bot.delivery.transports import ConsoleTransport, SlackTransport, Transport, WebhookTransport
from bot.routing.service import RoutingService
from bot.web.metrics import Metrics

CHANNEL = "C0EMEA"  # the queue's channel in delivery_support.CONFIG
MAX_ATTEMPTS = 8  # the default; the tests answer 429 more often than that
LIMITED = 12  # 429s before the destination accepts: more than MAX_ATTEMPTS


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[RoutingService]:
    async with service_at_start(database_url, webhook=True) as service:
        yield service


def limited(wait: int) -> web.Response:
    return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                             headers={"Retry-After": str(wait)})


class Scripted:
    """Answers the requests for one destination from a script, the rest 200; counts both."""

    def __init__(self, script: Callable[[int], web.Response | None], *, channel: str | None = None) -> None:
        self.script = script
        self.channel = channel  # Slack: only posts to this channel follow the script
        self.tries = 0  # requests that followed the script
        self.server = Local("127.0.0.1", lambda _r: None)
        self.server.handle = self.answer  # type: ignore[method-assign]

    async def answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if self.channel is not None and body.get("channel") != self.channel:
            return web.json_response({"ok": True, "channel": body.get("channel"), "ts": "1.0"})
        self.tries += 1
        accepted = web.json_response({"ok": True, "channel": self.channel, "ts": "2.0"})
        return self.script(self.tries) or accepted

    async def start(self) -> Scripted:
        await self.server.start()
        return self


async def rounds(service: RoutingService, loop: DeliveryLoop, seconds: float, *, most: int,
                 until: Callable[[list[Any]], bool]) -> list[Any]:
    """run_once, then move the clock `seconds` on, until the outbox rows satisfy `until`."""
    for _ in range(most):
        await loop.run_once()
        rows = await outbox_rows(service.db)
        if until(rows):
            return rows
        service.clock.advance(seconds=seconds)  # type: ignore[attr-defined]
    raise AssertionError(f"the outbox did not settle: {rows!r}")


def the(rows: list[Any], kind: str) -> Any:
    [row] = [r for r in rows if r.kind == kind and r.key.startswith("assignment:")]
    return row


def settled(kind: str) -> Callable[[list[Any]], bool]:
    """`until` for `rounds`: the lead's `kind` message was sent or given up."""
    return lambda rows: the(rows, kind).sent_at is not None or the(rows, kind).failed_at is not None


def notes(rows: list[Any]) -> list[Any]:
    return [r for r in rows if r.key.startswith("delivery-failed:")]


async def slack_loop(service: RoutingService, slack: Scripted, metrics: Metrics) -> tuple[DeliveryLoop, Any]:
    runtime = await slack_runtime(type("Api", (), {"api_url": f"{slack.server.url}/api/"})(), service)
    transport = SlackTransport(runtime)
    transports: dict[str, Transport] = {"dm": transport, "channel": transport, "webhook": ConsoleTransport()}
    return DeliveryLoop(service.db, transports, service=service, clock=service.clock, metrics=metrics,
                        max_attempts=MAX_ATTEMPTS), runtime


async def test_a_post_answered_429_more_often_than_max_attempts_is_still_delivered(
        service: RoutingService) -> None:
    """Slack answers the channel's post 429 (Retry-After 30 s) 12 times, then takes it: it is
    delivered, once, its one attempt the one that got through (each 429 spent one before)."""
    slack = await Scripted(lambda n: limited(30) if n <= LIMITED else None, channel=CHANNEL).start()
    metrics = Metrics()
    loop, runtime = await slack_loop(service, slack, metrics)
    try:
        await service.assignment.route({"id": "L-1"})
        rows = await rounds(service, loop, 31, most=3 * LIMITED,
                            until=settled("channel"))
    finally:
        await runtime.close()
        await slack.server.close()
    post = the(rows, "channel")
    assert post.sent_at is not None and post.failed_at is None and post.last_error is None
    assert slack.tries == LIMITED + 1  # each 429 was a real try, answered "not yet"
    assert post.attempts == 1  # none of them spent an attempt
    assert the(rows, "dm").sent_at is not None and the(rows, "dm").attempts == 1
    assert notes(rows) == []
    assert not metric(metrics, 'rotation_delivery_failures_total{kind="channel"} 1.0')


async def test_a_webhook_429_is_not_counted_but_its_503s_are(service: RoutingService) -> None:
    """The webhook answers 429 (Retry-After 30 s) 12 times, then 503 twice, then 200: delivered,
    with three attempts, the two real failures and the one that got through."""
    def script(n: int) -> web.Response | None:
        if n <= LIMITED:
            return limited(30)
        return web.Response(status=503, text="down") if n <= LIMITED + 2 else None

    hook = await Scripted(script).start()
    webhook = WebhookTransport(f"{hook.server.url}/hook", "secret")
    console, metrics = ConsoleTransport(), Metrics()
    loop = DeliveryLoop(service.db, {"dm": console, "channel": console, "webhook": webhook},
                        service=service, clock=service.clock, metrics=metrics, max_attempts=MAX_ATTEMPTS)
    try:
        await service.assignment.route({"id": "L-1"})
        rows = await rounds(service, loop, 31, most=3 * LIMITED,
                            until=settled("webhook"))
    finally:
        await webhook.close()
        await hook.server.close()
    event = the(rows, "webhook")
    assert event.sent_at is not None and event.failed_at is None
    assert hook.tries == LIMITED + 3 and event.attempts == 3
    assert notes(rows) == []


async def test_a_post_still_unsent_past_the_age_bound_is_given_up_and_the_managers_told(
        service: RoutingService) -> None:
    """Slack answers the channel's post 429 (Retry-After 5 minutes) for ever: it waits,
    uncounted, until it is `MAX_UNSENT_AGE` old, then it is given up on like one whose attempts
    ran out: counted, the managers' channel told (before, it waited on, attempt after attempt)."""
    wait = 300  # 13 tries in the hour: more than MAX_ATTEMPTS
    slack = await Scripted(lambda _n: limited(wait), channel=CHANNEL).start()
    metrics = Metrics()
    loop, runtime = await slack_loop(service, slack, metrics)
    seen: list[tuple[float, bool]] = []  # (age in seconds, given up) after each round

    def settled(rows: list[Any]) -> bool:
        post = the(rows, "channel")
        seen.append(((service.clock.now() - START).total_seconds(), post.failed_at is not None))
        return post.failed_at is not None

    try:
        await service.assignment.route({"id": "L-1"})
        rows = await rounds(service, loop, wait + 1, most=20, until=settled)
        await loop.run_once()  # the managers' note goes out
        rows = await outbox_rows(service.db)
    finally:
        await runtime.close()
        await slack.server.close()
    post = the(rows, "channel")
    assert all(not gave_up for age, gave_up in seen if age < MAX_UNSENT_AGE)  # it waited its hour
    assert seen[-1][0] >= MAX_UNSENT_AGE and slack.tries == len(seen) > MAX_ATTEMPTS  # tried each time
    assert post.sent_at is None and post.attempts == 0  # no real failure: the age ended it
    assert "minutes after it was owed" in post.last_error and "429" in post.last_error
    assert metric(metrics, 'rotation_delivery_failures_total{kind="channel"} 1.0')
    [note] = notes(rows)
    assert note.payload["channel"] == "C0MANAGERS" and note.sent_at is not None
    assert "lead L-1" in note.payload["text"] and "minutes after it was owed" in note.payload["text"]
    assert the(rows, "dm").sent_at is not None


async def test_real_failures_still_give_up_after_max_attempts_whatever_429s_came_first(
        service: RoutingService) -> None:
    """The webhook answers 429 (Retry-After 30 s) 5 times, then 503 without Retry-After for
    ever: given up on after exactly `max_attempts` 503s (before, the 429s used up the attempts)."""
    attempts, limits = 3, 5
    hook = await Scripted(lambda n: limited(30) if n <= limits else web.Response(status=503)).start()
    webhook = WebhookTransport(f"{hook.server.url}/hook", "secret")
    console, metrics = ConsoleTransport(), Metrics()
    loop = DeliveryLoop(service.db, {"dm": console, "channel": console, "webhook": webhook},
                        service=service, clock=service.clock, metrics=metrics, max_attempts=attempts)
    try:
        await service.assignment.route({"id": "L-1"})
        rows = await rounds(service, loop, MAX_DELAY + 1, most=30,
                            until=lambda rows: the(rows, "webhook").failed_at is not None)
        for _ in range(5):  # more rounds: nothing more is tried
            service.clock.advance(seconds=MAX_DELAY + 1)  # type: ignore[attr-defined]
            await loop.run_once()
    finally:
        await webhook.close()
        await hook.server.close()
    event = the(rows, "webhook")
    assert event.sent_at is None and event.attempts == attempts and "503" in event.last_error
    assert hook.tries == limits + attempts
    assert metric(metrics, 'rotation_delivery_failures_total{kind="webhook"} 1.0')
    [note] = notes(rows)
    assert f"after {attempts} attempt(s)" in note.payload["text"]

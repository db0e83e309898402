"""Attacks on the outbound webhook through redirects: each one must leave the event owed, never
"sent", never hand the signed body to another host, and end in a visible give-up.

The webhook (ROTATION_WEBHOOK_URL) is set by the operator, but what answers there is not ours:
a moved endpoint, a misconfigured proxy or a compromised receiver may answer with a redirect.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from delivery_support import CONFIG, START, FakeSlack, outbox_rows, service_at_start
from prometheus_client import generate_latest

from bot.config.settings import Settings
from bot.delivery.loop import MAX_DELAY, DeliveryLoop
from bot.delivery.transports import SIGNATURE_HEADER, ConsoleTransport, WebhookTransport
from bot.routing.service import RoutingService
from bot.web.metrics import Metrics

SECRET = "webhook-secret"
REDIRECTS = [301, 302, 303, 307, 308]
STOLEN_PATH = "/steal/path-secret"
STOLEN_QUERY = "token=query-secret"
ANSWER_BODY = "moved-body-secret"  # what the redirecting answer says; never repeated by us


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def other_host() -> str:
    """Another loopback address to stand for another host (127.0.0.1 when it cannot be bound)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.2", 0))
        except OSError:
            return "127.0.0.1"
    return "127.0.0.2"


@dataclass
class Local:
    """An aiohttp server on a local port that records every request, whatever its method or path."""

    host: str
    answer: Any  # (request) -> web.Response
    seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""
    runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, request.path_qs, dict(request.headers), await request.read()))
        return self.answer(request)

    async def start(self) -> Local:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        sock = socket.socket()
        sock.bind((self.host, 0))
        self.url = f"http://{self.host}:{sock.getsockname()[1]}"
        await web.SockSite(self.runner, sock).start()
        return self

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@dataclass
class Redirecting:
    """The webhook (answering `status` to the thief's address) and the thief (recording all)."""

    webhook: Local
    thief: Local
    status: list[int]  # what the webhook answers next; the last one stays

    @property
    def url(self) -> str:
        return f"{self.webhook.url}/hook"


@pytest.fixture
async def redirecting() -> AsyncIterator[Redirecting]:
    thief = await Local(other_host(), lambda _r: web.Response(text="thanks for the event")).start()
    status = [301]

    def answer(_request: web.Request) -> web.Response:
        code = status.pop(0) if len(status) > 1 else status[0]
        if code < 300 or code >= 400:
            return web.Response(status=code, text="ok")
        return web.Response(status=code, text=ANSWER_BODY,
                            headers={"Location": f"{thief.url}{STOLEN_PATH}?{STOLEN_QUERY}"})

    webhook = await Local("127.0.0.1", answer).start()
    yield Redirecting(webhook, thief, status)
    await webhook.close()
    await thief.close()


@pytest.fixture
async def service(sqlite_url: str) -> AsyncIterator[RoutingService]:
    async with service_at_start(sqlite_url, webhook=True) as service:
        yield service


def loop_for(service: RoutingService, url: str, *,
             max_attempts: int) -> tuple[DeliveryLoop, WebhookTransport]:
    webhook = WebhookTransport(url, SECRET)
    console = ConsoleTransport()
    loop = DeliveryLoop(service.db, {"dm": console, "channel": console, "webhook": webhook},
                        service=service, clock=service.clock, metrics=Metrics(), max_attempts=max_attempts)
    return loop, webhook


async def webhook_row(service: RoutingService) -> Any:
    [row] = [r for r in await outbox_rows(service.db) if r.kind == "webhook"]
    return row


def metric(metrics: Metrics, line: str) -> bool:
    return line in generate_latest(metrics.registry).decode().splitlines()


def assert_nothing_leaked(error: str, host: str) -> None:
    assert host in error  # where it pointed, so the operator can fix the URL ...
    for secret in ("path-secret", "query-secret", ANSWER_BODY, "\n"):
        assert secret not in error  # ... and nothing else of the answer


@pytest.mark.parametrize("status", REDIRECTS)
async def test_a_redirect_is_retried_then_given_up_visibly_and_the_other_host_gets_nothing(
    status: int, redirecting: Redirecting, service: RoutingService, caplog: pytest.LogCaptureFixture
) -> None:
    """Attack: the webhook answers every POST with a 301/302/303/307/308 to another host. Followed,
    the event would be a bodiless GET there (301-303, recorded as sent: lost) or the signed body
    replayed to it (307/308)."""
    redirecting.status[:] = [status]
    loop, webhook = loop_for(service, redirecting.url, max_attempts=3)
    caplog.set_level(logging.WARNING, logger="bot.delivery")
    try:
        await service.assignment.route({"id": "L-1", "name": "Ada"})
        await loop.run_once()
        row = await webhook_row(service)
        assert row.sent_at is None and row.failed_at is None and row.attempts == 1  # owed, retried later
        assert f"answered {status}, a redirect" in row.last_error
        assert_nothing_leaked(row.last_error, redirecting.thief.host)
        assert row.available_at > START  # the loop's backoff, not at once
        for _ in range(2):
            service.clock.advance(seconds=MAX_DELAY)
            await loop.run_once()
        row = await webhook_row(service)
        assert row.sent_at is None and row.failed_at is not None and row.attempts == 3
        await loop.drain()  # the managers' note goes out (to the log: no Slack here)
    finally:
        await webhook.close()
    assert redirecting.thief.seen == []  # no GET, no replayed body, nothing
    posts = redirecting.webhook.seen
    assert len(posts) == 3 and all(method == "POST" and SIGNATURE_HEADER in headers
                                   for method, _path, headers, _body in posts)
    assert metric(loop.metrics, 'rotation_delivery_errors_total{kind="webhook"} 3.0')
    assert metric(loop.metrics, 'rotation_delivery_failures_total{kind="webhook"} 1.0')
    assert not any(line.startswith('rotation_deliveries_total{kind="webhook"}')
                   for line in generate_latest(loop.metrics.registry).decode().splitlines())
    gave_up = [r.getMessage() for r in caplog.records if "giving up" in r.getMessage()]
    assert len(gave_up) == 1 and f"answered {status}" in gave_up[0]
    notes = [r for r in await outbox_rows(service.db) if r.key.startswith("delivery-failed:")]
    assert len(notes) == 1 and notes[0].sent_at is not None  # the managers were told
    text = notes[0].payload["text"]
    assert "lead L-1" in text and f"answered {status}" in text
    assert_nothing_leaked(text, redirecting.thief.host)
    assert [r.kind for r in await outbox_rows(service.db) if r.sent_at is not None] == [
        "dm", "channel", "channel"]  # the DM and post as usual, then the note; the event never


async def test_a_redirect_that_goes_away_delivers_the_event_once(redirecting: Redirecting,
                                                                service: RoutingService) -> None:
    """Attack: a 307 for a while (a proxy being moved), then the endpoint answers again: the
    event arrives once, at the configured URL, and only then counts as sent."""
    redirecting.status[:] = [307, 307, 200]
    loop, webhook = loop_for(service, redirecting.url, max_attempts=8)
    try:
        await service.assignment.route({"id": "L-2"})
        for _ in range(3):
            await loop.run_once()
            service.clock.advance(seconds=MAX_DELAY)
        row = await webhook_row(service)
    finally:
        await webhook.close()
    assert row.sent_at is not None and row.failed_at is None and row.attempts == 3
    assert row.result == {"status": 200}
    assert redirecting.thief.seen == []
    assert [m for m, *_ in redirecting.webhook.seen] == ["POST"] * 3
    assert metric(loop.metrics, 'rotation_deliveries_total{kind="webhook"} 1.0')
    assert metric(loop.metrics, 'rotation_delivery_errors_total{kind="webhook"} 2.0')


async def test_a_relative_redirect_is_not_followed_either(service: RoutingService) -> None:
    """Attack: a redirect to another path of the same server (`Location: /elsewhere`): still not
    the endpoint configured, so still not a delivery; the error says it pointed to the same host."""
    def answer(request: web.Request) -> web.Response:
        if request.path == "/hook":
            return web.Response(status=308, headers={"Location": "/elsewhere?token=query-secret"})
        return web.Response(text="ok")

    server = await Local("127.0.0.1", answer).start()
    loop, webhook = loop_for(service, f"{server.url}/hook", max_attempts=1)
    try:
        await service.assignment.route({"id": "L-3"})
        await loop.run_once()
        row = await webhook_row(service)
    finally:
        await webhook.close()
        await server.close()
    assert [path for _m, path, *_ in server.seen] == ["/hook"]
    assert row.sent_at is None and row.failed_at is not None
    assert "answered 308, a redirect to the same host" in row.last_error
    assert "query-secret" not in row.last_error
    assert metric(loop.metrics, 'rotation_delivery_failures_total{kind="webhook"} 1.0')


async def test_serve_shows_a_redirecting_webhook_given_up_in_metrics_and_the_managers_channel(
    redirecting: Redirecting, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """Attack, end to end: `rotation serve` with ROTATION_WEBHOOK_URL answering 302. A lead is
    still accepted and DMed; the event is given up on after the attempts (here 2), which /metrics
    and the managers' channel show; the thief gets nothing."""
    from bot.web.server import serve

    redirecting.status[:] = [302]
    config = tmp_path / "routing.yaml"
    config.write_text(CONFIG)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'rotation.db'}",
                        routing_config=str(config), intake_token="token", host="127.0.0.1",
                        port=free_port(), slack_bot_token="xoxb-test", slack_signing_secret="secret",
                        slack_api_url=fake_slack.api_url, webhook_url=redirecting.url,
                        webhook_secret=SECRET, outbox_max_attempts=2, delivery="inline")
    stop, started = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(settings, stop=stop, started=started))
    url = f"http://127.0.0.1:{settings.port}"
    try:
        await asyncio.wait_for(started.wait(), 60)
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}/leads", json={"id": "L-4", "name": "Ada"},
                                 headers={"Authorization": "Bearer token"}) as response:
                assert response.status == 201
            failures = 'rotation_delivery_failures_total{kind="webhook"} 1.0'
            for _ in range(200):  # the first retry comes 1-2 s later (the loop's backoff)
                async with http.get(f"{url}/metrics") as response:
                    text = await response.text()
                if failures in text.splitlines():
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"/metrics never showed the give-up:\n{text}")
        assert 'rotation_delivery_errors_total{kind="webhook"} 2.0' in text.splitlines()
        calls = await fake_slack.wait_for("chat.postMessage", 3)
        for _ in range(500):  # the managers' channel also gets the weekly digest: wait for the note
            calls = fake_slack.calls_to("chat.postMessage")
            note = [c.body for c in calls if c.body["channel"] == "C0MANAGERS"
                    and "Weekly digest" not in c.body["text"]]
            if note:
                break
            await asyncio.sleep(0.01)
        assert len(note) == 1 and "L-4" in note[0]["text"] and "answered 302" in note[0]["text"]
        assert {c.body["channel"] for c in calls} >= {"C0EMEA", "C0MANAGERS"}
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 60) == 0
    assert redirecting.thief.seen == []
    assert len(redirecting.webhook.seen) == 2

"""GET /healthz, GET /metrics and the Slack endpoint's mount."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from web_support import Served, ServeFactory, start_app

from bot.config.settings import Settings
from bot.routing.service import RoutingService
from bot.store.db import Database
from bot.web.app import create_app


async def test_healthz_is_ok_when_the_database_answers(serve: ServeFactory) -> None:
    app: Served = await serve()
    async with app.http.get(f"{app.url}/healthz") as response:
        assert (response.status, await response.json()) == (200, {"status": "ok"})


async def test_healthz_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'dir' / 'rotation.db'}")
    runner, url = await start_app(create_app(RoutingService(db), Settings(intake_token="t")))
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
            assert response.status == 503
            assert "database" in (await response.json())["error"]
    finally:
        await runner.cleanup()
        await db.dispose()
        await sqlite_threads_stopped()


async def sqlite_threads_stopped() -> None:
    """Wait for aiosqlite's worker threads to end while this test's event loop still runs.

    Why: when a connection fails to open, aiosqlite stops its thread without waiting for
    it; if the loop closes first, the thread's last reply raises "Event loop is closed"
    and pytest pins that on whichever test runs next.
    """
    workers = [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]
    for worker in workers:
        await asyncio.to_thread(worker.join, 5)


async def test_metrics_count_leads_per_queue_latency_and_backlog(serve: ServeFactory) -> None:
    app = await serve()
    for lead in ({"id": "1"}, {"id": "2", "country": "XX"}, {"id": "1"}, {"id": "x", "tags": []}):
        await app.post_lead(lead)
    async with app.http.get(f"{app.url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    assert 'rotation_leads_received_total{queue="emea"} 1.0' in text
    assert 'rotation_leads_received_total{queue="quiet"} 1.0' in text
    assert 'rotation_leads_assigned_total{queue="emea"} 1.0' in text
    assert 'rotation_intake_requests_total{code="201"} 2.0' in text
    assert 'rotation_intake_requests_total{code="200"} 1.0' in text
    assert 'rotation_intake_requests_total{code="422"} 1.0' in text
    assert "rotation_intake_seconds_count 4.0" in text  # every answer, the 422 too
    assert "rotation_outbox_backlog 3.0" in text  # two DMs and the emea channel post
    assert "# TYPE rotation_delivery_failures_total counter" in text


async def test_metrics_count_an_unexpected_failure_and_time_every_answer(
        serve: ServeFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    app = await serve()
    await app.post_lead({"id": "fine"})

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(app.service.assignment, "route", broken)
    assert (await app.post_lead({"id": "unlucky"}))[0] == 500
    assert (await app.post_lead(None, raw=b"{"))[0] == 400
    async with app.http.get(f"{app.url}/metrics") as response:
        text = await response.text()
    for code in (201, 500, 400):
        assert f'rotation_intake_requests_total{{code="{code}"}} 1.0' in text
    assert "rotation_intake_seconds_count 3.0" in text


async def test_slack_events_is_503_until_slack_is_configured(serve: ServeFactory) -> None:
    app = await serve()
    async with app.http.post(f"{app.url}/slack/events", data=b"{}") as response:
        assert response.status == 503
        assert "Slack is not configured" in (await response.json())["error"]


class EchoSlack:
    def __init__(self) -> None:
        self.seen: list[bytes] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(await request.read())
        return web.json_response({"ok": True})


async def test_slack_events_go_to_the_slack_runtime(serve: ServeFactory) -> None:
    slack = EchoSlack()
    app = await serve(slack=slack)
    async with app.http.post(f"{app.url}/slack/events", data=b"payload=1") as response:
        assert (response.status, await response.json()) == (200, {"ok": True})
    assert slack.seen == [b"payload=1"]

"""Serve's delivery process: it sends what serve owes, reports to serve's /metrics, and lives
and dies with serve. The in-process (inline) delivery is checked here too.

Why: with more than one CPU, `rotation serve` delivers from a child process (see
bot/delivery/child.py), so a child that outlived serve, went quiet, or failed to start
would leave leads' DMs unsent while the intake looked healthy.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from web_support import AUTH, CONFIG, TOKEN, delivery_pids, free_port, wait_for_exit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fake_slack import FakeSlack

from bot.config.settings import Settings
from bot.web.server import serve


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        yield slack


def settings_for(tmp_path: Path, slack: FakeSlack, delivery: str) -> Settings:
    config = tmp_path / "routing.yaml"
    config.write_text(CONFIG)
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'rotation.db'}",
                    routing_config=str(config), intake_token=TOKEN, host="127.0.0.1", port=free_port(),
                    slack_bot_token="xoxb-test", slack_signing_secret="secret", slack_api_url=slack.api_url,
                    delivery=delivery)


class Serving:
    """`serve()` running in this process, until `stop()`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = f"http://127.0.0.1:{settings.port}"
        self.stopping, self.started = asyncio.Event(), asyncio.Event()
        self.task = asyncio.create_task(serve(settings, stop=self.stopping, started=self.started))

    async def ready(self) -> None:
        ready = asyncio.create_task(self.started.wait())
        await asyncio.wait([ready, self.task], timeout=60, return_when=asyncio.FIRST_COMPLETED)
        assert self.started.is_set(), "serve did not start"

    async def post(self, lead: dict[str, Any]) -> dict[str, Any]:
        async with aiohttp.ClientSession() as http, http.post(f"{self.url}/leads", json=lead,
                                                              headers=AUTH) as response:
            assert response.status == 201, await response.text()
            return dict(await response.json())

    async def metrics(self) -> str:
        async with aiohttp.ClientSession() as http, http.get(f"{self.url}/metrics") as response:
            return await response.text()

    async def stop(self) -> int:
        self.stopping.set()
        return await asyncio.wait_for(self.task, 60)


Starter = Callable[[str], "Serving"]


@pytest.fixture
async def start(tmp_path: Path, fake_slack: FakeSlack) -> AsyncIterator[Callable[[str], Serving]]:
    """`start("process" | "inline")`: serve in this process; stopped after the test whatever happens."""
    started: list[Serving] = []

    def start_serving(delivery: str) -> Serving:
        started.append(Serving(settings_for(tmp_path, fake_slack, delivery)))
        return started[-1]

    yield start_serving
    for serving in started:
        if not serving.task.done():
            await serving.stop()


async def test_the_child_delivers_and_serve_counts_it(start: Starter, fake_slack: FakeSlack) -> None:
    serving = start("process")
    await serving.ready()
    [child] = delivery_pids(os.getpid())
    lead = await serving.post({"id": "P-1", "name": "Ada"})
    dm, post = await fake_slack.wait_for("chat.postMessage", 2)
    assert {dm.body["channel"], post.body["channel"]} == {lead["assignee"]["slack_id"], "C0EMEA"}
    metrics = await serving.metrics()
    assert 'rotation_deliveries_total{kind="dm"} 1.0' in metrics  # reported by the child over its pipe
    assert 'rotation_deliveries_total{kind="channel"} 1.0' in metrics
    assert await serving.stop() == 0
    await wait_for_exit([child])


async def test_a_message_given_up_on_in_the_child_is_counted(start: Starter, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=200, error="channel_not_found")  # not worth retrying
    serving = start("process")
    await serving.ready()
    await serving.post({"id": "P-2"})
    await fake_slack.wait_for("chat.postMessage", 2)
    failures = re.compile(r'^rotation_delivery_failures_total\{kind="(dm|channel)"\} 1\.0$', re.M)
    for _ in range(100):
        if failures.search(metrics := await serving.metrics()):
            break
        await asyncio.sleep(0.05)
    [kind] = failures.findall(metrics)
    assert f'rotation_delivery_errors_total{{kind="{kind}"}} 1.0' in metrics
    assert await serving.stop() == 0


async def test_serve_stops_with_exit_1_when_the_child_dies(start: Starter) -> None:
    serving = start("process")
    await serving.ready()
    [child] = delivery_pids(os.getpid())
    os.kill(child, signal.SIGKILL)
    assert await asyncio.wait_for(serving.task, 60) == 1  # a supervisor restarts the whole


async def test_serve_exits_1_when_the_child_cannot_start(start: Starter, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the child's interpreter, broken
    serving = start("process")
    assert await asyncio.wait_for(serving.task, 60) == 1
    assert not serving.started.is_set()
    assert any("the delivery process did not start" in r.getMessage() for r in caplog.records)


async def test_inline_delivery_needs_no_child(start: Starter, fake_slack: FakeSlack) -> None:
    serving = start("inline")
    await serving.ready()
    assert delivery_pids(os.getpid()) == []
    lead = await serving.post({"id": "I-1"})
    first, second = await fake_slack.wait_for("chat.postMessage", 2)
    assert {first.body["channel"], second.body["channel"]} == {lead["assignee"]["slack_id"], "C0EMEA"}
    assert 'rotation_deliveries_total{kind="dm"} 1.0' in await serving.metrics()
    assert await serving.stop() == 0

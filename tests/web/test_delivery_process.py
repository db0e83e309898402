"""Serve's delivery process: it sends what serve owes, reports to serve's /metrics, and lives
and dies with serve. The in-process (inline) delivery is checked here too.

Why: with more than one CPU, `rotation serve` delivers from a child process (see
bot/delivery/child.py), so a child that outlived serve, went quiet, or failed to start
would leave leads' DMs unsent while the intake looked healthy.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import json
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select
from web_support import AUTH, CONFIG, TOKEN, FakeSlack, delivery_pids, free_port, wait_for_exit

from bot.config.settings import Settings
from bot.delivery import process
from bot.delivery.child import settings_environment, settings_from_environment
from bot.delivery.loop import CONCURRENCY
from bot.store.db import Database
from bot.store.models import OutboxMessage
from bot.web.server import serve

OUTBOX = OutboxMessage.__table__
SLACK_IN_FLIGHT = CONCURRENCY["slack"]  # DMs and channel posts share Slack's lane (no webhook here)


def settings_for(tmp_path: Path, slack: FakeSlack, delivery: str, url: str | None = None) -> Settings:
    config = tmp_path / "routing.yaml"
    config.write_text(CONFIG)
    return Settings(database_url=url or f"sqlite+aiosqlite:///{tmp_path / 'rotation.db'}",
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

    async def wait_for_metric(self, wanted: str | re.Pattern[str], timeout: float = 10) -> str:
        """The /metrics text once it holds `wanted` (a line, or a pattern to search for)."""
        for _ in range(int(timeout * 20)):
            text = await self.metrics()
            if (wanted in text.splitlines()) if isinstance(wanted, str) else wanted.search(text):
                return text
            await asyncio.sleep(0.05)
        raise AssertionError(f"/metrics never showed {wanted!r}:\n{text}")

    async def stop(self) -> int:
        self.stopping.set()
        return await asyncio.wait_for(self.task, 60)


Starter = Callable[..., "Serving"]


@pytest.fixture
async def start(tmp_path: Path, fake_slack: FakeSlack) -> AsyncIterator[Starter]:
    """`start("process" | "inline", url=None)`: serve in this process (on a fresh SQLite file
    unless `url` says otherwise); stopped after the test whatever happens."""
    started: list[Serving] = []

    def start_serving(delivery: str, url: str | None = None) -> Serving:
        started.append(Serving(settings_for(tmp_path, fake_slack, delivery, url)))
        return started[-1]

    yield start_serving
    for serving in started:
        if not serving.task.done():
            await serving.stop()


async def test_the_child_delivers_and_serve_counts_it(start: Starter, fake_slack: FakeSlack,
                                                      database_url: str) -> None:
    serving = start("process", database_url)  # SQLite and PostgreSQL
    await serving.ready()
    [child] = delivery_pids(os.getpid())
    lead = await serving.post({"id": "P-1", "name": "Ada"})
    dm, post = await fake_slack.wait_for("chat.postMessage", 2)
    assert {dm.body["channel"], post.body["channel"]} == {lead["assignee"]["slack_id"], "C0EMEA"}
    # reported by the child over its pipe, a moment after Slack answered
    await serving.wait_for_metric('rotation_deliveries_total{kind="dm"} 1.0')
    await serving.wait_for_metric('rotation_deliveries_total{kind="channel"} 1.0')
    await serving.wait_for_metric('rotation_delivery_lag_seconds_count 2.0')  # owed -> sent, both
    await serving.wait_for_metric('rotation_delivery_lag_seconds_bucket{le="10.0"} 2.0')
    assert await serving.stop() == 0
    await wait_for_exit([child])


async def test_a_message_given_up_on_in_the_child_is_counted(start: Starter, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=200, error="channel_not_found")  # not worth retrying
    serving = start("process")
    await serving.ready()
    await serving.post({"id": "P-2"})
    await fake_slack.wait_for("chat.postMessage", 2)
    failures = re.compile(r'^rotation_delivery_failures_total\{kind="(dm|channel)"\} 1\.0$', re.M)
    metrics = await serving.wait_for_metric(failures)
    [kind] = failures.findall(metrics)
    assert f'rotation_delivery_errors_total{{kind="{kind}"}} 1.0' in metrics
    assert await serving.stop() == 0


def stop_while_idle(pid: int, database_url: str) -> None:
    """SIGSTOP the child between two of its transactions: stopped holding the write lock, it
    would stop serve too, which is another story."""
    lock_path = database_url.removeprefix("sqlite+aiosqlite:///") + ".write-lock"
    with open(lock_path, "a") as lock:
        for _ in range(200):
            os.kill(pid, signal.SIGSTOP)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # stopped mid-transaction: let it finish and try again
                os.kill(pid, signal.SIGCONT)
                time.sleep(0.01)
                continue
            fcntl.flock(lock, fcntl.LOCK_UN)
            return
    raise AssertionError("the delivery child never let go of the write lock")


async def test_a_child_that_stops_reading_gets_no_more_hand_overs_and_catches_up_after(
    start: Starter, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live child that stops reading its stdin (here: SIGSTOP) must not make serve hold every
    new lead's messages in memory: past HIGH_WATER they are written due, for its rounds."""
    monkeypatch.setattr(process, "HIGH_WATER", 16 * 1024)
    serving = start("process")
    await serving.ready()
    [child] = delivery_pids(os.getpid())
    leads = 40
    stop_while_idle(child, serving.settings.database_url)
    try:
        for n in range(leads):  # ~6 KB of take lines each: past the OS pipe's 64 KiB and HIGH_WATER
            await serving.post({"id": f"B-{n}", "name": "Ada", "company": "x" * 2500})
        db = Database(serving.settings.database_url)
        try:
            async with db.engine.connect() as connection:
                rows = (await connection.execute(select(OUTBOX.c.lead_id, OUTBOX.c.attempts)
                                                 .order_by(OUTBOX.c.id))).all()
        finally:
            await db.dispose()
    finally:
        os.kill(child, signal.SIGCONT)
    handed = [attempts == 1 for _, attempts in rows]
    assert len(rows) == 2 * leads and all(attempts in (0, 1) for _, attempts in rows)
    assert any(handed) and not all(handed)
    assert handed == sorted(handed, reverse=True)  # handed over until it fell behind, then never again
    # what was handed over waits in the pipe; the rest is claimed as soon as it reads again
    await fake_slack.wait_for("chat.postMessage", 2 * leads, timeout=10)
    await serving.wait_for_metric(f'rotation_deliveries_total{{kind="dm"}} {float(leads)}')
    assert await serving.stop() == 0


async def test_serve_stops_with_exit_1_when_the_child_dies(start: Starter) -> None:
    serving = start("process")
    await serving.ready()
    [child] = delivery_pids(os.getpid())
    os.kill(child, signal.SIGKILL)
    assert await asyncio.wait_for(serving.task, 60) == 1  # a supervisor restarts the whole


class GatedSlack(FakeSlack):
    """FakeSlack that holds every call until `gate` is set (then answers at once: the fastest
    Slack makes the most sends finish between two records)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def _handle_api(self, request: web.Request) -> web.Response:
        await self.gate.wait()
        return await super()._handle_api(request)


LEADS = 300
LEAD_ID = re.compile(r"\bC-\d+\b")


def posts_per_message(slack: FakeSlack) -> Counter[tuple[str, str]]:
    """How often Slack posted each (channel, lead id) message."""
    posted: Counter[tuple[str, str]] = Counter()
    for call in slack.calls_to("chat.postMessage"):
        found = LEAD_ID.search(json.dumps(call.body))
        if call.status == 200 and call.response.get("ok") and found:
            posted[(str(call.body["channel"]), found.group(0))] += 1
    return posted


async def post_all(url: str, ids: list[str], answered: set[str], *, concurrency: int = 16) -> None:
    """POST each lead, `concurrency` at a time, noting those answered 201/200; a server that is
    gone answers nothing (those leads are not acknowledged)."""
    pending = list(reversed(ids))

    async def worker(http: aiohttp.ClientSession) -> None:
        while pending:
            lead_id = pending.pop()
            try:
                async with http.post(f"{url}/leads", json={"id": lead_id, "name": f"Lead {lead_id}"},
                                     headers=AUTH) as response:
                    if response.status in (200, 201):
                        answered.add(lead_id)
            except (TimeoutError, aiohttp.ClientError):
                pass

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))


async def crash_and_recount(tmp_path: Path, slack: GatedSlack, *, kill_after_calls: int,
                            gated: bool) -> tuple[int, int, int]:
    """Serve 300 leads, SIGKILL the child once Slack got `kill_after_calls` messages, restart serve
    and send what was not acknowledged: (duplicate DMs, duplicate channel posts, calls before the
    kill). With `gated`, every lead is in before Slack answers anything (a backlog drained)."""
    ids = [f"C-{n}" for n in range(LEADS)]
    first = Serving(settings_for(tmp_path, slack, "process"))
    await first.ready()
    [child] = delivery_pids(os.getpid())
    answered: set[str] = set()
    posting = asyncio.create_task(post_all(first.url, ids, answered))
    if gated:
        await posting
        slack.gate.set()
    else:
        slack.gate.set()
    while len(slack.calls_to("chat.postMessage")) < kill_after_calls and not first.task.done():
        await asyncio.sleep(0.001)
    os.kill(child, signal.SIGKILL)
    assert await asyncio.wait_for(first.task, 60) == 1  # a supervisor restarts the whole
    await posting
    before_restart = len(slack.calls_to("chat.postMessage"))
    assert before_restart < 2 * LEADS, "all was sent before the kill: the test proves nothing"

    second = Serving(dataclasses.replace(first.settings, port=free_port()))
    await second.ready()
    try:
        await post_all(second.url, [i for i in ids if i not in answered], answered)
        assert answered == set(ids)
        for _ in range(900):  # leases of what the dead child held run out within 30 s
            if len(posts_per_message(slack)) == 2 * LEADS:
                break
            await asyncio.sleep(0.1)
        await second.wait_for_metric("rotation_outbox_backlog 0.0", timeout=30)
    finally:
        assert await second.stop() == 0
    posted = posts_per_message(slack)
    dms = {key: n for key, n in posted.items() if key[0] != "C0EMEA"}
    channel = {key: n for key, n in posted.items() if key[0] == "C0EMEA"}
    assert len(dms) == len(channel) == LEADS  # nothing lost: every lead's DM and post, once at least
    return sum(n - 1 for n in dms.values()), sum(n - 1 for n in channel.values()), before_restart


def report(capsys: pytest.CaptureFixture[str], when: str, figures: tuple[int, int, int]) -> None:
    dms, posts, before = figures
    with capsys.disabled():
        print(f"\nduplicate DMs after a child crash ({when}): {dms} of {LEADS} (channel posts: {posts} "
              f"of {LEADS}; {before} of {2 * LEADS} messages had reached Slack at the kill; "
              f"bound: {SLACK_IN_FLIGHT} in flight)")


async def test_a_child_killed_while_leads_arrive_repeats_at_most_the_messages_in_flight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL the delivery child while 300 leads arrive and their DMs and channel posts go out:
    after serve restarts every message arrives, and only those sent but not yet recorded are sent
    again, which the loop bounds by its concurrency (a send is recorded before its slot is free)."""
    async with GatedSlack() as slack:
        figures = await crash_and_recount(tmp_path, slack, kill_after_calls=LEADS, gated=False)
    report(capsys, "leads arriving", figures)
    assert figures[0] + figures[1] <= SLACK_IN_FLIGHT


async def test_a_child_killed_while_draining_a_backlog_repeats_at_most_the_messages_in_flight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL the delivery child while it works through 600 messages owed (Slack was slow to
    answer while 300 leads came in): the same bound holds."""
    async with GatedSlack() as slack:
        figures = await crash_and_recount(tmp_path, slack, kill_after_calls=LEADS, gated=True)
    report(capsys, "a backlog drained", figures)
    assert figures[0] + figures[1] <= SLACK_IN_FLIGHT


async def test_serve_exits_1_when_the_child_cannot_start(start: Starter, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the child's interpreter, broken
    serving = start("process")
    assert await asyncio.wait_for(serving.task, 60) == 1
    assert not serving.started.is_set()
    assert any("the delivery process did not start" in r.getMessage() for r in caplog.records)


async def test_a_stop_while_the_child_starts_ends_serve_at_once(
    start: Starter, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A child slow to say ready (READY_TIMEOUT is a minute) must not hold up a SIGTERM."""
    hanging = tmp_path / "hanging-python"
    hanging.write_text("#!/bin/bash\nexec -a hanging-deliver sleep 600\n")  # never says ready
    hanging.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(hanging))
    serving = start("process")
    for _ in range(100):
        if delivery_pids(os.getpid()):
            break
        await asyncio.sleep(0.05)
    [child] = delivery_pids(os.getpid())
    assert await serving.stop() == 0
    assert not serving.started.is_set()
    await wait_for_exit([child])


async def test_inline_delivery_needs_no_child(start: Starter, fake_slack: FakeSlack) -> None:
    serving = start("inline")
    await serving.ready()
    me = os.getpid()
    assert Path(f"/proc/{me}/task/{me}/children").exists()  # else the next line proves nothing
    assert delivery_pids(os.getpid()) == []
    lead = await serving.post({"id": "I-1"})
    first, second = await fake_slack.wait_for("chat.postMessage", 2)
    assert {first.body["channel"], second.body["channel"]} == {lead["assignee"]["slack_id"], "C0EMEA"}
    await serving.wait_for_metric('rotation_deliveries_total{kind="dm"} 1.0')
    assert await serving.stop() == 0


def test_the_child_gets_serves_settings_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings()
    changed = {}
    for field in dataclasses.fields(Settings):
        value = getattr(defaults, field.name)
        changed[field.name] = (value + 1 if isinstance(value, int) else
                               "inline" if field.name == "delivery" else f"{field.name}-set")
    settings = Settings(**changed)
    assert all(getattr(settings, name) != getattr(defaults, name) for name in changed)
    monkeypatch.setattr(os, "environ", settings_environment(settings))
    assert settings_from_environment() == settings


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
def test_auto_delivers_inline_for_an_in_memory_database(url: str) -> None:
    # the child would open a database of its own, empty, and never see a message
    assert Settings(database_url=url, delivery="auto").delivers_inline
    assert not Settings(database_url=url, delivery="process").delivers_inline

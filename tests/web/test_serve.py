"""`rotation serve` as a real process: SIGKILL in a burst loses nothing; SIGTERM exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from web_support import AUTH, CONFIG, TOKEN, FakeSlack, delivery_pids, free_port, wait_for_exit

ROOT = Path(__file__).resolve().parents[2]
HAS_SLACK_RUNTIME = (ROOT / "bot" / "slack" / "runtime.py").exists()
FALLBACK = ("from bot.web.server import run; from bot.config.settings import Settings; "
            "raise SystemExit(run(Settings.from_env()))")


def serve_command() -> list[str]:
    cli = ROOT / "bot" / "cli.py"
    if cli.exists() and "bot.web.server" in cli.read_text():
        return [sys.executable, "-m", "bot", "serve"]
    return [sys.executable, "-c", FALLBACK]


class Server:
    def __init__(self, tmp: Path, slack: FakeSlack) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = tmp / "routing.yaml"
        config.write_text(CONFIG)
        self.env = os.environ | {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'rotation.db'}", "ROTATION_CONFIG": str(config),
            "ROTATION_INTAKE_TOKEN": TOKEN, "HOST": "127.0.0.1", "PORT": str(self.port),
            "PYTHONPATH": str(ROOT), "ROTATION_DELIVERY": "process",  # as on any multi-core machine
        }
        for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "ROTATION_WEBHOOK_URL"):
            self.env.pop(name, None)
        if HAS_SLACK_RUNTIME:
            self.env |= {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret",
                         "SLACK_API_URL": slack.api_url}
        self.log = tmp / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(serve_command(), cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                assert self.process.poll() is None, self.log.read_text()
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"serve did not start:\n{self.log.read_text()}")

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, timeout: float = 20) -> int:
        assert self.process is not None
        for _ in range(int(timeout * 20)):
            if self.process.poll() is not None:
                return self.process.returncode
            await asyncio.sleep(0.05)
        raise AssertionError(f"serve did not stop:\n{self.log.read_text()}")

    def delivery_pids(self) -> list[int]:
        assert self.process is not None
        return delivery_pids(self.process.pid)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def server(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Server]:
    server = Server(tmp_path, fake_slack)
    yield server
    server.kill()


async def burst(url: str, ids: list[str], answered: dict[str, Any], *, concurrency: int = 16) -> None:
    """POST every id, `concurrency` at a time; record each answered 200/201 body."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for lead_id in ids:
        queue.put_nowait(lead_id)

    async def worker(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            lead_id = queue.get_nowait()
            try:
                async with http.post(f"{url}/leads", json={"id": lead_id, "name": f"Lead {lead_id}"},
                                     headers=AUTH) as response:
                    if response.status in (200, 201):
                        answered[lead_id] = await response.json()
                    else:
                        assert response.status >= 500, await response.text()
            except (TimeoutError, aiohttp.ClientError):
                pass

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))


async def backlog(url: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        for line in (await response.text()).splitlines():
            if line.startswith("rotation_outbox_backlog "):
                return float(line.split()[1])
    raise AssertionError("no backlog metric")


async def wait_for_empty_outbox(url: str, timeout: float = 70) -> None:
    for _ in range(int(timeout * 10)):
        if await backlog(url) == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("messages are still owed")


async def test_sigkill_in_a_burst_loses_no_acknowledged_lead(server: Server, fake_slack: FakeSlack) -> None:
    await server.start()
    ids = [f"K-{n}" for n in range(400)]
    answered: dict[str, Any] = {}
    sending = asyncio.create_task(burst(server.url, ids, answered))
    while len(answered) < 60:
        await asyncio.sleep(0.005)
    children = server.delivery_pids()
    assert len(children) == 1
    server.kill()  # SIGKILL
    await sending
    await wait_for_exit(children)  # the delivery process saw its pipe close and finished
    acknowledged = dict(answered)
    assert 60 <= len(acknowledged) < len(ids)

    await server.start()
    async with aiohttp.ClientSession() as http:
        for lead_id, body in acknowledged.items():
            async with http.get(f"{server.url}/leads/{lead_id}", headers=AUTH) as response:
                assert response.status == 200, lead_id
                lead = await response.json()
            assert lead["assignments"][0]["assignee"] == body["assignee"]
            async with http.post(f"{server.url}/leads", json={"id": lead_id}, headers=AUTH) as response:
                assert (response.status, await response.json()) == (200, body)
    again: dict[str, Any] = {}
    await burst(server.url, ids, again)  # the rest arrive now, once each
    assert set(again) == set(ids)
    await wait_for_empty_outbox(server.url)
    if HAS_SLACK_RUNTIME:
        dms = {(c.body["channel"], c.body.get("text", "")) for c in fake_slack.calls_to("chat.postMessage")
               if c.status == 200}
        for lead_id, body in acknowledged.items():
            to = body["assignee"]["slack_id"]
            assert any(ch == to and lead_id in text for ch, text in dms), f"no DM for {lead_id}"
            assert any(ch == "C0EMEA" and lead_id in text for ch, text in dms), f"no post for {lead_id}"
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0


async def test_sigterm_finishes_in_flight_requests_and_exits_0(server: Server) -> None:
    await server.start()
    answered: dict[str, Any] = {}
    sending = asyncio.create_task(burst(server.url, [f"T-{n}" for n in range(300)], answered))
    while len(answered) < 20:
        await asyncio.sleep(0.005)
    children = server.delivery_pids()
    assert len(children) == 1
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0
    await wait_for_exit(children)
    await sending
    log = server.log.read_text()
    assert "Traceback" not in log and "stopped" in log
    await server.start()  # everything answered is there
    async with aiohttp.ClientSession() as http:
        for lead_id, body in answered.items():
            async with http.get(f"{server.url}/leads/{lead_id}", headers=AUTH) as response:
                assert response.status == 200
                assert (await response.json())["assignments"][0]["assignee"] == body["assignee"]
    server.signal(signal.SIGINT)
    assert await server.wait() == 0


async def test_an_invalid_config_stops_serve_with_exit_1(server: Server) -> None:
    Path(server.env["ROTATION_CONFIG"]).write_text("queues: [{name: 1}]\nrules: nope\n")
    with server.log.open("ab") as log:
        done = subprocess.run(serve_command(), cwd=ROOT, env=server.env, stdout=log, stderr=subprocess.STDOUT,
                              timeout=60, check=False)
    assert done.returncode == 1
    assert "ROTATION_CONFIG" in server.log.read_text()

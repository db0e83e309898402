"""`rotation serve` as a real process: SIGKILL in a burst loses nothing; SIGTERM exits 0."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from serve_process import HAS_SLACK_RUNTIME, ROOT, Server, serve_command
from web_support import AUTH, FakeSlack, wait_for_exit


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

"""Helpers for the HTTP tests: a real app on a real socket, over SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.config.routing import load_text
from bot.config.settings import Settings
from bot.routing.service import RoutingService
from bot.store.db import Database
from bot.store.models import Assignment, Lead, OutboxMessage
from bot.web.app import create_app
from bot.web.connections import app_runner
from bot.web.metrics import Metrics
from bot.web.server import SHUTDOWN_TIMEOUT

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the fake Slack
from fake_slack import FakeSlack  # noqa: F401 - re-exported: the tests here import it from web_support

TOKEN = "test-intake-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

CONFIG = """
timezone: UTC
managers: [U0MANAGER]
manager_channel: C0MANAGERS
members:
  - {slack_id: U01ALICE, name: Alice}
  - {slack_id: U02BOB, name: Bob}
queues:
  - name: emea
    channel: C0EMEA
    members:
      - {slack_id: U01ALICE, weight: 1}
      - {slack_id: U02BOB, weight: 1}
  - name: quiet
    members:
      - {slack_id: U02BOB, weight: 1}
rules:
  - name: Quiet
    when: {field: country, op: equals, value: XX}
    queue: quiet
  - name: Everyone
    queue: emea
"""


@dataclass
class Served:
    """An app listening on 127.0.0.1, with what it was built from."""

    url: str
    db: Database
    service: RoutingService
    metrics: Metrics
    wake: asyncio.Event
    http: aiohttp.ClientSession

    async def post_lead(self, body: Any, *, headers: dict[str, str] | None = None,
                        raw: bytes | None = None) -> tuple[int, Any]:
        data = raw if raw is not None else _json_bytes(body)
        async with self.http.post(f"{self.url}/leads", data=data,
                                  headers=AUTH | {"Content-Type": "application/json"} | (headers or {})) as r:
            return r.status, await r.json(content_type=None)

    async def counts(self) -> dict[str, int]:
        return await counts(self.db)


async def counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as connection:
        async def count(model: Any) -> int:
            return int((await connection.execute(select(func.count()).select_from(model))).scalar_one())

        return {"leads": await count(Lead), "assignments": await count(Assignment),
                "outbox": await count(OutboxMessage)}


async def raw_request(app: Served, method: str, path: str | bytes,
                      headers: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]],
                      body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One request written byte for byte on a socket, headers in order and repeated as given
    (no client library cleans them up); the answer's status, headers (names lowercased), body."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    target = path.encode() if isinstance(path, str) else path
    port = int(app.url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = method.encode() + b" " + target + b" HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
    head += b"".join(name + b": " + value + b"\r\n" for name, value in pairs)
    head += b"Content-Length: %d\r\n\r\n" % len(body)
    writer.write(head + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    block, _, content = rest.partition(b"\r\n\r\n")
    fields = {}
    for line in block.split(b"\r\n"):
        name, _, value = line.decode("latin-1").partition(": ")
        fields[name.lower()] = value
    return int(status_line.split()[1]), fields, content


def _json_bytes(body: Any) -> bytes:
    import json

    return json.dumps(body).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_app(app: web.Application) -> tuple[web.AppRunner, str]:
    """`app` on a free port with the runner `rotation serve` uses (its timeouts and refusal log)."""
    runner = app_runner(app, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{port}"


async def prepared_service(url: str, *, webhook: bool = False, config: str = CONFIG) -> RoutingService:
    db = Database(url)
    await db.migrate()
    service = RoutingService(db, webhook=webhook)
    await service.admin.apply_config(load_text(config), actor="test")
    return service


ServeFactory = Callable[..., Any]


@pytest.fixture
async def serve(sqlite_url: str) -> AsyncIterator[ServeFactory]:
    """`await serve(url=None, **settings)`: the app over `url` (default: a fresh SQLite file)."""
    cleanups: list[Callable[[], Any]] = []

    async def start(url: str | None = None, slack: Any = None, **overrides: Any) -> Served:
        settings = replace(Settings(intake_token=TOKEN, database_url=url or sqlite_url), **overrides)
        service = await prepared_service(settings.database_url, webhook=bool(settings.webhook_url))
        metrics, wake = Metrics(), asyncio.Event()
        service.transactions.on_commit = wake.set  # as `rotation serve` wakes its delivery loop
        runner, base = await start_app(create_app(service, settings, slack, metrics=metrics))
        http = aiohttp.ClientSession()

        async def cleanup() -> None:
            await http.close()
            await runner.cleanup()
            await service.db.dispose()

        cleanups.append(cleanup)
        return Served(base, service.db, service, metrics, wake, http)

    yield start
    for cleanup in reversed(cleanups):
        await cleanup()


def delivery_pids(parent: int) -> list[int]:
    """The `rotation deliver` processes `parent` started (Linux /proc; serve's delivery children)."""
    try:
        children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children if "deliver" in _cmdline(int(pid))]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


async def wait_for_exit(pids: list[int], timeout: float = 30) -> None:
    """Wait until none of `pids` is running (zombies count as gone: they wait for their reaper)."""
    for _ in range(int(timeout * 20)):
        if not [pid for pid in pids if _running(pid)]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"still running after {timeout}s: {[p for p in pids if _running(p)]}")


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"

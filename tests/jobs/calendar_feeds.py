"""A calendar server for the calendar job's tests, and helpers to run the job and read its notes.

Why a real server: what the job must get right (redirects, slow and endless bodies, what it
connects to) happens on the wire, so the feeds are served by aiohttp on a loopback address
and the job reaches them through its real guarded session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.jobs.runner import JobRunner, default_jobs
from bot.store.models import OutboxMessage

CHUNK = b"X" * 65536


class Feeds:
    """path -> (status, body, headers), changeable during a test; every request is recorded.

    Special paths: /slow.ics waits for `slow` before answering; /dribble.ics starts a
    calendar and then sends a byte every 50 ms; /endless.ics streams a calendar that never ends.
    """

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.slow = asyncio.Event()
        self.hits: list[str] = []

    def serve(self, path: str, body: bytes, status: int = 200, **headers: str) -> None:
        self.routes[path] = (status, body, headers)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = (status, b"", {"Location": location})

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(request.path)
        if request.path == "/slow.ics":
            await self.slow.wait()
        if request.path in ("/dribble.ics", "/endless.ics"):
            return await self.stream(request)
        status, body, headers = self.routes.get(request.path, (404, b"not found", {}))
        return web.Response(status=status, body=body, headers=headers,
                            content_type=None if "Content-Type" in headers else "text/calendar")

    async def stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/calendar"})
        await response.prepare(request)
        await response.write(b"BEGIN:VCALENDAR\r\n")
        try:
            while not self.slow.is_set():
                if request.path == "/dribble.ics":
                    await asyncio.sleep(0.05)
                    await response.write(b"X")
                else:
                    await response.write(CHUNK)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as it should
        return response


@asynccontextmanager
async def feed_server(host: str = "127.0.0.1") -> AsyncIterator[tuple[Feeds, TestServer]]:
    state = Feeds()
    app = web.Application()
    app.router.add_get("/{name:.*}", state.handle)
    server = TestServer(app, host=host)
    await server.start_server()
    try:
        yield state, server
    finally:
        state.slow.set()
        await server.close()


def calendar_runner(service: Any, clock: Any) -> JobRunner:
    return JobRunner(service, service.db, None, clock,
                     jobs=[j for j in default_jobs() if j.name == "calendar"], holder="A")


async def outbox(service: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, key, payload) of every outbox row: everything the bot will ever tell anyone."""
    async with service.db.transaction() as connection:
        rows = (await connection.execute(select(OutboxMessage.key, OutboxMessage.kind, OutboxMessage.payload)
                                         .order_by(OutboxMessage.id))).all()
    return [(r.kind, r.key, r.payload) for r in rows]


async def notes(service: Any) -> list[tuple[str, str, str]]:
    """(kind, to, key) of each note to a member."""
    return [(kind, payload["to"], key) for kind, key, payload in await outbox(service)
            if payload.get("event") == "member_note"]


async def note_texts(service: Any) -> dict[str, str]:
    """member -> the text of the note they were sent about their feed."""
    return {payload["to"]: payload["text"] for _, _, payload in await outbox(service)
            if payload.get("event") == "member_note"}


def logged(records: list[logging.LogRecord]) -> str:
    return "\n".join(record.getMessage() for record in records)

"""The harness for the Slack layer's tests: the real AsyncApp over real HTTP, FakeSlack, SQLite.

Why this much machinery: the bugs of a Slack app live in signatures, payload shapes,
ack timing and the Web API client; driving the real app through an aiohttp server with
Slack-signed requests, against a fake Web API reached by the real client, keeps those
under test while the database is a real migrated SQLite file loaded with the example team.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.config.routing import load_file
from bot.config.settings import Settings
from bot.delivery.loop import DeliveryLoop
from bot.delivery.transports import default_transports
from bot.routing.clock import Clock
from bot.routing.service import RoutingService
from bot.slack.runtime import SlackRuntime
from bot.store.db import Database
from bot.store.models import AuditEvent, Leave, Member, Membership, OutboxMessage
from bot.web.metrics import Metrics

try:  # works whether or not tests/ is a package
    from tests import slack_requests as sr
    from tests.fake_slack import FakeSlack
except ImportError:
    import slack_requests as sr  # type: ignore[no-redef]
    from fake_slack import FakeSlack  # type: ignore[no-redef]

SECRET = "test-signing-secret"
MANAGER = "U0MANAGER1"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "routing.yaml"


@dataclass
class Reply:
    status: int
    text: str

    def json(self) -> Any:
        import json

        return json.loads(self.text)


@dataclass
class Bot:
    """The app under test, reached only the way Slack reaches it."""

    slack: FakeSlack
    service: RoutingService
    runtime: SlackRuntime
    url: str
    http: aiohttp.ClientSession

    async def post(self, signed: tuple[str, dict[str, str]]) -> Reply:
        body, headers = signed
        async with self.http.post(self.url, data=body.encode(), headers=headers) as response:
            return Reply(response.status, await response.text())

    async def command(self, text: str, user: str = "U01ALICE") -> str:
        """Run `/rotation text` as `user`; return the ephemeral answer it posted."""
        before = len(self.slack.responses)
        reply = await self.post(sr.slash_command(SECRET, text, user_id=user,
                                                 response_url=self.slack.response_url("cmd")))
        assert reply.status == 200, reply.text
        answers = await self.slack.wait_for_responses(before + 1)
        answer = answers[before]
        assert answer.get("response_type") == "ephemeral", answer
        return str(answer["text"])

    async def post_raw(self, body: bytes, headers: dict[str, str]) -> Reply:
        """Post bytes as they are (a body that is not UTF-8, say)."""
        async with self.http.post(self.url, data=body, headers=headers) as response:
            return Reply(response.status, await response.text())

    async def state(self) -> dict[str, Any]:
        """Everything a Slack request could change: members, seats, leave, audit trail, outbox."""
        async with self.service.db.transaction() as connection:
            members = (await connection.execute(select(
                Member.slack_id, Member.paused_at, Member.paused_until, Member.pause_reason,
                Member.status_paused_until, Member.status_override, Member.timezone, Member.calendar_url,
            ).order_by(Member.id))).all()
            seats = (await connection.execute(select(
                Membership.id, Membership.weight_text, Membership.active, Membership.adjustment,
                Membership.in_config, Membership.received).order_by(Membership.id))).all()
            leaves = (await connection.execute(select(Leave.id, Leave.cancelled_at))).all()
            audit = (await connection.execute(select(func.count()).select_from(AuditEvent))).scalar_one()
            outbox = (await connection.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
        return {"members": [tuple(m) for m in members], "seats": [tuple(s) for s in seats],
                "leaves": [tuple(leave) for leave in leaves], "audit": audit, "outbox": outbox}

    async def outbox(self) -> list[tuple[str, dict[str, Any]]]:
        async with self.service.db.transaction() as connection:
            rows = await connection.execute(
                select(OutboxMessage.kind, OutboxMessage.payload).order_by(OutboxMessage.id))
            return [(row.kind, row.payload) for row in rows]


@asynccontextmanager
async def running_bot(slack: FakeSlack, service: RoutingService, **settings: Any) -> AsyncIterator[Bot]:
    """The real Bolt app behind a real aiohttp server on a local port, for `service`."""
    runtime = SlackRuntime.from_settings(settings_for(slack, **settings), service)
    assert runtime is not None
    app = web.Application()
    app.router.add_post("/slack/events", runtime.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    http = aiohttp.ClientSession()
    try:
        yield Bot(slack, service, runtime, str(server.make_url("/slack/events")), http)
    finally:
        await http.close()
        await server.close()
        await runtime.close()


def settings_for(slack: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"slack_bot_token": "xoxb-test", "slack_signing_secret": SECRET,
                              "slack_api_url": slack.api_url}
    return Settings(**(values | overrides))


@asynccontextmanager
async def example_bot(slack: FakeSlack, database_url: str, clock: Clock | None = None) -> AsyncIterator[Bot]:
    """The bot over `database_url`, loaded with the example team (its config applied at
    `clock`'s time when given), its database disposed of after."""
    db = Database(database_url)
    await db.migrate()
    routing = RoutingService(db, clock)
    await routing.admin.apply_config(load_file(EXAMPLE))
    try:
        async with running_bot(slack, routing) as running:
            yield running
    finally:
        await db.dispose()


async def deliver(bot: Bot) -> None:
    """Send everything the bot owes through the real delivery loop and Slack runtime."""
    loop = DeliveryLoop(bot.service.db, default_transports(bot.runtime, None, None), service=bot.service,
                        clock=bot.service.clock, metrics=Metrics())
    await loop.drain()


def posts(bot: Bot, channel: str) -> list[Any]:
    """The messages Slack accepted into `channel`, oldest first."""
    return [c for c in bot.slack.calls_to("chat.postMessage")
            if c.body["channel"] == channel and c.status == 200]

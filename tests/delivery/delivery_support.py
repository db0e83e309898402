"""Helpers for the delivery tests: a routed database, a Slack runtime pointed at FakeSlack."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.config.routing import load_text
from bot.config.settings import Settings
from bot.delivery.transports import plain_text
from bot.routing.clock import ManualClock
from bot.routing.service import RoutingService
from bot.store.db import Database
from bot.store.models import OutboxMessage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fake_slack import FakeSlack

__all__ = ["CONFIG", "FakeSlack", "count_rounds", "fail_sends", "outbox_rows", "prepared_service",
           "slack_runtime"]

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
rules:
  - name: Everyone
    queue: emea
"""
HAS_SLACK_RUNTIME = importlib.util.find_spec("bot.slack.runtime") is not None


async def prepared_service(url: str, *, webhook: bool = False, config: str = CONFIG) -> RoutingService:
    db = Database(url)
    await db.migrate()
    service = RoutingService(db, webhook=webhook)
    await service.admin.apply_config(load_text(config), actor="test")
    return service


START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # where the tests' clock stands until they move it


@asynccontextmanager
async def service_at_start(url: str, *, webhook: bool = False) -> AsyncIterator[RoutingService]:
    """A prepared service whose clock stands at START, its database disposed of after."""
    service = await prepared_service(url, webhook=webhook)
    service.clock = ManualClock(START)
    try:
        yield service
    finally:
        await service.db.dispose()


def count_rounds(loop: Any) -> list[int]:
    """Count a delivery loop's rounds (one transaction each): one entry per round, its room."""
    rounds: list[int] = []
    exchange = loop._exchange

    async def counted(outcomes: list[Any], room: int) -> list[Any]:
        rounds.append(room)
        return await exchange(outcomes, room)

    loop._exchange = counted
    return rounds


async def outbox_rows(db: Database) -> list[Any]:
    async with db.engine.connect() as connection:
        return list((await connection.execute(
            select(OutboxMessage.__table__).order_by(OutboxMessage.id))).all())


class ClientRuntime:
    """Stand-in for bot.slack.runtime.SlackRuntime before it exists: the real slack_sdk client."""

    def __init__(self, api_url: str) -> None:
        self.client = AsyncWebClient(token="xoxb-test", base_url=api_url)
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))

    async def deliver(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        channel = payload.get("to") if kind == "dm" else payload.get("channel")
        response = await self.client.chat_postMessage(channel=str(channel), text=plain_text(payload))
        return dict(response.data)  # type: ignore[arg-type]

    async def close(self) -> None:
        pass


def sdk_retries(runtime: Any, status: int) -> int:
    """How often the runtime's slack_sdk client retries a `status` answer by itself."""
    from slack_sdk.http_retry.builtin_async_handlers import AsyncServerErrorRetryHandler

    kind = AsyncRateLimitErrorRetryHandler if status == 429 else AsyncServerErrorRetryHandler
    return sum(h.max_retry_count for h in runtime.client.retry_handlers if isinstance(h, kind))


def fail_sends(fake: FakeSlack, runtime: Any, messages: int, status: int, retry_after: int = 0) -> None:
    """Make the next `messages` sends each end in `status` after the client's own retries."""
    for _ in range(messages):
        for _ in range(sdk_retries(runtime, status)):
            fake.fail_next("chat.postMessage", status, retry_after=0)
        fake.fail_next("chat.postMessage", status, retry_after=retry_after)


async def slack_runtime(fake: FakeSlack, service: RoutingService) -> Any:
    """The real SlackRuntime against `fake` when bot/slack/runtime.py exists, else ClientRuntime."""
    if not HAS_SLACK_RUNTIME:
        return ClientRuntime(fake.api_url)
    from bot.slack.runtime import SlackRuntime  # type: ignore[import-not-found]

    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret="secret",
                        slack_api_url=fake.api_url)
    runtime = SlackRuntime.from_settings(settings, service)
    assert runtime is not None
    return runtime


async def until_all_sent(db: Any, count: int, timeout: float = 10) -> list[Any]:
    """The outbox rows once there are `count`, every one recorded as sent."""
    for _ in range(int(timeout * 100)):
        rows = await outbox_rows(db)
        if len(rows) == count and all(r.sent_at is not None for r in rows):
            return rows
        await asyncio.sleep(0.01)
    raise AssertionError("not every message was recorded as sent")

"""Handle each Events API delivery once, whatever Slack retries.

Why in the database: Slack redelivers an event it thinks timed out (X-Slack-Retry-Num),
possibly to another replica, so an in-memory set is not enough; the `slack_events`
primary key makes the first insert win and every later one a duplicate.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from bot.store.db import Database
from bot.store.models import SlackEvent

KEEP = timedelta(days=2)


async def first_time(db: Database, event_id: str, now: datetime | None = None) -> bool:
    """Record `event_id`; True when it was not seen before. Old ids are forgotten."""
    now = now or datetime.now(UTC)
    try:
        async with db.transaction() as connection:
            await connection.execute(insert(SlackEvent).values(event_id=event_id, seen_at=now))
            await connection.execute(delete(SlackEvent).where(SlackEvent.seen_at < now - KEEP))
    except IntegrityError:
        return False
    return True


def install(app: AsyncApp, db: Database) -> None:
    """A global middleware: a repeated event_id is acked (200) and goes no further."""

    async def once(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id and not await first_time(db, event_id):
            return BoltResponse(status=200, body="")
        return await next()

    app.middleware(once)

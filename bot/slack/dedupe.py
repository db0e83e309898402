"""Handle each Events API delivery once, whatever Slack retries.

Why in the database: Slack redelivers an event it thinks timed out (X-Slack-Retry-Num),
possibly to another replica, so an in-memory set is not enough; the `slack_events`
primary key makes the first insert win and every later one a duplicate.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from sqlalchemy import Connection, delete, insert
from sqlalchemy.exc import IntegrityError

from bot.store.db import Database, DatabaseUnavailable
from bot.store.models import SlackEvent

KEEP = timedelta(days=2)
KEY_LENGTH = 100  # the slack_events key column
RETRY_AFTER_SECONDS = 5
log = logging.getLogger(__name__)


def event_key(event_id: str) -> str:
    """The stored key: the id itself, or a digest of one too long for the column (PostgreSQL
    refuses an over-long value; Slack's ids are a dozen characters, but the body is theirs)."""
    if len(event_id) <= KEY_LENGTH and event_id.isprintable() and "\x00" not in event_id:
        return event_id
    return "sha256:" + hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()


async def first_time(db: Database, event_id: str, now: datetime | None = None) -> bool:
    """Record `event_id`; True when it was not seen before. Old ids are forgotten."""
    at = now or datetime.now(UTC)

    def record(connection: Connection) -> None:
        connection.execute(insert(SlackEvent).values(event_id=event_key(event_id), seen_at=at))
        connection.execute(delete(SlackEvent).where(SlackEvent.seen_at < at - KEEP))

    try:
        await db.run(record)
    except IntegrityError:
        return False
    return True


def install(app: AsyncApp, db: Database) -> None:
    """A global middleware: a repeated event_id is acked (200) and goes no further; with the
    database away, 503 and Retry-After, so Slack delivers the event again later."""

    async def once(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id:
            try:
                seen_before = not await first_time(db, event_id)
            except DatabaseUnavailable as away:
                log.warning("the database is unavailable; Slack will redeliver the event: %s", away)
                return BoltResponse(status=503, body={"error": "The database is away just now; "
                                                      "nothing was changed. Please try again."},
                                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
            if seen_before:
                return BoltResponse(status=200, body="")
        return await next()

    app.middleware(once)

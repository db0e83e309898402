"""The outbox's bookkeeping: claim due messages under a lease, then mark them sent, retry or failed.

Each step is one short synchronous transaction run by `Database.run` (a worker thread on
SQLite, `run_sync` on PostgreSQL), like the routing core. Claiming bumps `available_at` by
a lease, so a message being sent is invisible to other loops (and replicas) until the
lease runs out; a crash mid-send therefore delays it by at most the lease. PostgreSQL also skips rows another
replica is claiming (FOR UPDATE SKIP LOCKED); SQLite's write lock is global anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from bot.delivery.transports import Message
from bot.store.db import Database
from bot.store.models import OutboxMessage

Outbox = OutboxMessage.__table__


@dataclass(frozen=True, slots=True)
class Sent:
    message: Message
    result: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Retry:
    message: Message
    error: str
    at: datetime


@dataclass(frozen=True, slots=True)
class GaveUp:
    message: Message
    error: str


Outcome = Sent | Retry | GaveUp


async def claim(db: Database, now: datetime, *, lease: timedelta, limit: int) -> list[Message]:
    """Take up to `limit` due messages, oldest first, and count this attempt."""
    return await db.run(_claim, now, now + lease, limit, db.is_postgres)


def _claim(connection: Connection, now: datetime, until: datetime, limit: int,
           skip_locked: bool) -> list[Message]:
    due = (select(Outbox.c.id, Outbox.c.key, Outbox.c.kind, Outbox.c.payload, Outbox.c.lead_id,
                  Outbox.c.attempts)
           .where(Outbox.c.sent_at.is_(None), Outbox.c.failed_at.is_(None), Outbox.c.available_at <= now)
           .order_by(Outbox.c.available_at, Outbox.c.id).limit(limit))
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    rows = connection.execute(due).all()
    if rows:
        connection.execute(update(Outbox).where(Outbox.c.id.in_([r.id for r in rows]))
                           .values(available_at=until, attempts=Outbox.c.attempts + 1))
    return [Message(r.id, r.key, r.kind, dict(r.payload or {}), r.lead_id, r.attempts + 1) for r in rows]


async def record(db: Database, outcomes: list[Outcome], now: datetime, *,
                 manager_channel: str | None = None) -> None:
    """Store what happened to each claimed message, in one transaction.

    A message given up on owes a note to `manager_channel` (when there is one), written
    in the same transaction.
    """
    if outcomes:
        await db.run(_record, outcomes, now, manager_channel)


def _record(connection: Connection, outcomes: list[Outcome], now: datetime,
            manager_channel: str | None) -> None:
    for outcome in outcomes:
        row = update(Outbox).where(Outbox.c.id == outcome.message.id)
        if isinstance(outcome, Sent):
            connection.execute(row.values(sent_at=now, result=outcome.result, last_error=None))
        elif isinstance(outcome, Retry):
            connection.execute(row.values(available_at=outcome.at, last_error=outcome.error))
        else:
            connection.execute(row.values(failed_at=now, last_error=outcome.error))
            note = failure_note(outcome, manager_channel, now)
            if note is not None:
                connection.execute(insert(Outbox).values(**note))


def failure_note(gave_up: GaveUp, channel: str | None, now: datetime) -> dict[str, Any] | None:
    """The managers' channel note for a message given up on (never for a note itself)."""
    message = gave_up.message
    if not channel or message.payload.get("event") == "managers_note":
        return None
    to = message.payload.get("to") or message.payload.get("channel") or message.kind
    lead = f" about lead {message.lead_id}" if message.lead_id else ""
    text = (f"A {message.kind} message to {to}{lead} could not be delivered after "
            f"{message.attempts} attempt(s): {gave_up.error}")
    payload: dict[str, Any] = {"event": "managers_note", "channel": channel, "text": text}
    if message.payload.get("lead"):
        payload["lead"] = message.payload["lead"]
    return dict(key=f"delivery-failed:{message.id}", kind="channel", payload=payload,
                lead_id=message.lead_id, created_at=now, available_at=now, attempts=0)

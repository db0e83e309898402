"""The outbox's bookkeeping: claim due messages under a lease, then mark them sent, retry or failed.

Each step is one short synchronous transaction run by `Database.run` (a worker thread on
SQLite, `run_sync` on PostgreSQL), like the routing core; the running loop uses `exchange`,
which records what finished and claims what is due in the same transaction, so a busy
loop costs one write transaction per round, not two per batch. Claiming bumps `available_at` by
a lease, so a message being sent is invisible to other loops (and replicas) until the
lease runs out; a crash mid-send therefore delays it by at most the lease. PostgreSQL also skips rows another
replica is claiming (FOR UPDATE SKIP LOCKED); SQLite's write lock is global anyway.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from bot.crm.message import failure_text as crm_failure_text
from bot.routing.events import MANAGERS_KINDS, ManagersNote, Recipient, Way, address_of
from bot.routing.outbox import OUTBOX, Message, outbox_row
from bot.store.db import Database

# Prebuilt statements for the common outcomes, run as one executemany each.
_MARK_SENT = (update(OUTBOX).where(OUTBOX.c.id == bindparam("b_id"))
              .values(sent_at=bindparam("b_now"), result=bindparam("b_result"), last_error=None))
_MARK_RETRY = (update(OUTBOX).where(OUTBOX.c.id == bindparam("b_id"))
               .values(available_at=bindparam("b_at"), last_error=bindparam("b_error")))
# Only while the row is still exactly as our claim left it: once its lease ran out, another
# loop may have claimed it, and a release must not make it due under that loop's feet.
_RELEASE = (update(OUTBOX)
            .where(OUTBOX.c.id == bindparam("b_id"), OUTBOX.c.sent_at.is_(None),
                   OUTBOX.c.failed_at.is_(None), OUTBOX.c.available_at == bindparam("b_until"),
                   OUTBOX.c.attempts == bindparam("b_attempts"))
            .values(available_at=bindparam("b_at"), attempts=OUTBOX.c.attempts - 1))
# A rate-limited try: put back like a release (same guard), with the answer kept as its error.
_LIMITED = _RELEASE.values(last_error=bindparam("b_error"))


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
    """Given up on. `tried` False: this claim is not counted as an attempt, because it was one
    more than allowed (an earlier attempt's outcome was lost to a crash; not sent again, so
    `attempts` stays at the limit) or because the message, too old, met a rate limit again
    (which is never a failed attempt; see `bot.delivery.retry_after`)."""

    message: Message
    error: str
    tried: bool = True


@dataclass(frozen=True, slots=True)
class Released:
    """Claimed but never tried (too many in hand, too little of its lease left to try safely,
    or its destination asked us to wait): due again `until` (None: now), the attempt it was
    claimed with not counted."""

    message: Message
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Limited:
    """Tried, and the destination said "not now, come back at `at`" (a 429 with Retry-After):
    due again then, the attempt not counted (see `bot.delivery.retry_after`); `error` is kept
    so the row says why it waits."""

    message: Message
    error: str
    at: datetime


Outcome = Sent | Retry | GaveUp | Released | Limited


async def claim(db: Database, now: datetime, *, lease: timedelta, limit: int,
                skip_kinds: Collection[str] = ()) -> list[Message]:
    """Take up to `limit` due messages, oldest first (none of `skip_kinds`), and count this attempt."""
    return await db.run(_claim, now, now + lease, limit, db.is_postgres, skip_kinds)


def _claim(connection: Connection, now: datetime, until: datetime, limit: int,
           skip_locked: bool, skip_kinds: Collection[str] = ()) -> list[Message]:
    due = (select(OUTBOX.c.id, OUTBOX.c.key, OUTBOX.c.kind, OUTBOX.c.payload, OUTBOX.c.lead_id,
                  OUTBOX.c.attempts, OUTBOX.c.created_at)
           .where(OUTBOX.c.sent_at.is_(None), OUTBOX.c.failed_at.is_(None), OUTBOX.c.available_at <= now)
           .order_by(OUTBOX.c.available_at, OUTBOX.c.id).limit(limit))
    if skip_kinds:
        due = due.where(OUTBOX.c.kind.notin_(list(skip_kinds)))
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    rows = connection.execute(due).all()
    if rows:
        connection.execute(update(OUTBOX).where(OUTBOX.c.id.in_([r.id for r in rows]))
                           .values(available_at=until, attempts=OUTBOX.c.attempts + 1))
    return [Message(r.id, r.key, r.kind, dict(r.payload or {}), r.lead_id, r.attempts + 1, r.created_at,
                    lease_until=until) for r in rows]


async def exchange(db: Database, outcomes: list[Outcome], now: datetime, *, lease: timedelta, limit: int,
                   manager_channel: str | None = None, skip_kinds: Collection[str] = ()) -> list[Message]:
    """Record `outcomes` and claim up to `limit` due messages (none of `skip_kinds`), in one
    transaction."""
    if limit <= 0:
        await record(db, outcomes, now, manager_channel=manager_channel)
        return []
    return await db.run(_exchange, outcomes, now, now + lease, limit, db.is_postgres, manager_channel,
                        skip_kinds)


def _exchange(connection: Connection, outcomes: list[Outcome], now: datetime, until: datetime, limit: int,
              skip_locked: bool, manager_channel: str | None, skip_kinds: Collection[str]) -> list[Message]:
    if outcomes:
        _record(connection, outcomes, now, manager_channel)
    return _claim(connection, now, until, limit, skip_locked, skip_kinds)


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
    sent = [{"b_id": o.message.id, "b_now": now, "b_result": o.result} for o in outcomes
            if isinstance(o, Sent)]
    if sent:
        connection.execute(_MARK_SENT, sent)
    retry = [{"b_id": o.message.id, "b_at": o.at, "b_error": o.error} for o in outcomes
             if isinstance(o, Retry)]
    if retry:
        connection.execute(_MARK_RETRY, retry)
    released = [{"b_id": o.message.id, "b_at": o.until or now, "b_until": o.message.lease_until,
                 "b_attempts": o.message.attempts} for o in outcomes if isinstance(o, Released)]
    if released:
        connection.execute(_RELEASE, released)
    limited = [{"b_id": o.message.id, "b_at": o.at, "b_until": o.message.lease_until, "b_error": o.error,
                "b_attempts": o.message.attempts} for o in outcomes if isinstance(o, Limited)]
    if limited:
        connection.execute(_LIMITED, limited)
    for outcome in outcomes:
        if isinstance(outcome, GaveUp):
            given_up = update(OUTBOX).where(OUTBOX.c.id == outcome.message.id)
            if not outcome.tried:  # this claim was one too many: not an attempt
                given_up = given_up.values(attempts=OUTBOX.c.attempts - 1)
            connection.execute(given_up.values(failed_at=now, last_error=outcome.error))
            note = failure_note(outcome, manager_channel, now)
            if note is not None:
                connection.execute(insert(OUTBOX).values(**note))


def failure_note(gave_up: GaveUp, channel: str | None, now: datetime) -> dict[str, Any] | None:
    """The managers' channel note for a message given up on (never for one told to the
    managers themselves: its note would go the same way)."""
    message = gave_up.message
    if not channel or message.payload.get("event") in MANAGERS_KINDS:
        return None
    to = address_of(message.payload) or message.kind
    lead = f" about lead {message.lead_id}" if message.lead_id else ""
    attempts = message.attempts if gave_up.tried else message.attempts - 1
    tries = f" after {attempts} attempt(s)" if attempts else ""  # none failed: it waited too long
    text = f"A {message.kind} message to {to}{lead} could not be delivered{tries}: {gave_up.error}"
    if message.kind == Way.CRM:
        text = crm_failure_text(message.payload, message.lead_id, attempts, gave_up.error)
    note = ManagersNote(text, message.payload.get("lead") or None)
    return outbox_row(f"delivery-failed:{message.id}", note, Recipient.channel(channel), message.lead_id, now)

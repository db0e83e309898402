"""Transactions for the core: one unit of work, retried when a race aborted it, and the
hand-over of the messages it owes. Every room's service runs its work through here.

Why one place: the rules for a write (PostgreSQL's lock timeout, which errors are a lost
race, how long to back off, when to wake the delivery loop) must be the same for a lead,
a click and a pause, and a reader should find them without reading any business rule.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from bot.routing.clock import Clock
from bot.routing.errors import CapacityTaken
from bot.routing.outbox import Message
from bot.store.db import Database, DatabaseUnavailable

T = TypeVar("T")

ATTEMPTS = 6  # a transaction aborted by a race is run again, up to this many times in all
BACKOFF_SECONDS = 0.005  # before the second attempt; doubled each time, with jitter (~0.3 s in all)
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
LOCK_TIMEOUT = "5s"  # the longest a write waits for one lock (PostgreSQL's lock_timeout)
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout passed

log = logging.getLogger(__name__)


class Contended(DatabaseUnavailable):
    """A transaction lost its race every time it ran: nothing was written, and the same
    request will very likely go through in a moment (HTTP answers 503 with Retry-After)."""


def is_retryable(error: Exception) -> bool:
    """A race another transaction won; nothing was written, so running again is safe."""
    return isinstance(error, CapacityTaken) or _sqlstate(error) in RETRYABLE_SQLSTATES


def _race(error: Exception) -> str:
    return "capacity taken" if isinstance(error, CapacityTaken) else str(getattr(error, "orig", error))


def _sqlstate(error: Exception) -> str | None:
    if not isinstance(error, DBAPIError):
        return None
    return getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)


def _with_lock_timeout(work: Callable[[Connection], T]) -> Callable[[Connection], T]:
    """PostgreSQL waits for a row lock forever by default; a lead must not."""

    def bounded(connection: Connection) -> T:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        return work(connection)

    return bounded


class Transactions:
    """Runs units of work on the database and tells the delivery loop what they owe.

    `on_commit` is called after every committed write: it may have owed messages (a new
    lead, a Pass, an SLA re-offer, a pause), so serve points it at the delivery loop's wake.
    Work run with `run_handing_over` skips it while its messages are handed over instead.
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.on_commit: Callable[[], None] | None = None
        self._take: Callable[[list[Message]], None] | None = None
        self._taking: Callable[[], bool] = lambda: True
        self._lease = timedelta(0)

    def hand_over_to(self, take: Callable[[list[Message]], None], *, lease: timedelta,
                     taking: Callable[[], bool] = lambda: True) -> None:
        """Give the messages that `run_handing_over` work owes to `take` once committed.

        They are written claimed for `lease` (see `bot.routing.outbox`), so the delivery loop
        sends them without a claim transaction; a lead is the hot path, and at a steady
        trickle that claim was a second write transaction per lead. While `taking()` is
        false (the taker has fallen behind), messages are written due at once instead, and
        `on_commit` tells the loop to claim them in its own time.
        """
        self._take, self._taking, self._lease = take, taking, lease

    async def run(self, work: Callable[[Connection], T], *, commit: bool = True, notify: bool = True) -> T:
        """Run `work` in one transaction, again if a race aborted it (see `is_retryable`).

        Writers lock in one order (`bot.routing.assignment.locks`), so a deadlock is rare (a config
        applied mid-flight); two queues sharing a capped member can both fill their last slot.
        A lock held past LOCK_TIMEOUT (a stuck transaction elsewhere) is not waited for again.
        `notify=False` leaves `on_commit` out (the caller hands its messages over itself).
        """
        if commit and self.db.is_postgres:
            work = _with_lock_timeout(work)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                result = await self.db.run(work, commit=commit)
            except Exception as error:
                if _sqlstate(error) == LOCK_NOT_AVAILABLE:
                    raise Contended(f"a lock was held for over {LOCK_TIMEOUT}: {error}") from error
                if not is_retryable(error):
                    raise
                if attempt == ATTEMPTS:
                    raise Contended(f"lost a race {ATTEMPTS} times in a row: {error}") from error
                log.info("a transaction raced another (%s); running it again (attempt %d of %d)",
                         _race(error), attempt + 1, ATTEMPTS)
                await asyncio.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1) * (0.5 + random.random()))
                continue
            if commit and notify and self.on_commit is not None:
                self.on_commit()
            return result
        raise AssertionError("unreachable")

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in a transaction that is rolled back: a read."""
        return await self.run(work, commit=False)

    async def run_handing_over(
        self, work: Callable[[Connection, datetime | None], tuple[T, list[Message]]]
    ) -> T:
        """Run `work(connection, lease_until)`, which returns its result and the messages it
        wrote claimed until `lease_until` (None: written due, for any delivery loop to claim),
        and give those messages to the taker once the transaction has committed."""
        take = self._take if self._take is not None and self._taking() else None

        def leased(connection: Connection) -> tuple[T, list[Message]]:
            # The lease starts when the transaction has its locks (each attempt), not when
            # the work arrived: a wait for the write lock must not eat into it.
            return work(connection, None if take is None else self.clock.now() + self._lease)

        result, owed = await self.run(leased, notify=take is None)
        if take is not None and owed:
            take(owed)
        return result

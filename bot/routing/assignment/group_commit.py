"""Group commit: leads that arrive while a routing transaction runs share the next one.

Under load (a CRM flushing a queue, sixteen webhook calls at once) the cost of a
commit and of reading a queue's ledger is paid once per batch instead of once per
lead. Nothing is acknowledged before its batch commits, so "201" still means stored.
A batch that fails is retried one lead per transaction, so a bad lead fails alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.routing.results import RouteOutcome

MAX_BATCH = 64


@dataclass(slots=True)
class Pending:
    lead_id: str
    fields: dict[str, Any]
    actor: str
    future: asyncio.Future[RouteOutcome]


class GroupCommit:
    """`workers` batches may be in flight at once (PostgreSQL: a batch whose queue is locked
    elsewhere must not hold up leads for other queues; SQLite has one writer anyway). A
    batch that fails with one of `fails_together` (the database away, a lock held too
    long) fails as a whole at once: those leads would only fail again one by one, each
    after the same wait."""

    def __init__(
        self,
        route_batch: Callable[[list[Pending]], Awaitable[list[RouteOutcome]]],
        route_one: Callable[[Pending], Awaitable[RouteOutcome]],
        *,
        workers: int = 1,
        fails_together: tuple[type[Exception], ...] = (),
    ) -> None:
        self._route_batch = route_batch
        self._route_one = route_one
        self._waiting: list[Pending] = []
        self._workers: set[asyncio.Task[None]] = set()
        self._max_workers = workers
        self._busy = 0
        self._fails_together = fails_together

    async def route(self, lead_id: str, fields: dict[str, Any], actor: str) -> RouteOutcome:
        future: asyncio.Future[RouteOutcome] = asyncio.get_running_loop().create_future()
        self._waiting.append(Pending(lead_id, fields, actor, future))
        self._workers = {worker for worker in self._workers if not worker.done()}
        if len(self._workers) == self._busy and len(self._workers) < self._max_workers:
            self._workers.add(asyncio.create_task(self._drain()))
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            self._busy += 1
            try:
                outcomes = await self._route_batch(batch)
            except self._fails_together as error:
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(error)
                continue
            except Exception:
                await self._one_by_one(batch)
                continue
            finally:
                self._busy -= 1
            for pending, outcome in zip(batch, outcomes, strict=True):
                if not pending.future.done():
                    pending.future.set_result(outcome)

    async def _one_by_one(self, batch: list[Pending]) -> None:
        for pending in batch:
            try:
                outcome = await self._route_one(pending)
            except Exception as error:
                if not pending.future.done():
                    pending.future.set_exception(error)
            else:
                if not pending.future.done():
                    pending.future.set_result(outcome)

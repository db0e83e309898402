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
    def __init__(
        self,
        route_batch: Callable[[list[Pending]], Awaitable[list[RouteOutcome]]],
        route_one: Callable[[Pending], Awaitable[RouteOutcome]],
    ) -> None:
        self._route_batch = route_batch
        self._route_one = route_one
        self._waiting: list[Pending] = []
        self._worker: asyncio.Task[None] | None = None

    async def route(self, lead_id: str, fields: dict[str, Any], actor: str) -> RouteOutcome:
        future: asyncio.Future[RouteOutcome] = asyncio.get_running_loop().create_future()
        self._waiting.append(Pending(lead_id, fields, actor, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                outcomes = await self._route_batch(batch)
            except Exception:
                await self._one_by_one(batch)
                continue
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

"""A source's request, from the bytes that arrived to the committed leads and parked payloads.

1. The kind checks that the request is its sender's own (`Refused`: 4xx, nothing stored) and
   splits the body into payloads.
2. Each payload is mapped (`bot.sources.mapping`) and checked as /leads checks a lead; one
   that cannot be a lead is parked with its reason, and the others go on (a batch with one
   bad item routes the rest).
3. The leads are routed by the core, exactly as from /leads (idempotent on their id); then, in
   one more transaction, they are marked with the source's name, the parked payloads are
   stored and the managers' note is owed. Only then is the sender answered, always 2xx, so
   a failure before that (the database away: 503) makes the sender deliver again, and the
   repeat changes nothing that was already done.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from bot.routing.errors import RoutingError
from bot.routing.results import RouteOutcome
from bot.routing.rules.lead_fields import LeadInvalid, checked_lead
from bot.routing.service import RoutingService
from bot.sources import lead_source, parked
from bot.sources.config import SourceConfig
from bot.sources.kind import Answer, Delivered, Kind, RawRequest, Refused, Split
from bot.sources.mapping import Unmappable, lead_fields
from bot.sources.metrics import SourceMetrics
from bot.sources.notify import owe_parked_note
from bot.sources.parked import Parking
from bot.sources.registry import kind_of
from bot.sources.stored import stored_source

log = logging.getLogger(__name__)

MAX_ITEMS = 1000  # payloads in one request: Salesforce sends up to 100, HubSpot batches of 100


@dataclass(slots=True)
class Sorted:
    """A split's payloads sorted into leads to route and items to park."""

    leads: list[dict[str, Any]] = field(default_factory=list)
    parkings: list[Parking] = field(default_factory=list)


def sort_payloads(source: SourceConfig, kind: Kind, split: Split, body: bytes, content_type: str) -> Sorted:
    result = Sorted()
    if split.problem is not None:
        result.parkings.append(Parking(split.problem, body, False, content_type))
    total = len(split.payloads)
    for index, payload in enumerate(split.payloads):
        where = f"item {index + 1} of {total}: " if total > 1 else ""
        try:
            fields = lead_fields(payload, defaults_of(kind, payload), source.fields)
            checked_lead(fields)
        except (Unmappable, LeadInvalid) as problem:
            result.parkings.append(Parking.payload(where + reason_for(problem), payload))
            continue
        result.leads.append(fields)
    return result


def defaults_of(kind: Kind, payload: dict[str, Any]) -> dict[str, Any]:
    """The kind's default mapping; a payload shaped unlike anything the sender documents is
    Unmappable, never an error of ours."""
    try:
        return kind.default_fields(payload)
    except (TypeError, AttributeError, ValueError, KeyError) as error:
        raise Unmappable(f"the payload is not shaped as {kind.name} sends it ({type(error).__name__}: "
                         f"{str(error)[:120]})") from None


def reason_for(problem: Exception) -> str:
    text = str(problem)
    if isinstance(problem, LeadInvalid) and problem.malformed and "no `id`" in text:
        return ("no `id`: nothing where the mapping looks for it (set `fields: {id: <path>}` to where this "
                "sender puts its id)")
    return text


class SourceIntake:
    """Receives requests for the configured sources and replays parked ones."""

    def __init__(self, service: RoutingService, metrics: SourceMetrics | None = None, *,
                 lead_routed: Callable[[str | None, str], None] | None = None) -> None:
        self.service = service
        self.metrics = metrics
        self.lead_routed = lead_routed

    def _now(self) -> datetime:
        return self.service.clock.now()

    def count(self, source: str, outcome: str, amount: int = 1) -> None:
        if self.metrics is not None:
            self.metrics.count(source, outcome, amount)

    async def source(self, name: str) -> SourceConfig | None:
        return await self.service.transactions.read(lambda c: stored_source(c, name))

    async def receive(self, source: SourceConfig, request: RawRequest, secret: str | None,
                      content_type: str) -> Answer:
        """Answer one request (Refused propagates: the web layer words it)."""
        kind = kind_of(source.kind)
        self.count(source.name, "received")
        try:
            split = kind.read(request, source, secret, self._now(), content_type)
            if len(split.payloads) + len(split.ignored) > MAX_ITEMS:
                raise Refused(413, f"The request holds over {MAX_ITEMS} items; no sender batches that many. "
                                   "Send them in smaller batches.")
        except Refused:
            self.count(source.name, "refused")
            raise
        sorted_ = sort_payloads(source, kind, split, request.body, content_type)
        outcomes, parked_ids = await self._commit(source, kind, sorted_)
        self.count(source.name, "ignored", len(split.ignored))
        delivered = Delivered(
            routed=[o.as_json() for o in outcomes], created=[o.created for o in outcomes],
            parked=[{"parked_id": parked_id, "reason": parking.reason}
                    for parked_id, parking in zip(parked_ids, sorted_.parkings, strict=True)],
            ignored=split.ignored)
        return kind.answer(source, delivered)

    async def _route(self, source: SourceConfig, leads: list[dict[str, Any]]) -> list[RouteOutcome]:
        actor = f"source:{source.name}"[:64]  # as an audit actor is kept
        if not leads:
            return []
        if len(leads) == 1:
            return [await self.service.assignment.route(leads[0], actor=actor)]
        try:
            return await self.service.assignment.route_many(leads, actor=actor)
        except IntegrityError:  # another replica stored one of these ids just now: they are known now
            return await self.service.assignment.route_many(leads, actor=actor)

    async def _commit(self, source: SourceConfig, kind: Kind,
                      sorted_: Sorted) -> tuple[list[RouteOutcome], list[int]]:
        try:
            outcomes = await self._route(source, sorted_.leads)
        except RoutingError as error:  # the core refused the batch as a whole: park it whole
            sorted_.parkings.extend(Parking.payload(str(error), lead) for lead in sorted_.leads)
            outcomes = []
        now = self._now()

        def work(connection: Connection) -> list[int]:
            lead_source.tag(connection, source.name, [o.lead_id for o in outcomes])
            ids = parked.park(connection, source.name, kind.name, sorted_.parkings, now)
            if ids:
                owe_parked_note(connection, source.name, len(ids), sorted_.parkings[0].reason, now)
            return ids

        parked_ids = await self.service.transactions.run(work)
        if parked_ids:
            log.warning("source %s parked %d request(s) it could not make into leads: %s (see `rotation "
                        "sources parked %s`)", source.name, len(parked_ids), sorted_.parkings[0].reason[:300],
                        source.name)
        self._after_routing(source, outcomes)
        self.count(source.name, "parked", len(parked_ids))
        return outcomes, parked_ids

    def _after_routing(self, source: SourceConfig, outcomes: list[RouteOutcome]) -> None:
        created = [o for o in outcomes if o.created]
        self.count(source.name, "routed", len(created))
        for outcome in created:
            if self.lead_routed is not None:
                self.lead_routed(outcome.queue, outcome.status)

    # --- replays ---------------------------------------------------------------

    async def replay(self, parked_ids: list[int] | None) -> list[Replayed]:
        """Route parked requests again with the config as it is now (None: every one waiting)."""
        rows = await self.service.transactions.read(
            lambda c: parked.waiting(c) if parked_ids is None else parked.by_ids(c, parked_ids))
        results = []
        for row in rows:
            results.append(await self._replay_one(row))
        return results

    async def _replay_one(self, row: Any) -> Replayed:
        if row.replayed_at is not None:
            return Replayed(row.id, row.source, [], f"already routed (lead {row.lead_id})", done=True)
        source = await self.source(row.source)
        if source is None:
            return await self._still(row, f"the source {row.source!r} is no longer in the routing config")
        kind = kind_of(source.kind)
        split = (Split(payloads=[json.loads(row.body)]) if row.split
                 else kind.split(row.body, row.content_type))
        sorted_ = sort_payloads(source, kind, split, row.body, row.content_type)
        if sorted_.parkings:
            return await self._still(row, sorted_.parkings[0].reason)
        try:
            outcomes = await self._route(source, sorted_.leads)
        except RoutingError as error:
            return await self._still(row, str(error))
        lead_ids = [o.lead_id for o in outcomes]
        now = self._now()

        def work(connection: Connection) -> None:
            lead_source.tag(connection, source.name, lead_ids)
            parked.replayed(connection, row.id, ", ".join(lead_ids)[:200] or "-", now)

        await self.service.transactions.run(work)
        self._after_routing(source, outcomes)
        return Replayed(row.id, row.source, lead_ids, None, done=True)

    async def _still(self, row: Any, reason: str) -> Replayed:
        await self.service.transactions.run(lambda c: parked.still_parked(c, row.id, reason))
        return Replayed(row.id, row.source, [], reason, done=False)


@dataclass(frozen=True, slots=True)
class Replayed:
    parked_id: int
    source: str
    lead_ids: list[str]
    reason: str | None  # why it is still parked (or was already routed)
    done: bool

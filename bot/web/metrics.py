"""Prometheus metrics, one registry per app so several apps (tests) never clash."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select

from bot.store.db import Database
from bot.store.models import OutboxMessage
from bot.web.bearer import BEARER_CHALLENGE, bearer_refusal, given_twice
from bot.web.handler import Handler

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Everything the service counts; the delivery loop and the intake share one instance."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.leads_received = Counter("rotation_leads_received", "New leads accepted by POST /leads.",
                                      ["queue"], registry=r)
        self.leads_assigned = Counter("rotation_leads_assigned", "New leads assigned on arrival.",
                                      ["queue"], registry=r)
        self.leads_unassigned = Counter("rotation_leads_unassigned",
                                        "New leads nobody could take on arrival.", ["queue"], registry=r)
        self.intake_requests = Counter("rotation_intake_requests", "POST /leads answers by status code.",
                                       ["code"], registry=r)
        self.intake_latency = Histogram("rotation_intake_seconds", "Time to answer POST /leads.",
                                        buckets=LATENCY_BUCKETS, registry=r)
        self.outbox_backlog = Gauge("rotation_outbox_backlog", "Messages owed and not yet sent or given up.",
                                    registry=r)
        self.deliveries = Counter("rotation_deliveries", "Messages delivered, by kind.", ["kind"], registry=r)
        self.delivery_errors = Counter("rotation_delivery_errors",
                                       "Failed delivery attempts, by kind.", ["kind"], registry=r)
        self.delivery_failures = Counter("rotation_delivery_failures",
                                         "Messages given up on after the last attempt, by kind.", ["kind"],
                                         registry=r)
        self.delivery_latency = Histogram("rotation_delivery_lag_seconds",
                                          "Time from a message being owed to it being sent.",
                                          buckets=LATENCY_BUCKETS, registry=r)

        self._answers: dict[int, Any] = {}  # status code -> its counter child (labels() costs a lock)
        self._routed: dict[tuple[str | None, str], tuple[Any, Any]] = {}

    def answered(self, status: int) -> None:
        """Count one POST /leads answer."""
        child = self._answers.get(status)
        if child is None:
            child = self._answers[status] = self.intake_requests.labels(str(status))
        child.inc()

    # -- what the delivery loop reports (see bot.delivery.loop.DeliveryCounts) --

    def sent(self, kind: str, lag: float | None = None) -> None:
        self.deliveries.labels(kind).inc()
        if lag is not None:
            self.delivery_latency.observe(max(0.0, lag))

    def failed(self, kind: str) -> None:
        self.delivery_errors.labels(kind).inc()

    def gave_up(self, kind: str) -> None:
        self.delivery_failures.labels(kind).inc()

    def lead_routed(self, queue: str | None, status: str) -> None:
        children = self._routed.get((queue, status))
        if children is None:
            label = queue or "none"
            outcome = self.leads_assigned if status == "assigned" else self.leads_unassigned
            children = self._routed[(queue, status)] = (self.leads_received.labels(label),
                                                        outcome.labels(label))
        for child in children:
            child.inc()


BACKLOG = select(func.count()).select_from(OutboxMessage).where(
    OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))


async def backlog(db: Database) -> int:
    """How many outbox messages are neither sent nor given up.

    A plain read (like the health check): a scrape never queues for SQLite's write lock.
    """
    async with db.engine.connect() as connection:
        reader = await connection.execution_options(read_only=True)
        return int((await reader.execute(BACKLOG)).scalar_one())


def metrics_handler(metrics: Metrics, db: Database, token: str | None = None) -> Handler:
    """GET /metrics; with `token` (ROTATION_METRICS_TOKEN) only for a scraper that sends it."""

    async def handle(request: web.Request) -> web.Response:
        if token is not None:
            twice = given_twice(request, ["Authorization"])
            if twice is not None:
                return web.json_response({"error": twice}, status=400)
            refusal = bearer_refusal(request, token, name="metrics token (ROTATION_METRICS_TOKEN)")
            if refusal is not None:
                return web.json_response({"error": refusal}, status=401, headers=BEARER_CHALLENGE)
        try:
            metrics.outbox_backlog.set(await backlog(db))
        except Exception:  # the database being down must not hide every other metric
            metrics.outbox_backlog.set(float("nan"))
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return handle

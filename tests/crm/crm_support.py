"""Helpers for the write-back tests: a team whose config writes owners back, a delivery loop
with the real CRM transport pointed at a fake CRM (tests/fake_crm.py), and outbox reads."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.config.routing import load_text
from bot.config.settings import Settings
from bot.crm.transport import CrmTransport
from bot.delivery.loop import DeliveryLoop
from bot.delivery.transports import ConsoleTransport
from bot.routing.clock import ManualClock
from bot.routing.service import RoutingService
from bot.store.db import Database
from bot.store.models import OutboxMessage
from bot.web.metrics import Metrics

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fake_crm import FakeHubSpot, FakePipedrive, FakeSalesforce

__all__ = ["FakeHubSpot", "FakePipedrive", "FakeSalesforce", "Team", "config_text", "crm_rows", "failures",
           "notes"]


def config_text(crm: str, *, alice: str = "email: alice@example.com", bob: str = "email: bob@example.com",
                carol: str = "email: carol@example.com") -> str:
    """A team of three in one queue (Alice, Bob, Carol, in that order of offers), writing back to `crm`."""
    return f"""
timezone: UTC
managers: [U0MANAGER]
manager_channel: C0MANAGERS
crm: {crm}
members:
  - {{slack_id: U01ALICE, name: Alice, {alice}}}
  - {{slack_id: U02BOB, name: Bob, {bob}}}
  - {{slack_id: U03CAROL, name: Carol, {carol}}}
queues:
  - name: emea
    strategy: least_recent
    members:
      - {{slack_id: U01ALICE}}
      - {{slack_id: U02BOB}}
      - {{slack_id: U03CAROL}}
rules:
  - name: Everyone
    queue: emea
"""


class Team:
    """A migrated database with the config applied, a manual clock, and delivery loops on it."""

    def __init__(self, url: str, config: str, settings: Settings) -> None:
        self.url = url
        self.config = config
        self.settings = settings
        self.clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
        self.metrics = Metrics()
        self.service: RoutingService
        self.transport: CrmTransport

    async def start(self) -> Team:
        db = Database(self.url)
        await db.migrate()
        self.service = RoutingService(db, self.clock)
        await self.service.admin.apply_config(load_text(self.config), actor="test")
        self.loop = self.new_loop()
        return self

    @property
    def db(self) -> Database:
        return self.service.db

    def new_loop(self, db: Database | None = None) -> DeliveryLoop:
        """A delivery loop (and CRM transport) of its own, as a new process would have."""
        self.transport = CrmTransport(self.settings, db or self.db)
        console = ConsoleTransport()
        return DeliveryLoop(db or self.db, {"crm": self.transport, "dm": console, "channel": console},
                            service=self.service, metrics=self.metrics, clock=self.clock)

    async def route(self, lead_id: str, **fields: Any) -> Any:
        return await self.service.assignment.route({"id": lead_id, **fields})

    async def deliver(self, loop: DeliveryLoop | None = None) -> None:
        """Every message due now, sent and recorded (retries come due only as the clock moves)."""
        await (loop or self.loop).drain()

    def later(self, seconds: float) -> None:
        self.clock.advance(seconds=seconds)

    async def close(self) -> None:
        await self.transport.close()
        await self.db.dispose()


async def crm_rows(db: Database) -> list[Any]:
    table = OutboxMessage.__table__
    async with db.engine.connect() as connection:
        return list((await connection.execute(
            select(table).where(OutboxMessage.kind == "crm").order_by(OutboxMessage.id))).all())


async def notes(db: Database) -> list[str]:
    """The managers' channel notes owed so far (their text)."""
    async with db.engine.connect() as connection:
        rows = (await connection.execute(select(OutboxMessage.payload).where(
            OutboxMessage.kind == "channel").order_by(OutboxMessage.id))).all()
    return [row.payload["text"] for row in rows if row.payload.get("event") == "managers_note"]


def failures(metrics: Metrics, kind: str = "crm") -> float:
    value = metrics.registry.get_sample_value("rotation_delivery_failures_total", {"kind": kind})
    return value or 0.0

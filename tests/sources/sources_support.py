"""The app on a real socket with the sources below applied, over SQLite or PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from sqlalchemy import func, select, update

from bot.config.routing import ConfigInvalid, load_text
from bot.config.settings import Settings
from bot.routing.clock import ManualClock
from bot.routing.service import RoutingService
from bot.sources.config import sources_settings
from bot.sources.parked import ParkedRequest
from bot.store.db import Database
from bot.store.models import Assignment, Lead, OutboxMessage, Team
from bot.web.app import create_app
from bot.web.connections import app_runner
from bot.web.metrics import Metrics

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TOKEN = "test-intake-token"
SECRETS = {"TYPEFORM_SECRET": "tf-secret", "HUBSPOT_SECRET": "hs-client-secret",
           "CALENDLY_KEY": "cal-key", "TALLY_SECRET": "tally-secret", "WEBFLOW_SECRET": "wf-secret",
           "PIPEDRIVE_AUTH": "rotation:pd-pass", "PARTNER_TOKEN": "partner-token"}
ORG = "00D000000000001"

TEAM = """
timezone: UTC
managers: [U0MANAGER]
manager_channel: C0MANAGERS
members:
  - {slack_id: U01ALICE, name: Alice}
  - {slack_id: U02BOB, name: Bob}
queues:
  - name: emea
    members: [{slack_id: U01ALICE}, {slack_id: U02BOB}]
  - name: americas
    members: [{slack_id: U02BOB}]
rules:
  - name: Americas
    when: {field: country, op: in, value: [US, CA]}
    queue: americas
  - name: Everyone
    queue: emea
"""

SOURCES: list[dict[str, Any]] = [
    {"name": "website", "kind": "form", "redirect": "https://example.com/thanks", "honeypot": "website"},
    {"name": "typeform", "kind": "typeform", "secret_env": "TYPEFORM_SECRET"},
    {"name": "salesforce", "kind": "salesforce", "organization_id": "00D000000000001EAA"},
    {"name": "hubspot", "kind": "hubspot", "secret_env": "HUBSPOT_SECRET"},
    {"name": "calendly", "kind": "calendly", "secret_env": "CALENDLY_KEY"},
    {"name": "tally", "kind": "tally", "secret_env": "TALLY_SECRET"},
    {"name": "webflow", "kind": "webflow", "secret_env": "WEBFLOW_SECRET"},
    {"name": "pipedrive", "kind": "pipedrive", "secret_env": "PIPEDRIVE_AUTH"},
    {"name": "feed", "kind": "json"},
    {"name": "partner-feed", "kind": "json", "secret_env": "PARTNER_TOKEN",
     "fields": {"id": "data.submission.uid", "name": "data.contact.name", "email": "data.contact.emails[0]",
                "company": "data.fields[?key=='company'].value | [0]",
                "country": "data.fields[?key=='country'].value | [0]"}},
]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def problems_for(sources: list[dict[str, Any]]) -> list[str]:
    """What `config check` says of the team with `sources`, each problem at its line."""
    with pytest.raises(ConfigInvalid) as caught:
        load_text(config_text(sources), "routing.yaml")
    return [problem.render("routing.yaml") for problem in caught.value.problems]


def config_text(sources: list[dict[str, Any]]) -> str:
    team = yaml.safe_load(TEAM)
    return yaml.safe_dump({**team, "sources": sources}, sort_keys=False)


async def apply_sources(service: RoutingService, sources: list[dict[str, Any]]) -> None:
    """Apply the team with `sources`, as `rotation config apply` does. (While `config apply`
    does not keep the sources itself, they are put in the team's settings as it will.)"""
    config = load_text(config_text(sources))
    await service.admin.apply_config(config, actor="test")
    async with service.db.transaction() as connection:
        settings = (await connection.execute(select(Team.settings).where(Team.id == 1))).scalar_one()
        if settings.get("sources") != sources_settings(config.sources):
            await connection.execute(update(Team).where(Team.id == 1).values(
                settings={**settings, "sources": sources_settings(config.sources)}))


@dataclass
class Sources:
    """The app listening on 127.0.0.1 with SOURCES applied."""

    url: str
    service: RoutingService
    clock: ManualClock
    metrics: Metrics
    http: aiohttp.ClientSession

    @property
    def db(self) -> Database:
        return self.service.db

    async def post(self, name: str, body: bytes, headers: dict[str, str] | None = None,
                   content_type: str = "application/json") -> tuple[int, dict[str, str], bytes]:
        async with self.http.post(f"{self.url}/sources/{name}", data=body, allow_redirects=False,
                                  headers={"Content-Type": content_type, **(headers or {})}) as answer:
            return answer.status, dict(answer.headers), await answer.read()

    async def lead(self, lead_id: str) -> tuple[int, Any]:
        async with self.http.get(f"{self.url}/leads/{lead_id}",
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
            return answer.status, await answer.json()

    async def counts(self) -> dict[str, int]:
        async with self.db.engine.connect() as connection:
            async def count(model: Any) -> int:
                return int((await connection.execute(select(func.count()).select_from(model))).scalar_one())

            return {"leads": await count(Lead), "assignments": await count(Assignment),
                    "parked": await count(ParkedRequest), "outbox": await count(OutboxMessage)}

    async def rows(self, query: Any) -> list[Any]:
        async with self.db.engine.connect() as connection:
            return list((await connection.execute(query)).all())

    async def metric(self, source: str, outcome: str) -> float:
        value = self.metrics.registry.get_sample_value("rotation_source_total",
                                                       {"source": source, "outcome": outcome})
        return value or 0.0


async def _served(url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sources]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    clock = ManualClock(NOW)
    db = Database(url)
    await db.migrate()
    service = RoutingService(db, clock)
    await apply_sources(service, SOURCES)
    metrics = Metrics()
    app = create_app(service, Settings(intake_token=TOKEN, database_url=url), metrics=metrics)
    runner = app_runner(app, shutdown_timeout=5)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    http = aiohttp.ClientSession()
    try:
        yield Sources(f"http://127.0.0.1:{port}", service, clock, metrics, http)
    finally:
        await http.close()
        await runner.cleanup()
        await db.dispose()


@pytest.fixture
async def sources_app(database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sources]:
    """The app with SOURCES applied, on SQLite and on PostgreSQL: for what is stored."""
    async for app in _served(database_url, monkeypatch):
        yield app


@pytest.fixture
async def sqlite_sources_app(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sources]:
    """The same on SQLite alone: for refusals, where the database only has to stay empty."""
    async for app in _served(sqlite_url, monkeypatch):
        yield app


def as_json(body: bytes) -> Any:
    return json.loads(body)


Post = Callable[..., Any]

"""Fixtures for the job tests: a fresh database (SQLite file or PostgreSQL), a manual
clock, and a routing service with a small config applied."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from calendar_feeds import Feeds, feed_server

from bot.config.routing import load_text
from bot.jobs.feed_address import ALLOW_ENV
from bot.routing.clock import ManualClock
from bot.routing.service import RoutingService
from bot.store.db import Database

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # a Tuesday

MakeService = Callable[[str], Awaitable[RoutingService]]


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/t.db"
    else:
        url = request.getfixturevalue("postgres_url")
    database = Database(url)
    await database.migrate()
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite only, for tests whose subject is not storage (time arithmetic, parsing)."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    await database.migrate()
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def make_service(db: Database, clock: ManualClock) -> MakeService:
    """A service on `db` and `clock` with the YAML config `text` applied."""
    async def make(text: str) -> RoutingService:
        service = RoutingService(db, clock)
        await service.admin.apply_config(load_text(text))
        return service
    return make


@pytest.fixture
def make_sqlite_service(sqlite_db: Database, clock: ManualClock) -> MakeService:
    async def make(text: str) -> RoutingService:
        service = RoutingService(sqlite_db, clock)
        await service.admin.apply_config(load_text(text))
        return service
    return make


class Leads:
    """Routes numbered test leads and says who got each."""

    def __init__(self) -> None:
        self.count = 0

    async def route(self, service: RoutingService, **fields: object) -> str | None:
        self.count += 1
        outcome = await service.assignment.route({"id": f"L{self.count}", **fields})
        return outcome.assignee.slack_id if outcome.assignee else None


@pytest.fixture
def leads() -> Leads:
    return Leads()


@pytest.fixture
async def feeds() -> AsyncIterator[tuple[Feeds, TestServer]]:
    """A calendar server on 127.0.0.1 (refused as a feed unless the operator trusts it)."""
    async with feed_server() as served:
        yield served


@pytest.fixture
def trust_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator trusts 127.0.0.1 for feeds (ROTATION_CALENDAR_ALLOW_NETWORKS), as a
    company with an intranet calendar server would trust its network."""
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32")

"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.routing.clock import ManualClock
from bot.routing.service import RoutingService
from bot.store.db import Database

try:  # tests/ as a package (tests/__init__.py) or as a plain rootdir-less directory
    from tests import postgres as _pg
    from tests.fake_slack import FakeSlack
except ImportError:  # pragma: no cover - depends on how pytest imports conftest
    import postgres as _pg  # type: ignore[no-redef]
    from fake_slack import FakeSlack  # type: ignore[no-redef]

# --- PostgreSQL ---
# One throwaway server per test session (started lazily, only when a test asks
# for it), a fresh empty database per test. See tests/postgres.py.
# Env: POSTGRES_BIN (bin dir), TEST_DATABASE_URL_PG (use an existing server),
# ROTATION_REQUIRE_POSTGRES=1 (fail instead of skip when no binaries exist).


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[_pg.ThrowawayPostgres]:
    """The session's PostgreSQL server (skips/fails when none is available)."""
    missing = None
    try:
        server = _pg.get_server()
    except _pg.PostgresNotFound as exc:
        missing = str(exc)
    if missing is not None:
        if os.environ.get("ROTATION_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{missing} [ROTATION_REQUIRE_POSTGRES=1 is set]", pytrace=False)
        pytest.skip(missing)
    try:
        yield server
    finally:
        _pg.stop_server()


@pytest.fixture
def postgres_url(postgres_server: _pg.ThrowawayPostgres, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy async URL (postgresql+asyncpg://...) of a fresh, empty database."""
    name = _pg.unique_database_name(request.node.name)
    url = postgres_server.create_database(name)
    yield url
    if postgres_server.external:  # don't litter a shared server with test databases
        postgres_server.drop_database(name)


# --- The routing core on a real database ---

EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "examples" / "routing.yaml"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday afternoon in New York


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same storage tests on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'rotation.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'rotation.db'}"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """The fake Slack Web API (tests/fake_slack.py), listening on a local port."""
    async with FakeSlack() as slack:
        yield slack


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.dispose()


@pytest.fixture
async def service(db: Database, clock: ManualClock) -> RoutingService:
    return RoutingService(db, clock)

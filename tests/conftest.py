"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

try:  # tests/ as a package (tests/__init__.py) or as a plain rootdir-less directory
    from tests import postgres as _pg
except ImportError:  # pragma: no cover - depends on how pytest imports conftest
    import postgres as _pg  # type: ignore[no-redef]

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

"""The async engine and transactions, tuned per backend.

SQLite: WAL, a busy timeout, and every transaction opened with BEGIN IMMEDIATE so that
routing takes the write lock up front: two concurrent leads can never read the same
ledger state. PostgreSQL: routing locks the queue row with SELECT ... FOR UPDATE.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///rotation.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class Database:
    """One engine per process; `transaction()` is the unit of work of the core."""

    def __init__(self, url: str = DEFAULT_DATABASE_URL, **engine_options: Any) -> None:
        self.url = url
        self.engine: AsyncEngine = _create_engine(url, **engine_options)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction, committed on success."""
        async with self.engine.begin() as connection:
            yield connection

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def migrate(self) -> None:
        """Apply pending Alembic migrations (safe to call from several replicas)."""
        from bot.store.migrate import upgrade

        await upgrade(self.engine)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _create_engine(url: str, **options: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        options.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_async_engine(url, **options)
        _configure_sqlite(engine)
        return engine
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    options.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **options)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Hand transaction control to us so BEGIN IMMEDIATE takes the write lock first."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

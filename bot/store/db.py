"""The engines and transactions, tuned per backend.

SQLite: WAL, a busy timeout, and every transaction opened with BEGIN IMMEDIATE so that
routing takes the write lock up front: two concurrent leads can never read the same
ledger state. PostgreSQL: routing locks the queue row with SELECT ... FOR UPDATE.

The routing core is written as plain synchronous SQLAlchemy Core functions and run by
`Database.run`: on PostgreSQL through the async engine (`AsyncConnection.run_sync`),
on SQLite in a worker thread on a synchronous engine, so that a whole routing
transaction costs one thread hop instead of one per statement (aiosqlite's hop per
statement was most of the cost of an assignment).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; SQLite's busy handler alone keeps writers apart
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot import json_text

T = TypeVar("T")


class _WorkFailed(Exception):
    """An OSError raised by `work` itself (a timezone file, say), not by the database's
    driver: carried past `unavailable`, which reads a raw OSError as "cannot connect"."""

    def __init__(self, error: OSError) -> None:
        self.error = error


def _own_errors(work: Callable[..., T]) -> Callable[..., T]:
    def guarded(connection: Any, *args: Any) -> T:
        try:
            return work(connection, *args)
        except OSError as error:
            raise _WorkFailed(error) from error

    return guarded


class Rollback(Exception):
    """Raised inside `Database.run` work to discard the transaction but keep a result."""

    def __init__(self, value: Any) -> None:
        self.value = value


DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///rotation.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class Database:
    """One engine per process; `transaction()` is the unit of work of the core."""

    def __init__(self, url: str = DEFAULT_DATABASE_URL, **engine_options: Any) -> None:
        self.url = url
        self.engine: AsyncEngine = _create_engine(url, **engine_options)

        self._sync_engine: Engine | None = None
        # SQLite has one write lock per file. Taking it in-process first means our own writers
        # queue on a cheap mutex instead of meeting SQLITE_BUSY and sleeping in SQLite's busy
        # handler (1, 2, 5 ... 100 ms steps); busy_timeout still covers other processes.
        # Measured with bench/intake.py: intake→DM p99 at 100 leads/s fell from ~1.1 s to ~130 ms.
        self._write_lock = threading.Lock()
        self._file_lock = _writer_lock(self.engine.url.database if self.is_sqlite else None)
        self._writes_seen: tuple[float, bool] = (-WRITE_PROBE_FRESH, True)  # (monotonic time, took one)
        self._write_probe: asyncio.Future[bool] | None = None

    @property
    def sync_engine(self) -> Engine:
        """SQLite only: a synchronous engine on the same file, for `run`."""
        if self._sync_engine is None:
            sync_url = self.engine.url.set(drivername="sqlite")
            engine = create_engine(
                sync_url,
                json_serializer=json_text.dumps,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                pool_size=8,
                max_overflow=16,
            )
            _configure_sqlite_sync(engine)
            _renew_stuck_connections(engine)
            self._sync_engine = engine
        return self._sync_engine

    async def run(self, work: Callable[..., T], *args: Any, commit: bool = True) -> T:
        """Run synchronous `work(connection, *args)` in one transaction, committed unless
        `commit` is False or `work` raises (a `Rollback` carries a result out).
        DatabaseUnavailable when the database cannot be reached (see `unavailable`)."""
        work = _own_errors(work)
        try:
            if self.is_sqlite:
                return await asyncio.to_thread(self._run_sqlite, work, args, commit)
            return await self._run_async(work, args, commit)
        except _WorkFailed as failed:  # our own code's error, whatever its type: never "away"
            raise failed.error from None
        except Exception as error:
            if unavailable(error):
                self._writes_seen = (time.monotonic(), False)  # /healthz says so at once
                raise DatabaseUnavailable(str(error)) from error
            raise

    async def read(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work`, which only reads, in a transaction that is rolled back. On SQLite it
        neither takes the write lock nor waits behind writers (a plain BEGIN reads WAL's
        last committed state), so the delivery process's lookups never queue behind routing.
        Work that writes, even to roll back (a dry run), must use `run(commit=False)`."""
        if not self.is_sqlite:
            return await self.run(work, *args, commit=False)
        work = _own_errors(work)
        try:
            return await asyncio.to_thread(self._read_sqlite, work, args)
        except _WorkFailed as failed:
            raise failed.error from None
        except Exception as error:
            if unavailable(error):
                raise DatabaseUnavailable(str(error)) from error
            raise

    def _read_sqlite(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self.sync_engine.connect() as plain:
            connection = plain.execution_options(read_only=True)
            with connection.begin() as transaction:
                result = work(connection, *args)
                transaction.rollback()
                return result

    async def _run_async(self, work: Callable[..., T], args: tuple[Any, ...], commit: bool) -> T:
        try:
            async with self.engine.begin() as connection:
                result: T = await connection.run_sync(work, *args)
                if not commit:
                    raise Rollback(result)
                return result
        except Rollback as rollback:
            return cast(T, rollback.value)

    def _run_sqlite(self, work: Callable[..., T], args: tuple[Any, ...], commit: bool) -> T:
        try:
            with self._write_lock, self._file_lock, self.sync_engine.begin() as connection:
                result = work(connection, *args)
                if not commit:
                    raise Rollback(result)
                return result
        except Rollback as rollback:
            return cast(T, rollback.value)

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
                reader = await connection.execution_options(read_only=True)
                await reader.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def takes_writes(self) -> bool:
        """True when a write commits just now (for /healthz): a database can answer reads
        and still refuse every write (disk full, read-only, a PostgreSQL in recovery).

        The probe is a write that changes nothing: alembic_version's one row set to itself.
        It goes through everything a lead's write does (the write lock, the WAL, the commit),
        so it fails as they would; SQLite may still fit one page where a lead's pages no
        longer fit, so a file system with almost no room left counts as full too. The
        answer is kept for `WRITE_PROBE_FRESH` seconds (a failed write elsewhere replaces
        it at once), and a probe stuck behind busy writers is not waited for: busy is not
        broken, so the last answer stands.
        """
        seen_at, took = self._writes_seen
        if time.monotonic() - seen_at < WRITE_PROBE_FRESH:
            return took
        if self._write_probe is None:
            self._write_probe = asyncio.ensure_future(self._probe_writes())
        try:
            return await asyncio.wait_for(asyncio.shield(self._write_probe), WRITE_PROBE_WAIT)
        except TimeoutError:
            return took

    async def _probe_writes(self) -> bool:
        seen_before = self._writes_seen[1]
        try:
            await self.run(_probe_write, self.is_postgres)
            took = not self.is_sqlite or _room_left(self.engine.url.database)
        except Exception as error:
            # A lock held on the probe's row (a migration, a long transaction) is busy, not
            # broken: leads still commit, so the last answer stands rather than taking every
            # replica out of the load balancer.
            cause = error.__cause__ if isinstance(error, DatabaseUnavailable) else error
            took = seen_before if _sqlstate_of(cause) == LOCK_NOT_AVAILABLE else False
        finally:
            self._write_probe = None
        self._writes_seen = (time.monotonic(), took)
        return took

    async def migrate(self) -> None:
        """Apply pending Alembic migrations (safe to call from several replicas)."""
        from bot.store.migrate import upgrade

        await upgrade(self.engine)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._sync_engine is not None:
            self._sync_engine.dispose()
        if isinstance(self._file_lock, _WriterLock):
            with self._write_lock:  # not while a worker thread still holds it
                self._file_lock.close()


WRITE_PROBE_FRESH = 1.0  # seconds a write probe's answer is kept
WRITE_PROBE_WAIT = 0.25  # seconds /healthz waits for a probe queued behind other writers
SQLITE_ROOM_NEEDED = 64 * 1024  # bytes free below which a SQLite file counts as full (a lead's pages)


LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout passed


def _sqlstate_of(error: BaseException | None) -> str | None:
    original = getattr(error, "orig", None)
    return getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)


def _probe_write(connection: Any, is_postgres: bool) -> None:
    if is_postgres:  # a migration holding the row must not hold /healthz too
        connection.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
    connection.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")


def _room_left(database: str | None) -> bool:
    """Whether the file system holding a SQLite file has room for a lead's writes."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return True
    try:
        stats = os.statvfs(Path(database).absolute().parent)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return True
    blocks = stats.f_bfree if hasattr(os, "geteuid") and os.geteuid() == 0 else stats.f_bavail
    return blocks * stats.f_frsize >= SQLITE_ROOM_NEEDED


class _WriterLock:
    """An advisory lock other processes writing the same SQLite file queue on.

    Why: `rotation serve` delivers from a second process, and a writer that meets
    SQLITE_BUSY sleeps in SQLite's busy handler (up to 100 ms a step) however soon the
    lock frees; a writer blocked on this lock gets it the moment it is released. It is a
    file of its own (`<database>.write-lock`) because the locks on the database file must
    stay SQLite's. Held only under `Database._write_lock`, so one handle serves the process.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: Any = None
        self._held = False

    def __enter__(self) -> None:
        self._held = False
        if self._handle is None:
            try:
                self._handle = self.path.open("a")
            except OSError:  # a directory we cannot write to: the busy handler still keeps writes apart
                return
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX)
        except OSError:  # a file system without flock (some NFS/FUSE mounts): the same fallback
            return
        self._held = True

    def __exit__(self, *_exc: object) -> None:
        if self._held:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._held = False

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _writer_lock(database: str | None) -> _WriterLock | contextlib.nullcontext[None]:
    """The inter-process writer lock for a SQLite file; nothing for in-memory databases."""
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        return contextlib.nullcontext()
    return _WriterLock(Path(database).with_name(Path(database).name + ".write-lock"))


def _create_engine(url: str, **options: Any) -> AsyncEngine:
    options.setdefault("json_serializer", json_text.dumps)
    if url.startswith("sqlite"):
        options.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_async_engine(url, **options)
        _configure_sqlite(engine)
        _renew_stuck_connections(engine.sync_engine)
        return engine
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    options.setdefault("pool_pre_ping", True)
    engine = create_async_engine(url, **options)
    _renew_stuck_connections(engine.sync_engine)
    return engine


class DatabaseUnavailable(Exception):
    """The database could not be reached or used just now (down, restarting, refusing
    connections, a lock held too long, its disk full, read-only); the transaction changed
    nothing, and the same request may well succeed in a moment. HTTP answers it with 503
    and Retry-After."""


# PostgreSQL: connection exceptions (class 08), refused logins (class 28) and insufficient
# resources (class 53: disk full, out of memory, too many clients), no such database, a
# read-only transaction (a standby, default_transaction_read_only), shutting down, starting up.
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "28", "53")
UNAVAILABLE_SQLSTATES = ("3D000", "25006", "57P01", "57P02", "57P03")
# SQLite's words for: a lock held too long, a file it cannot open, an I/O error, a full disk
# (SQLITE_FULL) and a read-only file or file system (SQLITE_READONLY).
SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error",
                      "database or disk is full", "attempt to write a readonly database")


def unavailable(error: BaseException) -> bool:
    """Whether an error raised by a database call says the database is away, not that the
    statement is wrong: a missing table or a syntax error stays a bug (500, with a traceback)."""
    if isinstance(error, OSError):  # asyncpg raises the socket's own error when it cannot connect
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    code = str(getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None) or "")
    if code.startswith(UNAVAILABLE_SQLSTATE_CLASSES) or code in UNAVAILABLE_SQLSTATES:
        return True
    said = str(error.orig).lower()
    return isinstance(error, OperationalError) and any(words in said for words in SQLITE_UNAVAILABLE)


# Errors that stay with the connection that met them, though the database may be fine again
# a moment later: PostgreSQL's read-only session (default_transaction_read_only is read when
# a session starts), SQLite's file opened read-only (a read-only file system when it was
# opened) and its I/O errors.
STUCK_SQLSTATES = ("25006",)
SQLITE_STUCK = ("attempt to write a readonly database", "disk i/o error")


def _renew_stuck_connections(engine: Engine) -> None:
    """Treat those errors as a lost connection, so the pool opens a new one for the next
    transaction: the database is used again as soon as it can write, without a restart."""

    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        error = context.original_exception
        code = str(getattr(error, "sqlstate", None) or getattr(error, "pgcode", None) or "")
        said = str(error).lower()
        if code in STUCK_SQLSTATES or any(words in said for words in SQLITE_STUCK):
            context.is_disconnect = True


def _configure_sqlite(engine: AsyncEngine) -> None:
    _configure_sqlite_sync(engine.sync_engine)


def _configure_sqlite_sync(engine: Engine) -> None:
    """Hand transaction control to us so BEGIN IMMEDIATE takes the write lock first."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Readers (the health check) must not queue for the write lock behind busy writers.
        read_only = connection.get_execution_options().get("read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

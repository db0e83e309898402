"""Attacks on the database's room to write: a full disk, a read-only file system, a
read-only PostgreSQL. Writes answer 503 with Retry-After (never 500) and store nothing
half-way, /healthz answers 503 while it lasts, and all recovers without a restart.

The SQLite file lives on a small tmpfs mounted by the test (root, or CAP_SYS_ADMIN);
where mounting is impossible the SQLite tests skip and say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from web_support import AUTH, TOKEN, Served, ServeFactory, prepared_service, start_app

from bot.config.settings import Settings
from bot.routing.service import RoutingService
from bot.store.db import Database, unavailable
from bot.web.app import create_app
from bot.web.metrics import Metrics

NOTES = "n" * 4000  # a lead that takes a few pages
HEALTH_SETTLES = 5.0  # seconds: /healthz keeps a write probe's answer for about one


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of the test's own, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill (needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        if subprocess.run(["umount", str(disk)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(disk)], capture_output=True, check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk has no room left at all; the file, to free it later."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"x" * size)
    finally:
        os.close(fd)
    return filler


def remount(disk: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(disk)], check=True, capture_output=True)


async def until_health(app: Served, status: int) -> dict[str, str]:
    """Poll /healthz until it answers `status` (it keeps a probe's answer about a second)."""
    answer: dict[str, str] = {}
    for _ in range(int(HEALTH_SETTLES * 10)):
        async with app.http.get(f"{app.url}/healthz") as response:
            answer = await response.json()
            if response.status == status:
                return answer
        await asyncio.sleep(0.1)
    raise AssertionError(f"/healthz never answered {status}: {answer}")


async def post_until_refused(app: Served, prefix: str, attempts: int = 300) -> tuple[list[str], str]:
    """POST leads until one is refused: (the ids answered 201, the id refused with 503)."""
    accepted: list[str] = []
    for n in range(attempts):
        lead_id = f"{prefix}-{n}"
        async with app.http.post(f"{app.url}/leads", json={"id": lead_id, "notes": NOTES},
                                 headers=AUTH) as response:
            body = await response.json()
            if response.status == 201:
                accepted.append(lead_id)
                continue
            assert response.status == 503, body
            assert response.headers["Retry-After"].isdigit()
            assert "try again" in body["error"].lower() and "nothing was changed" in body["error"]
            return accepted, lead_id
    raise AssertionError(f"{attempts} leads were stored on a full disk")


async def post_accepted(app: Served, prefix: str, count: int) -> list[str]:
    """POST `count` leads while there is room: each is answered 201."""
    ids = [f"{prefix}-{n}" for n in range(count)]
    for lead_id in ids:
        async with app.http.post(f"{app.url}/leads", json={"id": lead_id, "notes": NOTES},
                                 headers=AUTH) as response:
            assert response.status == 201, await response.text()
    return ids


async def assert_stored_exactly(app: Served, accepted: list[str], refused: list[str]) -> None:
    """Every lead answered 201 is there whole (its assignment, its messages); no refused one is."""
    counts = await app.counts()
    assert counts["leads"] == counts["assignments"] == len(accepted), counts
    assert counts["outbox"] == 2 * len(accepted)  # the DM and the channel post of each
    for lead_id in accepted:
        async with app.http.get(f"{app.url}/leads/{lead_id}", headers=AUTH) as response:
            assert response.status == 200
            assert len((await response.json())["assignments"]) == 1
    for lead_id in refused:
        async with app.http.get(f"{app.url}/leads/{lead_id}", headers=AUTH) as response:
            assert response.status == 404


async def test_a_full_disk_is_503_and_recovers_when_space_is_back(
        small_disk: Path, serve: ServeFactory) -> None:
    """Attack: the disk holding the SQLite file fills up while leads arrive."""
    app = await serve(url=f"sqlite+aiosqlite:///{small_disk / 'rotation.db'}")
    before = await post_accepted(app, "BEFORE", 3)
    filler = fill(small_disk)
    accepted, refused = await post_until_refused(app, "FULL")
    again = []
    for n in range(3):  # and it stays refused, each time in words
        more, refused_again = await post_until_refused(app, f"FULL-AGAIN{n}", attempts=1)
        assert more == []
        again.append(refused_again)
    health = await until_health(app, 503)
    assert "writes" in health["error"]
    await assert_stored_exactly(app, before + accepted, [refused, *again])

    filler.unlink()  # space is back: no restart
    await until_health(app, 200)
    lead = {"id": refused, "notes": NOTES}
    async with app.http.post(f"{app.url}/leads", json=lead, headers=AUTH) as response:
        assert response.status == 201
    await assert_stored_exactly(app, [*before, *accepted, refused], [])


@pytest.fixture
async def app_on_small_disk(small_disk: Path) -> AsyncIterator[Served]:
    """The app over a SQLite file on `small_disk`, started (unlike `serve`) without writing
    anything, so the disk may be remounted read-only first (a remount waits for no writer)."""
    url = f"sqlite+aiosqlite:///{small_disk / 'rotation.db'}"
    await (await prepared_service(url)).db.dispose()  # migrated and configured, then closed
    remount(small_disk, "ro")
    db = Database(url)
    service, metrics = RoutingService(db), Metrics()
    settings = Settings(intake_token=TOKEN, database_url=url)
    runner, base = await start_app(create_app(service, settings, metrics=metrics))
    http = aiohttp.ClientSession()
    try:
        yield Served(base, db, service, metrics, asyncio.Event(), http)
    finally:
        remount(small_disk, "rw")
        await http.close()
        await runner.cleanup()
        await db.dispose()


async def test_a_read_only_file_system_is_503_and_recovers(
        small_disk: Path, app_on_small_disk: Served) -> None:
    """Attack: the file system holding the SQLite file is read-only (as after the kernel
    remounts a failing disk read-only), then writable again while serve runs."""
    app = app_on_small_disk
    refused = []
    for n in range(3):
        accepted, lead_id = await post_until_refused(app, f"RO{n}", attempts=1)
        assert accepted == []
        refused.append(lead_id)
    await until_health(app, 503)
    remount(small_disk, "rw")  # writable again: no restart
    await until_health(app, 200)
    async with app.http.post(f"{app.url}/leads", json={"id": refused[0]}, headers=AUTH) as response:
        assert response.status == 201
    await assert_stored_exactly(app, [refused[0]], refused[1:])


async def postgres_admin(url: str) -> asyncpg.Connection:
    parts = make_url(url)
    return await asyncpg.connect(host=parts.host, port=parts.port, user=parts.username,
                                 password=parts.password, database="postgres")


async def set_read_only(url: str, read_only: bool, *, end_sessions: bool) -> None:
    """`default_transaction_read_only` for the database's new sessions; `end_sessions`
    ends the current ones too (as a failover to a standby does)."""
    name = make_url(url).database
    admin = await postgres_admin(url)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = '
                            f'{"on" if read_only else "off"}')
        if end_sessions:
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = $1 AND pid <> pg_backend_pid()", name)
    finally:
        await admin.close()


async def test_a_read_only_postgresql_is_503_and_recovers(postgres_url: str, serve: ServeFactory) -> None:
    """Attack: PostgreSQL turns read-only under the app (default_transaction_read_only)."""
    app = await serve(url=postgres_url)
    stored = await post_accepted(app, "RW", 2)
    await set_read_only(postgres_url, True, end_sessions=True)  # the pool's sessions are read-only now
    try:
        refused = []
        for n in range(3):  # the first may meet a pooled connection that was ended: still a 503
            accepted, lead_id = await post_until_refused(app, f"RO{n}", attempts=1)
            assert accepted == []
            refused.append(lead_id)
        health = await until_health(app, 503)
        assert "writes" in health["error"]
    finally:  # the sessions opened meanwhile stay read-only: the app must renew them itself
        await set_read_only(postgres_url, False, end_sessions=False)
    await until_health(app, 200)
    async with app.http.post(f"{app.url}/leads", json={"id": refused[0]}, headers=AUTH) as response:
        assert response.status == 201
    await assert_stored_exactly(app, [*stored, refused[0]], refused[1:])


@pytest.mark.parametrize("error", [
    asyncpg.exceptions.DiskFullError("could not extend file: No space left on device"),
    asyncpg.exceptions.OutOfMemoryError("out of memory"),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.exceptions.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
    sqlite3.OperationalError("database or disk is full"),
    sqlite3.OperationalError("attempt to write a readonly database"),
    sqlite3.OperationalError("disk I/O error"),
], ids=lambda error: type(error).__name__ + ": " + str(error)[:30])
def test_a_database_that_cannot_write_counts_as_unavailable(error: Exception) -> None:
    """What PostgreSQL (SQLSTATE 53xxx, 25006) and SQLite say when they cannot write is
    "unavailable" (503, try again), not a bug of ours (500)."""
    assert unavailable(OperationalError("INSERT INTO leads ...", {}, error))


def test_a_wrong_statement_is_still_a_bug() -> None:
    syntax = asyncpg.exceptions.PostgresSyntaxError('syntax error at or near "SELEC"')
    assert not unavailable(ProgrammingError("SELEC 1", {}, syntax))
    assert not unavailable(OperationalError("SELECT x", {}, sqlite3.OperationalError("no such column: x")))

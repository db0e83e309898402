"""Named leases so that one replica at a time runs a job, and a job runs once per interval.

A lease is a row in `leases`: who holds it and until when. It is taken with one
conditional UPDATE (free, expired, or already ours) or, the first time, an INSERT that
ignores a concurrent insert; exactly one of several racing replicas gets it. The row also
remembers when the job last ran (`last_run_key`, an ISO timestamp), so replicas share one
schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.db import Database
from bot.store.models import Lease


@dataclass(frozen=True, slots=True)
class Grant:
    """A lease we now hold, and when the job last ran (by anyone)."""

    name: str
    holder: str
    last_run_at: datetime | None


def insert_ignoring_conflict(connection: AsyncConnection, table: Any, key_columns: list[str]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the connection's dialect."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=key_columns)


async def acquire(db: Database, name: str, holder: str, now: datetime, ttl: timedelta) -> Grant | None:
    """Take the lease until `now + ttl`, or None when another holder has it."""
    until = now + ttl
    async with db.transaction() as connection:
        taken = (await connection.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.expires_at <= now, Lease.holder == holder))
            .values(holder=holder, expires_at=until)
            .returning(Lease.last_run_key))).first()
        if taken is not None:
            return Grant(name, holder, _parse(taken.last_run_key))
        inserted = (await connection.execute(
            insert_ignoring_conflict(connection, Lease, ["name"])
            .values(name=name, holder=holder, expires_at=until, last_run_key=None)
            .returning(Lease.name))).first()
        return Grant(name, holder, None) if inserted is not None else None


async def release(db: Database, grant: Grant, now: datetime, *, ran_at: datetime | None = None) -> None:
    """Give the lease back; `ran_at` records a completed run for everyone's schedule."""
    values: dict[str, Any] = {"expires_at": now}
    if ran_at is not None:
        values["last_run_key"] = ran_at.isoformat()
    async with db.transaction() as connection:
        await connection.execute(update(Lease).where(Lease.name == grant.name, Lease.holder == grant.holder)
                                 .values(**values))


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None

"""The job runner: runs each background job on its interval, one replica at a time.

`run_forever` is what `rotation serve` starts; `run_once` runs every due job once (tests,
`rotation jobs run-once` from cron). A job that raises is logged and retried on its next
interval; the loop itself never dies of it. Time comes from the injectable clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.jobs import calendar, digest, leases, pending, periods, sla
from bot.jobs.context import JobContext
from bot.routing.clock import Clock
from bot.routing.service import RoutingService
from bot.store.db import Database

log = logging.getLogger(__name__)

# How long a run may hold its lease before another replica may assume it died.
MIN_LEASE_SECONDS = 120.0
# The loop checks for due jobs at least this often (wall-clock seconds).
MAX_SLEEP_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    interval: float  # seconds between runs
    run: Callable[[JobContext], Awaitable[object]]


def default_jobs(settings: Any = None, intervals: dict[str, float] | None = None) -> list[Job]:
    """The standard jobs, in the order they run (a new period before anything is counted)."""
    modules = (periods, sla, pending, calendar, digest)
    chosen = dict(intervals or {})
    jobs = []
    for module in modules:
        interval = (chosen.get(module.NAME) or _setting_interval(settings, module.NAME)
                    or module.INTERVAL_SECONDS)
        jobs.append(Job(module.NAME, float(interval), module.run))
    return jobs


def _setting_interval(settings: Any, name: str) -> float | None:
    """`settings.<name>_interval_seconds`, or env ROTATION_<NAME>_INTERVAL_SECONDS."""
    value = getattr(settings, f"{name}_interval_seconds", None)
    if value is None:
        value = os.environ.get(f"ROTATION_{name.upper()}_INTERVAL_SECONDS", "").strip() or None
    try:
        return float(value) if value is not None and float(value) > 0 else None
    except ValueError:
        log.warning("ignoring ROTATION_%s_INTERVAL_SECONDS=%r: not a number", name.upper(), value)
        return None


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobRunner:
    def __init__(self, service: RoutingService, db: Database, settings: Any = None,
                 clock: Clock | None = None, jobs: Iterable[Job] | None = None,
                 holder: str | None = None) -> None:
        self.clock = clock or service.clock
        self.context = JobContext(service=service, db=db, settings=settings, clock=self.clock)
        self.db = db
        self.jobs = list(jobs) if jobs is not None else default_jobs(settings)
        self.holder = holder or default_holder()
        self._next_due: dict[str, datetime] = {}

    async def run_once(self, *, force: bool = False) -> dict[str, object]:
        """Run every job that is due (all of them with `force`); what each did, by name.

        A job another replica is running, or ran less than an interval ago, reports
        {"skipped": why}; a job that failed reports {"error": message}.
        """
        results: dict[str, object] = {}
        for job in self.jobs:
            now = self.clock.now()
            if not force and self._next_due.get(job.name, now) > now:
                continue
            results[job.name] = await self.run_job(job, force=force)
            self._next_due[job.name] = self.clock.now() + timedelta(seconds=job.interval)
        return results

    async def run_job(self, job: Job, *, force: bool = False) -> object:
        started = self.clock.now()
        ttl = timedelta(seconds=max(job.interval, MIN_LEASE_SECONDS))
        try:
            grant = await leases.acquire(self.db, job.name, self.holder, started, ttl)
        except Exception as error:
            log.exception("job %s: could not take its lease", job.name)
            return {"error": f"lease: {error}"}
        if grant is None:
            return {"skipped": "another replica is running it"}
        if not force and grant.last_run_at is not None \
                and started < grant.last_run_at + timedelta(seconds=job.interval):
            await leases.release(self.db, grant, started)
            return {"skipped": f"ran at {grant.last_run_at.isoformat()}"}
        try:
            result = await job.run(self.context)
        except Exception as error:
            log.exception("job %s failed; it will run again in %.0f s", job.name, job.interval)
            await self._release_quietly(grant, None)
            return {"error": f"{error.__class__.__name__}: {error}"}
        await self._release_quietly(grant, started)
        return result

    async def _release_quietly(self, grant: leases.Grant, ran_at: datetime | None) -> None:
        try:
            await leases.release(self.db, grant, self.clock.now(), ran_at=ran_at)
        except Exception:
            log.exception("job %s: could not release its lease (it expires on its own)", grant.name)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run jobs on their intervals until `stop` is set; never raises because of a job."""
        log.info("job runner %s started: %s", self.holder, ", ".join(j.name for j in self.jobs))
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # run_once already contains job errors; this is a last guard
                log.exception("job runner pass failed")
            await _wait(stop, self._sleep_seconds())
        log.info("job runner %s stopped", self.holder)

    def _sleep_seconds(self) -> float:
        now = self.clock.now()
        waits = [(due - now).total_seconds() for due in self._next_due.values()]
        if not waits:
            return MAX_SLEEP_SECONDS
        return min(max(min(waits), 0.01), MAX_SLEEP_SECONDS)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def run_jobs_once(service: RoutingService, settings: Any) -> dict[str, object]:
    """`rotation jobs run-once`: every job once now (if no replica is running it), and what each did."""
    return await JobRunner(service=service, db=service.db, settings=settings).run_once(force=True)


async def run_once_cli(settings: Any) -> dict[str, object]:
    """Migrate the database at `settings.database_url`, then `run_jobs_once`."""
    from bot.store.db import Database as _Database

    db = _Database(settings.database_url)
    try:
        await db.migrate()
        service = RoutingService(db, webhook=bool(getattr(settings, "webhook_url", None)))
        return await run_jobs_once(service, settings)
    finally:
        await db.dispose()

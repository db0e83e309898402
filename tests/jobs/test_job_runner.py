"""The job runner: leases between replicas, schedules, errors, and the CLI entry point."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.config.settings import Settings
from bot.jobs import leases
from bot.jobs.context import JobContext
from bot.jobs.runner import Job, JobRunner, run_once_cli
from bot.routing.clock import SystemClock
from bot.routing.service import RoutingService
from bot.store.db import Database


class Recorder:
    """A job that records which runner ran it and can be held open."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate = asyncio.Event()
        self.started = asyncio.Event()

    def job(self, name: str = "probe", interval: float = 60) -> Job:
        async def run(context: JobContext) -> dict[str, object]:
            self.calls.append(context.settings)
            self.started.set()
            await self.gate.wait()
            return {"ran": context.settings}
        return Job(name, interval, run)


def runner(db: Database, clock, name: str, jobs: list[Job]) -> JobRunner:
    return JobRunner(RoutingService(db, clock), db, name, clock, jobs=jobs, holder=name)


async def test_two_replicas_racing_for_one_lease_run_the_job_once(db, clock) -> None:
    other_db = Database(db.url)  # the second replica has its own engine and connections
    try:
        recorder = Recorder()
        job = recorder.job()
        first, second = runner(db, clock, "A", [job]), runner(other_db, clock, "B", [job])
        racing = asyncio.gather(first.run_once(), second.run_once())
        await recorder.started.wait()
        await asyncio.sleep(0.05)  # let the loser finish its attempt while the winner holds the lease
        recorder.gate.set()
        results = await racing
        assert len(recorder.calls) == 1
        ran = [r["probe"] for r in results]
        assert {"ran": recorder.calls[0]} in ran
        assert {"skipped": "another replica is running it"} in ran
        # A third replica right after finds it ran less than an interval ago.
        late = await runner(db, clock, "C", [job]).run_once()
        assert late["probe"]["skipped"].startswith("ran at ")
        loser = second if recorder.calls[0] == "A" else first
        clock.advance(seconds=60)
        assert (await loser.run_once())["probe"] == {"ran": loser.holder}
        assert len(recorder.calls) == 2
    finally:
        await other_db.dispose()


async def test_many_replicas_one_winner(db, clock) -> None:
    dbs = [Database(db.url) for _ in range(4)]
    try:
        recorder = Recorder()
        recorder.gate.set()
        job = recorder.job(interval=300)
        runners = [runner(d, clock, f"R{i}", [job]) for i, d in enumerate(dbs)]
        results = await asyncio.gather(*(r.run_once() for r in runners))
        assert len(recorder.calls) == 1
        assert sum("ran" in r["probe"] for r in results) == 1
    finally:
        for d in dbs:
            await d.dispose()


async def test_a_dead_holders_lease_expires(db, clock) -> None:
    grant = await leases.acquire(db, "probe", "crashed", clock.now(), timedelta(seconds=120))
    assert grant is not None
    recorder = Recorder()
    recorder.gate.set()
    live = runner(db, clock, "B", [recorder.job()])
    assert (await live.run_once())["probe"] == {"skipped": "another replica is running it"}
    clock.advance(seconds=121)
    assert (await live.run_once())["probe"] == {"ran": "B"}


async def test_a_failing_job_is_reported_and_retried_and_others_still_run(db, clock) -> None:
    attempts: list[int] = []

    async def flaky(context: JobContext) -> dict[str, object]:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")
        return {"ok": True}

    recorder = Recorder()
    recorder.gate.set()
    jobs = [Job("flaky", 10, flaky), recorder.job(interval=10)]
    replica = runner(db, clock, "A", jobs)
    first = await replica.run_once()
    assert first["flaky"] == {"error": "RuntimeError: database hiccup"}
    assert first["probe"] == {"ran": "A"}
    assert await replica.run_once() == {}  # nothing due yet
    clock.advance(seconds=10)
    assert (await replica.run_once())["flaky"] == {"ok": True}


async def test_run_forever_survives_errors_and_stops_when_told(sqlite_db) -> None:
    calls: list[str] = []

    async def boom(context: JobContext) -> dict[str, object]:
        calls.append("boom")
        raise ValueError("always")

    async def fine(context: JobContext) -> dict[str, object]:
        calls.append("fine")
        return {}

    clock = SystemClock()
    replica = JobRunner(RoutingService(sqlite_db, clock), sqlite_db, None,
                        jobs=[Job("boom", 0.02, boom), Job("fine", 0.02, fine)], holder="A")
    stop = asyncio.Event()
    task = asyncio.create_task(replica.run_forever(stop))
    for _ in range(200):
        if calls.count("boom") >= 3 and calls.count("fine") >= 3:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, timeout=2)
    assert calls.count("boom") >= 3 and calls.count("fine") >= 3


async def test_run_forever_wakes_on_stop(sqlite_db) -> None:
    replica = JobRunner(RoutingService(sqlite_db), sqlite_db, None, jobs=[], holder="A")
    stop = asyncio.Event()
    task = asyncio.create_task(replica.run_forever(stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=1)  # does not wait out MAX_SLEEP_SECONDS


async def test_run_once_cli_runs_every_job(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    result = await run_once_cli(settings)
    assert result == {
        "periods": {"started": []},
        "sla": {"reassigned": 0, "leads": []},
        "pending": {"assigned": 0, "leads": []},
        "calendar": {"feeds": 0, "synced": 0, "failed": 0, "added": 0, "cancelled": 0},
        "digest": {"posted": None, "because": "no manager_channel in the routing config"},
    }
    # Run again at once (cron overlap): it still runs; nothing is held between runs.
    assert "skipped" not in str(await run_once_cli(settings))

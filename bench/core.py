"""Routed leads per second in-process, per queue size and backend, and SQL statements per lead.

Two figures per row: leads routed one at a time (a transaction each) and leads from 16
concurrent callers (group commit shares transactions among them).

"example" as a size routes leads shaped like bench/intake.py's through examples/routing.yaml
(13 members, 5 queues with fallbacks, capacities and a sticky queue, 6 rules). The CPU
columns are this process's CPU per lead, steadier than leads/s on a shared machine. On
SQLite, "KB/lead" is the database file's size (checkpointed) over the leads it holds.
The last lines compare the CPU per lead of the largest team with the smallest: a queue's
ledger is kept in memory between transactions (bot.routing.ledger.cache), so the aim is
a cost flat in team size (at most 1.5x from 10 to 1,000 members).

Run:  .venv/bin/python bench/core.py            (SQLite; PostgreSQL too when its binaries exist)
      .venv/bin/python bench/core.py --leads 500 --sizes 10,100,1000,example
      .venv/bin/python bench/core.py --leads 300 --sizes 10,1000 --strategy least_recent
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import event

from bot.config.routing import load_text
from bot.routing.fairness import STRATEGIES
from bot.routing.service import RoutingService
from bot.store.db import Database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))


def config_for(size: int | str, strategy: str = "fair") -> str:
    """The routing config of a benchmark row: one queue of `size` members picking by
    `strategy`, or the example team's config as it is (its own strategies)."""
    if size == "example":
        return (ROOT / "examples" / "routing.yaml").read_text()
    members = [{"slack_id": f"U{i:05d}", "name": f"Rep {i}"} for i in range(size)]
    seats = [{"slack_id": m["slack_id"], "weight": 1 + i % 5} for i, m in enumerate(members)]
    return yaml.safe_dump(
        {
            "timezone": "UTC",
            "members": members,
            "queues": [{"name": "q", "strategy": strategy, "members": seats}],
            "rules": [{"name": "all", "queue": "q"}],
        }
    )


def lead_for(size: int | str, lead_id: str, n: int) -> dict[str, Any]:
    if size == "example":
        from intake import lead

        return lead(n, "") | {"id": lead_id}
    return {"id": lead_id, "country": "GB"}


async def measure(url: str, size: int | str, leads: int, strategy: str = "fair") -> dict[str, float]:
    db = Database(url)
    await db.migrate()
    service = RoutingService(db)
    await service.admin.apply_config(load_text(config_for(size, strategy)))
    engine = db.sync_engine if db.is_sqlite else db.engine.sync_engine
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    for i in range(20):  # warm up caches and the pool
        await service.assignment.route({"id": f"warm-{i}"})
    event.listen(engine, "before_cursor_execute", count)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(leads):  # one at a time: one transaction per lead
        await service.assignment.route(lead_for(size, f"lead-{i}", i))
    sequential = leads / (time.perf_counter() - start)
    sequential_cpu = (time.process_time() - cpu) / leads
    event.remove(engine, "before_cursor_execute", count)
    per_lead = statements / leads

    async def producer(worker: int) -> None:
        for i in range(worker, leads, 16):
            await service.assignment.route(lead_for(size, f"conc-{i}", leads + i))

    start, cpu = time.perf_counter(), time.process_time()  # 16 callers at once: they share transactions
    await asyncio.gather(*(producer(w) for w in range(16)))
    concurrent = leads / (time.perf_counter() - start)
    concurrent_cpu = (time.process_time() - cpu) / leads
    await db.dispose()
    return {"sequential": sequential, "sequential_cpu": sequential_cpu, "statements": per_lead,
            "concurrent": concurrent, "concurrent_cpu": concurrent_cpu,
            "kb_per_lead": _file_kb(url) / (20 + 2 * leads) if db.is_sqlite else None}


def _file_kb(url: str) -> float:
    path = url.split("///", 1)[1]
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return os.path.getsize(path) / 1024


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=500)
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--strategy", default="fair", choices=sorted(STRATEGIES),
                        help="the sized queues' strategy (the example keeps its own)")
    args = parser.parse_args()
    sizes: list[int | str] = [s if s == "example" else int(s) for s in args.sizes.split(",")]
    backends = [("sqlite", None)]
    server = None
    if not args.no_postgres:
        try:
            import postgres

            server = postgres.get_server()
            backends.append(("postgres", server))
        except Exception as error:
            print(f"(PostgreSQL skipped: {error})")
    print(
        f"{'backend':<10}{'members':>8}{'one-at-a-time leads/s':>23}{'CPU ms/lead':>12}"
        f"{'statements/lead':>17}{'16 concurrent leads/s':>23}{'CPU ms/lead':>12}{'KB/lead':>9}"
    )
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, pg in backends:
            cpu: dict[int, float] = {}
            for size in sizes:
                if pg is None:
                    url = f"sqlite+aiosqlite:///{tmp}/bench-{size}-{args.strategy}.db"
                else:
                    url = pg.create_database(f"bench_{size}_{args.strategy}_{int(time.time())}")
                got = await measure(url, size, args.leads, args.strategy)
                if isinstance(size, int):
                    cpu[size] = got["sequential_cpu"]
                print(
                    f"{name:<10}{size:>8}{got['sequential']:>23.0f}{got['sequential_cpu'] * 1000:>12.2f}"
                    f"{got['statements']:>17.1f}{got['concurrent']:>23.0f}"
                    f"{got['concurrent_cpu'] * 1000:>12.2f}"
                    f"{'' if got['kb_per_lead'] is None else format(got['kb_per_lead'], '.1f'):>9}"
                )
            if len(cpu) > 1:
                small, large = min(cpu), max(cpu)
                ratios.append(f"{name}: CPU per lead one at a time, {large} members against {small}: "
                              f"{cpu[large] / cpu[small]:.2f}x")
    if server is not None:
        postgres.stop_server()
    if ratios:  # the aim (issue 15): at most 1.5x, the cost flat in team size
        print("\n" + "\n".join(ratios))
    print(f"\nreproduce: .venv/bin/python bench/core.py --leads {args.leads} --sizes {args.sizes}"
          f" --strategy {args.strategy}")


if __name__ == "__main__":
    asyncio.run(main())

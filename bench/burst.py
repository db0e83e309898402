"""The burst as a CRM would send it: `wrk` at 16 connections against `rotation serve` and,
in the same run, against the strongest plain handler (bench/intake.py's bare one: aiohttp,
parse the JSON, stdlib sqlite3 in the event loop, one INSERT and COMMIT per request).

    .venv/bin/python bench/burst.py [--seconds 10] [--connections 16] [--threads 2] [--rounds 2]

Why an external load generator: a Python client on the same two cores takes CPU from the
server it measures, and a CRM's sender is not us. `wrk` (the Debian package) is written in
C and its Lua script gives every request a unique lead id, so every one of ours is a new
lead fully routed, explained and put in the outbox (the DM and the channel post are sent by
serve's delivery child to a fake Slack in this process while the load runs).

Each server runs alone, on a fresh SQLite file, `--rounds` times in turn (ours, bare, ours,
bare…) so a noisy neighbour does not favour one side; the best round of each is compared.
Every non-2xx answer is counted: a fast server that refuses is not fast.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intake import (
    TOKEN,
    TimedSlack,
    cpu_split,
    free_port,
    start_bare,
    start_ours,
    stop,
    wait_for_backlog,
    wait_healthy,
)

# A unique lead per request, across wrk's threads; shaped like intake.py's leads. `thread_id`
# is a global on purpose: `thread:set` writes the thread's globals, which a local would shadow.
LUA = r"""
local counter = 0
thread_id = 0
local countries = {"US", "GB", "DE", "FR", "JP", "AU", "CA", "BR", "ZA", "IN"}
local threads = {}
function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  local n = thread_id * 10000000 + counter
  local body = string.format(
    '{"id":"%s-%d","name":"Lead %d","email":"person%d@company%d.com","company":"Company %d",' ..
    '"country":"%s","employees":%d,"source":"web"}',
    "PREFIX", n, n, n, n % 97, n % 97, countries[(n % 10) + 1], (n * 37) % 3000)
  return wrk.format("POST", "/leads",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer TOKEN"}, body)
end
"""


@dataclass(frozen=True)
class Round:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx answers, socket errors and timeouts


def wrk_script(tmp: Path, prefix: str) -> Path:
    script = tmp / f"{prefix}.lua"
    script.write_text(LUA.replace("PREFIX", prefix).replace("TOKEN", TOKEN))
    return script


async def run_wrk(url: str, script: Path, args: argparse.Namespace) -> Round:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
               "--latency", "-s", str(script), f"{url}/leads"]
    process = await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE,
                                                   stderr=subprocess.STDOUT)
    output = (await process.communicate())[0].decode()
    return parse_wrk(output)


def parse_wrk(output: str) -> Round:
    def number(pattern: str) -> float:
        found = re.search(pattern, output)
        if found is None:
            raise SystemExit(f"wrk said something unexpected:\n{output}")
        return float(found.group(1))

    def latency(label: str) -> float:
        found = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if found is None:
            raise SystemExit(f"wrk printed no {label}% latency:\n{output}")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
        return float(found.group(1)) * scale

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(g) for g in socket.groups()) if socket else 0)
    return Round(requests_per_second=number(r"Requests/sec:\s+([\d.]+)"), p50_ms=latency("50"),
                 p99_ms=latency("99"), requests=int(number(r"(\d+) requests in")), errors=errors)


@dataclass(frozen=True)
class Ours:
    result: Round
    drained: float  # seconds from the burst's end to its last message delivered
    serve_ms: float  # serve's CPU per lead during the burst (steadier than leads/s on a shared machine)
    child_ms: float  # its delivery child's CPU per lead, burst and drain


async def ours_round(tmp: Path, slack: TimedSlack, n: int, args: argparse.Namespace) -> Ours:
    folder = tmp / f"ours-{n}"
    folder.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_ours(folder, port, slack.api_url)
    try:
        await wait_healthy(url, server, folder / "serve.log")
        serve_before, child_before = cpu_split(server)
        result = await run_wrk(url, wrk_script(folder, f"R{n}"), args)
        serve_after, _ = cpu_split(server)
        drained = await wait_for_backlog(url)
        _, child_after = cpu_split(server)
    finally:
        stop(server)
    check_all_new(folder / "rotation.db", result)
    per_lead = 1000 / max(result.requests, 1)
    return Ours(result, drained, serve_ms=(serve_after - serve_before) * per_lead,
                child_ms=(child_after - child_before) * per_lead)


def check_all_new(database: Path, result: Round) -> None:
    """Every answered request stored a new lead (a script that repeated ids would measure
    cheap repeats); a request in flight when wrk stopped may be stored without being counted."""
    with closing(sqlite3.connect(database)) as connection:
        stored = connection.execute("SELECT count(*) FROM leads").fetchone()[0]
    if stored < result.requests - result.errors:
        raise SystemExit(f"{result.requests} requests stored only {stored} leads: the script repeats ids")


async def bare_round(tmp: Path, n: int, args: argparse.Namespace) -> Round:
    folder = tmp / f"bare-{n}"
    folder.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_bare(folder, port)
    try:
        await wait_healthy(url, server, folder / "bare.log")
        return await run_wrk(url, wrk_script(folder, f"B{n}"), args)
    finally:
        stop(server)


def line(name: str, result: Round) -> str:
    return (f"  {name:<15}: {result.requests_per_second:7.0f} req/s   p50 {result.p50_ms:6.1f} ms   "
            f"p99 {result.p99_ms:6.1f} ms   {result.requests} requests, {result.errors} errors")


async def main(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    ours: list[Ours] = []
    bare: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="rotation-burst-") as name:
        tmp = Path(name)
        async with TimedSlack("S") as slack:
            for n in range(args.rounds):
                ours.append(await ours_round(tmp, slack, n, args))
                bare.append(await bare_round(tmp, n, args))
    best = max(ours, key=lambda r: r.result.requests_per_second)
    best_ours, drained = best.result, best.drained
    best_bare = max(bare, key=lambda r: r.requests_per_second)
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s POST /leads, a new lead each "
          f"request, SQLite (WAL); best of {args.rounds} rounds each, taken in turn:")
    for n, (mine, plain) in enumerate(zip(ours, bare, strict=True)):
        print(line(f"serve, round {n + 1}", mine.result)
              + f"   CPU/lead: serve {mine.serve_ms:.2f} ms, delivery {mine.child_ms:.2f} ms")
        print(line(f"bare, round {n + 1}", plain))
    print(line("rotation serve", best_ours))
    print(line("bare handler", best_bare))
    print(f"  serve / bare   : {best_ours.requests_per_second / best_bare.requests_per_second:.2f}x   "
          f"(its messages all delivered {drained:.1f} s after the burst ended)")
    print(f"reproduce: .venv/bin/python bench/burst.py --seconds {args.seconds} "
          f"--connections {args.connections} --threads {args.threads} --rounds {args.rounds}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))

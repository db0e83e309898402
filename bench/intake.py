"""Intake benchmark: POST /leads throughput and latency, and intake → DM time (speed to lead).

    .venv/bin/python bench/intake.py [--leads 2000] [--concurrency 16] [--rate 100] [--seconds 10]

Three measurements, each against a server in its own process on a fresh SQLite file, the load
(and the fake Slack) in this process:
1. `python -m bot serve` (the example config, Slack pointed at tests/fake_slack.py, delivering from
   its child process on a multi-core machine): leads/s and p50/p99 latency of POST /leads at the
   given concurrency. "server CPU" counts serve and its delivery child together; the next line
   splits it, and adds this process's own CPU, since on a small machine the burst is bounded
   by all three sharing the cores.
2. The same server at a steady `--rate` leads/s: time from sending a lead to its DM arriving at
   the fake Slack, p50/p99.
3. A bare aiohttp handler that parses the JSON and commits one row to SQLite (WAL) per request,
   the ceiling for "one HTTP request, one durable write" on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from fake_slack import FakeSlack  # noqa: E402

TOKEN = "bench-token"
COUNTRIES = ["US", "GB", "DE", "FR", "JP", "AU", "CA", "BR", "ZA", "IN"]
STATES = ["CA", "NY", "TX", "WA", "IL", None]


def lead(n: int, prefix: str) -> dict[str, Any]:
    return {"id": f"{prefix}-{n}", "name": f"Lead {n}", "email": f"person{n}@company{n % 97}.com",
            "company": f"Company {n % 97}", "country": COUNTRIES[n % len(COUNTRIES)],
            "state": STATES[n % len(STATES)], "employees": (n * 37) % 3000, "source": "web"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- the bare handler ---------------------------------------------------------------------


def serve_bare(port: int, path: str) -> None:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS leads (id TEXT PRIMARY KEY, fields TEXT)")

    async def handle(request: web.Request) -> web.Response:
        fields = json.loads(await request.read())
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT OR IGNORE INTO leads VALUES (?, ?)", (str(fields["id"]), json.dumps(fields)))
        db.execute("COMMIT")
        return web.json_response({"lead_id": fields["id"]}, status=201)

    app = web.Application()
    app.router.add_post("/leads", handle)
    app.router.add_get("/healthz", lambda _r: _ok())
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


async def _ok() -> web.Response:
    return web.json_response({"status": "ok"})


# --- driving servers ----------------------------------------------------------------------


async def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if process.poll() is not None:
                raise SystemExit(f"the server exited:\n{log.read_text()}")
            try:
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit(f"the server did not start:\n{log.read_text()}")


def start_ours(tmp: Path, port: int, slack_api: str) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'rotation.db'}",
        "ROTATION_CONFIG": str(ROOT / "examples" / "routing.yaml"), "ROTATION_INTAKE_TOKEN": TOKEN,
        "HOST": "127.0.0.1", "PORT": str(port), "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "bench", "SLACK_API_URL": slack_api,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    for name in ("SLACK_APP_TOKEN", "ROTATION_WEBHOOK_URL", "ROTATION_WEBHOOK_SECRET"):
        env.pop(name, None)
    with (tmp / "serve.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp, env=env, stdout=log,
                                stderr=subprocess.STDOUT)


def start_bare(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    with (tmp / "bare.log").open("ab") as log:
        return subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port), str(tmp / "bare.db")],
                                stdout=log, stderr=subprocess.STDOUT)


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """User + system CPU the server has used so far, its delivery process included (Linux; NaN elsewhere)."""
    return sum(cpu_split(process))


def cpu_split(process: subprocess.Popen[bytes]) -> tuple[float, float]:
    """(serve's own CPU seconds, its delivery child's)."""
    return _own_cpu_seconds(process.pid), sum(_own_cpu_seconds(pid) for pid in _children(process.pid))


def bench_cpu_seconds() -> float:
    """This process's CPU: the load generator and the fake Slack, which share the machine."""
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _own_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


async def closed_loop(url: str, leads: list[dict[str, Any]], concurrency: int) -> tuple[float, list[float]]:
    """POST every lead, `concurrency` at a time: (leads/s, latencies in seconds)."""
    pending = list(reversed(leads))
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def worker(http: aiohttp.ClientSession) -> None:
        while pending:
            body = json.dumps(pending.pop()).encode()
            started = time.perf_counter()
            async with http.post(f"{url}/leads", data=body, headers=headers) as response:
                await response.read()
                if response.status not in (200, 201):
                    raise SystemExit(f"POST /leads answered {response.status}")
            latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession(connector=connector) as http:
        began = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return len(leads) / elapsed, latencies


async def wait_for_backlog(url: str, timeout: float = 300) -> float:
    """Wait until the outbox is empty (seconds waited), so the latency run starts clean."""
    began = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        while time.perf_counter() - began < timeout:
            async with http.get(f"{url}/metrics") as response:
                text = await response.text()
            if re.search(r"^rotation_outbox_backlog 0\.0$", text, re.M):
                break
            await asyncio.sleep(0.1)
    return time.perf_counter() - began


class TimedSlack(FakeSlack):
    """FakeSlack that notes when each DM naming a lead arrived.

    It never rate-limits: what it measures is the bot's own delivery, not Slack's. Slack
    documents chat.postMessage as about one message per second per channel (short bursts
    allowed) plus a workspace-wide limit, so in a real workspace a burst's channel posts to one
    queue's channel arrive at about that pace, whatever the bot can do.
    """

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.arrived: dict[str, float] = {}
        self.pattern = re.compile(rf"\b{re.escape(prefix)}-\d+\b")

    async def _handle_api(self, request: web.Request) -> web.Response:
        response = await super()._handle_api(request)
        call = self.calls[-1]
        channel = str(call.body.get("channel", ""))
        if call.method == "chat.postMessage" and call.status == 200 and channel.startswith("U"):
            text = call.body.get("text")  # the lead's id is in the words (the blocks, else)
            found = self.pattern.search(text if isinstance(text, str) else "") or self.pattern.search(
                json.dumps(call.body))
            if found:
                self.arrived.setdefault(found.group(0), time.perf_counter())
        return response


async def speed_to_lead(url: str, slack: TimedSlack, prefix: str, rate: float, seconds: float,
                        ) -> tuple[list[float], list[float]]:
    """Send `rate` leads/s for `seconds`: the intake → DM time of each, and the POST latencies."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    sent: dict[str, float] = {}
    latencies: list[float] = []
    count = int(rate * seconds)
    async with aiohttp.ClientSession() as http:
        async def one(n: int, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            body = lead(n, prefix)
            sent[body["id"]] = time.perf_counter()
            async with http.post(f"{url}/leads", json=body, headers=headers) as response:
                await response.read()
                if response.status not in (200, 201):
                    raise SystemExit(f"POST /leads answered {response.status}")
            latencies.append(time.perf_counter() - sent[body["id"]])

        began = time.perf_counter()
        await asyncio.gather(*(one(n, began + n / rate) for n in range(count)))
    deadline = time.perf_counter() + 30
    while len(slack.arrived) < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    missing = count - len(slack.arrived)
    if missing:
        print(f"  warning: {missing} DM(s) not seen (unassigned leads, or still owed)")
    return [slack.arrived[i] - t for i, t in sent.items() if i in slack.arrived], latencies


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="rotation-bench-") as name:
        tmp = Path(name)
        async with TimedSlack("S") as slack:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            ours = start_ours(tmp, port, slack.api_url)
            try:
                await wait_healthy(url, ours, tmp / "serve.log")
                await closed_loop(url, [lead(n, "W") for n in range(100)], args.concurrency)  # warm up
                await wait_for_backlog(url)
                cpu, split, own = cpu_seconds(ours), cpu_split(ours), bench_cpu_seconds()
                ours_rate, ours_lat = await closed_loop(url, [lead(n, "B") for n in range(args.leads)],
                                                        args.concurrency)
                burst_cpu = cpu_seconds(ours) - cpu
                burst_split = [after - before for after, before in zip(cpu_split(ours), split, strict=True)]
                burst_own = bench_cpu_seconds() - own
                drained = await wait_for_backlog(url)  # the burst's messages go out first
                drain_cpu = cpu_seconds(ours) - cpu - burst_cpu
                cpu = cpu_seconds(ours)
                dm_times, steady_lat = await speed_to_lead(url, slack, "S", args.rate, args.seconds)
                steady_cpu = cpu_seconds(ours) - cpu
            finally:
                stop(ours)
        port = free_port()
        bare = start_bare(tmp, port)
        try:
            bare_url = f"http://127.0.0.1:{port}"
            await wait_healthy(bare_url, bare, tmp / "bare.log")
            await closed_loop(bare_url, [lead(n, "W") for n in range(100)], args.concurrency)
            cpu = cpu_seconds(bare)
            bare_rate, bare_lat = await closed_loop(bare_url, [lead(n, "B") for n in range(args.leads)],
                                                    args.concurrency)
            bare_cpu = cpu_seconds(bare) - cpu
        finally:
            stop(bare)

    ms = 1000
    print(f"POST /leads, {args.leads} leads at concurrency {args.concurrency}, SQLite (WAL), "
          f"{os.cpu_count()} CPUs; each server in its own process, load and fake Slack in this one:")
    print(f"  rotation serve : {ours_rate:7.0f} leads/s   p50 {percentile(ours_lat, .5) * ms:6.1f} ms   "
          f"p99 {percentile(ours_lat, .99) * ms:6.1f} ms   "
          f"server CPU {burst_cpu / args.leads * ms:.2f} ms/lead")
    print(f"  burst CPU per lead: serve {burst_split[0] / args.leads * ms:.2f} ms, its delivery child "
          f"{burst_split[1] / args.leads * ms:.2f} ms, this process (load + fake Slack) "
          f"{burst_own / args.leads * ms:.2f} ms, on {os.cpu_count()} CPUs")
    print(f"  bare handler   : {bare_rate:7.0f} req/s     p50 {percentile(bare_lat, .5) * ms:6.1f} ms   "
          f"p99 {percentile(bare_lat, .99) * ms:6.1f} ms   "
          f"server CPU {bare_cpu / args.leads * ms:.2f} ms/req")
    print(f"  ours / bare    : {ours_rate / bare_rate:7.0%}")
    print(f"  the burst's {2 * args.leads} messages (DM + channel post per lead) were all delivered "
          f"{drained:.1f} s after its last answer (server CPU {drain_cpu:.1f} s meanwhile)")
    if dm_times:
        print(f"intake -> DM at the fake Slack, {args.rate:.0f} leads/s for {args.seconds:.0f} s "
              f"({len(dm_times)} DMs): p50 {statistics.median(dm_times) * ms:.1f} ms   "
              f"p99 {percentile(dm_times, .99) * ms:.1f} ms")
        print(f"  POST /leads meanwhile: p50 {percentile(steady_lat, .5) * ms:.1f} ms   "
              f"p99 {percentile(steady_lat, .99) * ms:.1f} ms   server CPU "
              f"{steady_cpu / (args.rate * args.seconds) * ms:.2f} ms/lead (intake and delivery)")
    print(f"reproduce: .venv/bin/python bench/intake.py --leads {args.leads} "
          f"--concurrency {args.concurrency} --rate {args.rate:.0f} --seconds {args.seconds:.0f}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--serve-bare", nargs=2, metavar=("PORT", "DB"), help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    if arguments.serve_bare:
        serve_bare(int(arguments.serve_bare[0]), arguments.serve_bare[1])
    else:
        asyncio.run(main(arguments))

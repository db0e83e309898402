"""Lead sources benchmark: what a sender waits for, in process, on a fresh SQLite file.

    .venv/bin/python bench/sources.py [--requests 200] [--notifications 100]

1. Typeform: `--requests` signed form_response webhooks one after another (each a new lead):
   p50/p99 time to the 201.
2. Salesforce: one Outbound Message of `--notifications` notifications (the most Salesforce
   sends in one): time to the <Ack>, i.e. until every lead in it is committed; then the same
   message again (every lead known: the repeat Salesforce sends when an Ack was lost).
Bounded loops against 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "sources"))
from sources_support import SOURCES, _served, fixture  # noqa: E402

SECRET = "tf-secret"


class Env:
    """The sources' secrets in this process's environment (what the fixture's monkeypatch does)."""

    def setenv(self, name: str, value: str) -> None:
        os.environ[name] = value


def typeform_body(number: int) -> bytes:
    data = json.loads(fixture("typeform.json"))
    data["form_response"]["token"] = f"bench-{number}"
    return json.dumps(data).encode()


def salesforce_body(count: int) -> bytes:
    text = fixture("salesforce.xml").decode()
    head, rest = text.split("<Notification>", 1)
    notification = "<Notification>" + rest.split("</Notification>", 1)[0] + "</Notification>"
    tail = text.rsplit("</Notification>", 1)[1]
    many = "".join(notification.replace("00Q000000000001AAA", f"00Q{n:012d}AAA").replace(
        "04l000000000001AAA", f"04l{n:012d}AAA") for n in range(count))
    return (head + many + tail).encode()


async def main(requests: int, notifications: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        async for app in _served(url, Env()):  # type: ignore[arg-type]
            assert any(s["name"] == "salesforce" for s in SOURCES)
            took = []
            for number in range(requests):
                body = typeform_body(number)
                signature = "sha256=" + base64.b64encode(
                    hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
                started = time.perf_counter()
                status, _, _ = await app.post("typeform", body, {"Typeform-Signature": signature})
                took.append(time.perf_counter() - started)
                assert status == 201, status
            took.sort()
            p50, p99 = statistics.median(took) * 1000, took[int(len(took) * 0.99) - 1] * 1000
            print(f"typeform: {requests} webhooks one after another: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            body = salesforce_body(notifications)
            for label in ("new", "repeated"):
                started = time.perf_counter()
                status, _, answer = await app.post("salesforce", body, content_type="text/xml")
                elapsed = time.perf_counter() - started
                assert status == 200 and b"<Ack>true</Ack>" in answer
                print(f"salesforce: one message of {notifications} notifications ({label}): Ack after "
                      f"{elapsed * 1000:.0f} ms ({len(body) // 1024} KiB)")
            break
    print(f"reproduce: .venv/bin/python bench/sources.py --requests {requests} "
          f"--notifications {notifications}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--notifications", type=int, default=100)
    arguments = parser.parse_args()
    asyncio.run(main(min(arguments.requests, 5000), min(arguments.notifications, 1000)))

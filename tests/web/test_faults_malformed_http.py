"""Attacks with malformed HTTP on the server `rotation serve` runs: each gets aiohttp's 400
and at most one log line, bounded and escaped, with no traceback; a client's text in any
log line cannot forge a line of its own."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from web_support import AUTH, CONFIG, TOKEN, free_port

from bot.config.settings import Settings
from bot.web.server import serve

MALFORMED = {
    "garbage request line": b"GARBAGE\r\n\r\n",
    "a second garbage request": b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nNOT HTTP AT ALL\r\n\r\n",
    "bytes that are not HTTP (a TLS hello)": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
                                             + bytes(range(256)),
    "a control byte in a header name": b"GET / HTTP/1.1\r\nHo\x01st: x\r\n\r\n",
    "a bare newline forging a log line": b"GET / HTTP/1.1\r\nX: a\n2026-01-01 ERROR forged: line\r\n\r\n",
    "an unknown HTTP version": b"GET / HTTP/9.9\r\nHost: t\r\n\r\n",
    "a header line of 100 KB": b"GET / HTTP/1.1\r\nX-Big: " + b"A" * 100_000 + b"\r\n\r\n",
    "a request line of 100 KB": b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n",
    "500 headers": b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % n for n in range(500)) + b"\r\n",
    "a NUL in the Authorization header": b"GET /leads/x HTTP/1.1\r\nAuthorization: Bearer \x00x\r\n\r\n",
    "a raw 0xff byte in the path": b"GET /leads/\xff HTTP/1.1\r\nHost: t\r\n\r\n",
    "a NUL in the request line": b"GET /\x00\x1b[31m HTTP/1.1\r\nHost: t\r\n\r\n",
    "an invalid Content-Length": b"POST /leads HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n",
    "two Content-Lengths": b"POST /leads HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
    "a chunk size that is not hex": (b"POST /leads HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                                     b"Authorization: Bearer " + TOKEN.encode()
                                     + b"\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n"),
}
MAX_LOG_LINE = 500  # characters: the quoted part is cut at 200


@dataclasses.dataclass
class Running:
    port: int
    url: str


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """`bot.web.server.serve` in this process (so caplog sees every log record)."""
    config = tmp_path / "routing.yaml"
    config.write_text(CONFIG)
    port = free_port()
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'rotation.db'}",
                        routing_config=str(config), intake_token=TOKEN, host="127.0.0.1", port=port,
                        delivery="inline")
    stop, started = asyncio.Event(), asyncio.Event()
    serving = asyncio.create_task(serve(settings, stop=stop, started=started))
    await asyncio.wait_for(started.wait(), 30)
    yield Running(port, f"http://127.0.0.1:{port}")
    stop.set()
    assert await asyncio.wait_for(serving, 30) == 0


async def exchange(port: int, raw: bytes) -> bytes:
    """Send `raw`, then read what the server answers until it closes (or 5 s pass)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        answer = b""
        while chunk := await asyncio.wait_for(reader.read(65536), 5):
            answer += chunk
    except (ConnectionError, TimeoutError):
        pass
    finally:
        writer.close()
    return answer


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_http_gets_a_400_and_one_short_line(
        running: Running, raw: bytes, caplog: pytest.LogCaptureFixture) -> None:
    """Attack: requests aiohttp cannot parse, made to fill or forge the log."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="bot.web.refusals")  # aiohttp logs some at debug
    answer = await exchange(running.port, raw)
    assert re.search(rb"^HTTP/1\.[01] 400 Bad Request\r\n", answer, re.MULTILINE), answer[:200]
    assert b"HTTP/1.1 500" not in answer
    await asyncio.sleep(0.1)  # the log line is written as the connection closes
    traced = [r for r in caplog.records if r.exc_info or r.exc_text]
    assert not traced, [r.getMessage() for r in traced]
    refusals = [r for r in caplog.records if r.name.startswith(("aiohttp", "bot.web"))
                and r.levelno >= logging.INFO]
    assert len(refusals) <= 1, [r.getMessage() for r in refusals]
    for record in caplog.records:
        line = record.getMessage()
        assert "\n" not in line and "\r" not in line and "\x00" not in line and "\x1b" not in line, line
        assert len(line) <= MAX_LOG_LINE, len(line)
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/healthz") as response:
        assert response.status == 200  # and the server goes on serving


async def test_a_newline_in_the_path_cannot_forge_a_log_line(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Attack: a path with an encoded newline and a fake log line, sent when the error is
    logged (the database is away), and escapes that would each take four characters."""
    from web_support import start_app

    from bot.routing.service import RoutingService
    from bot.store.db import Database
    from bot.web.app import create_app

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'rotation.db'}")
    runner, url = await start_app(create_app(RoutingService(db), Settings(intake_token=TOKEN)))
    forged = "/leads/x%0D%0A2026-01-01 00:00:00 ERROR bot: forged" + "%1B" * 150
    try:
        async with aiohttp.ClientSession() as http, http.get(url + forged, headers=AUTH) as response:
            assert response.status == 503
            assert response.headers["Retry-After"].isdigit()
            assert "database" in (await response.json())["error"]
    finally:
        await runner.cleanup()
        await db.dispose()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot")]
    assert any("forged" in line for line in lines)  # it was logged, and so:
    for line in lines:
        assert "\n" not in line and "\r" not in line and "\x1b" not in line, line
        assert len(line) <= 2 * MAX_LOG_LINE, len(line)  # the path (200) and the database's words (500)

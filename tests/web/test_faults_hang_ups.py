"""Attacks by clients that hang up mid-request: not a server error in the log (no
traceback, nothing at ERROR) nor in the metrics (no 5xx counted), and nothing stored."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct

import pytest
from aiohttp import web
from web_support import TOKEN, Served, ServeFactory

HEAD = (f"POST /leads HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Type: application/json\r\n").encode()
HALF_A_LEAD = b'{"id": "GONE-1", "na'


async def send_and_hang_up(app: Served, raw: bytes, *, reset: bool = False) -> None:
    """Send `raw` on a fresh connection, then close it (with a TCP reset if `reset`)."""
    port = int(app.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(raw)
    await asyncio.sleep(0.2)  # the server has the head and is reading the body
    if reset:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


async def until_logged(caplog: pytest.LogCaptureFixture, words: str) -> None:
    for _ in range(100):
        if any(words in record.getMessage() for record in caplog.records):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never logged {words!r}: {[r.getMessage() for r in caplog.records]}")


async def assert_no_server_error(app: Served, caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], \
        [r.getMessage() for r in caplog.records]
    async with app.http.get(f"{app.url}/metrics") as response:
        metrics = await response.text()
    assert 'rotation_intake_requests_total{code="5' not in metrics
    assert 'rotation_intake_requests_total{code="4' not in metrics  # nobody was answered at all
    assert (await app.counts()) == {"leads": 0, "assignments": 0, "outbox": 0}
    status, _ = await app.post_lead({"id": "AFTER-1"})  # and the next client is served
    assert status == 201


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
async def test_a_hang_up_mid_body_is_no_server_error(
        serve: ServeFactory, caplog: pytest.LogCaptureFixture, reset: bool) -> None:
    """Attack: announce a 1000-byte body, send 20 bytes, hang up (FIN or RST)."""
    caplog.set_level(logging.INFO)
    app = await serve()
    await send_and_hang_up(app, HEAD + b"Content-Length: 1000\r\n\r\n" + HALF_A_LEAD, reset=reset)
    await until_logged(caplog, "closed the connection before")
    await assert_no_server_error(app, caplog)


async def test_a_hang_up_mid_chunked_body_is_no_server_error(
        serve: ServeFactory, caplog: pytest.LogCaptureFixture) -> None:
    """Attack: a chunked body cut off inside a chunk."""
    caplog.set_level(logging.INFO)
    app = await serve()
    await send_and_hang_up(app, HEAD + b"Transfer-Encoding: chunked\r\n\r\n40\r\n" + HALF_A_LEAD)
    await until_logged(caplog, "closed the connection before")
    await assert_no_server_error(app, caplog)


class BodyReader:
    """A stand-in for the Slack runtime that reads the whole body, as Bolt does."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.bodies.append(await request.read())
        return web.json_response({"ok": True})


async def test_a_hang_up_while_any_handler_reads_is_no_server_error(
        serve: ServeFactory, caplog: pytest.LogCaptureFixture) -> None:
    """Attack: the same hang-up on /slack/events, whose handler is not ours to guard:
    the error middleware tells a hang-up from a failure for every route."""
    caplog.set_level(logging.INFO)
    slack = BodyReader()
    app = await serve(slack=slack)
    await send_and_hang_up(app, b"POST /slack/events HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\n\r\n"
                                b"payload=")
    await until_logged(caplog, "closed the connection before")
    assert slack.bodies == []
    await assert_no_server_error(app, caplog)

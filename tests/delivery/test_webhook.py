"""The outbound webhook: every assignment POSTed as signed JSON, retried on 5xx/429/3xx."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from delivery_support import outbox_rows, prepared_service

from bot.delivery.loop import DeliveryLoop
from bot.delivery.transports import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ConsoleTransport,
    Message,
    WebhookTransport,
    sign,
)
from bot.routing.clock import ManualClock

SECRET = "webhook-secret"


class Receiver:
    """A CRM automation stand-in: records requests, answers the queued statuses, then 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.body = b"ok"
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        return web.Response(status=status, headers=headers, body=None if status == 204 else self.body)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.close()


async def test_each_assignment_is_posted_signed_and_retried(sqlite_url: str, receiver: Receiver) -> None:
    start = datetime.now(UTC)
    service = await prepared_service(sqlite_url, webhook=True)
    clock = ManualClock(start)
    service.clock = clock
    webhook = WebhookTransport(receiver.url, SECRET)
    loop = DeliveryLoop(service.db, {"dm": ConsoleTransport(), "channel": ConsoleTransport(),
                                     "webhook": webhook}, clock=clock)
    try:
        outcome = await service.assignment.route({"id": "L-1", "name": "Ada", "employees": 40, "plan": None})
        receiver.answers.append((503, {"Retry-After": "60"}))
        await loop.run_once()
        [webhook_row] = [r for r in await outbox_rows(service.db) if r.kind == "webhook"]
        assert webhook_row.sent_at is None and "503" in webhook_row.last_error
        assert webhook_row.available_at >= start + timedelta(seconds=60)
        clock.advance(seconds=61)
        await loop.run_once()
    finally:
        await webhook.close()
        await service.db.dispose()
    assert len(receiver.requests) == 2
    headers, body = receiver.requests[-1]
    assert headers["Content-Type"] == "application/json"
    expected = hmac.new(SECRET.encode(), headers[TIMESTAMP_HEADER].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == f"sha256={expected}"
    assert headers[DELIVERY_HEADER] == f"assignment:{outcome.assignment_id}:webhook"
    event = json.loads(body)
    assert event["event"] == "lead_assigned" and event["lead"]["id"] == "L-1"
    assert event["assignee"] == {"slack_id": outcome.assignee.slack_id, "name": outcome.assignee.name}
    assert event["fields"] == {"id": "L-1", "name": "Ada", "employees": 40, "plan": None}
    assert event["delivery_id"] == headers[DELIVERY_HEADER]


@pytest.mark.parametrize(("status", "permanent"), [
    (500, False), (502, False), (503, False), (429, False), (408, False), (425, False),  # try again
    (301, False), (302, False), (303, False), (307, False), (308, False), (304, False),  # redirects
    (404, True), (401, True), (403, True), (400, True), (410, True), (422, True),  # never better
])
async def test_which_answers_are_worth_retrying(receiver: Receiver, status: int, permanent: bool) -> None:
    from bot.delivery.transports import DeliveryError

    receiver.answers.append((status, {"Location": "https://elsewhere.example/x?t=1"}))
    receiver.body = b"answer-body-secret"
    webhook = WebhookTransport(receiver.url, None)
    try:
        with pytest.raises(DeliveryError) as raised:
            await webhook.send(Message(1, "k", "webhook", {"event": "x"}, None, 1))
    finally:
        await webhook.close()
    assert raised.value.permanent is permanent
    assert str(raised.value).startswith(f"The webhook answered {status}")
    assert "answer-body-secret" not in str(raised.value)  # the answer's body is never quoted
    if 300 <= status < 400:
        assert "a redirect to elsewhere.example" in str(raised.value) and "t=1" not in str(raised.value)
    assert len(receiver.requests) == 1  # one POST, nothing followed
    assert SIGNATURE_HEADER not in receiver.requests[0][0]  # no secret, no signature


@pytest.mark.parametrize("status", [200, 201, 202, 204])
async def test_any_2xx_is_a_delivery(receiver: Receiver, status: int) -> None:
    receiver.answers.append((status, {}))
    webhook = WebhookTransport(receiver.url, SECRET)
    try:
        assert await webhook.send(Message(1, "k", "webhook", {"event": "x"}, None, 1)) == {"status": status}
    finally:
        await webhook.close()
    assert len(receiver.requests) == 1


async def test_a_huge_answer_is_not_read_whole(receiver: Receiver) -> None:
    """A receiver that answers 200 with 8 MiB: the event counts as delivered, the body is dropped
    after MAX_ANSWER_BYTES (the connection closed, not the memory filled)."""
    from bot.delivery.transports import MAX_ANSWER_BYTES

    receiver.body = b"x" * (8 * 1024 * 1024)
    webhook = WebhookTransport(receiver.url, SECRET)
    try:
        assert await webhook.send(Message(1, "k", "webhook", {}, None, 1)) == {"status": 200}
        assert await webhook.send(Message(2, "k2", "webhook", {}, None, 1)) == {"status": 200}
    finally:
        await webhook.close()
    assert len(receiver.requests) == 2 and len(receiver.body) > MAX_ANSWER_BYTES


async def test_an_unreachable_webhook_is_retried() -> None:
    from bot.delivery.transports import DeliveryError

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    webhook = WebhookTransport(f"http://127.0.0.1:{port}/hook", SECRET, timeout=2)
    try:
        with pytest.raises(DeliveryError) as raised:
            await webhook.send(Message(1, "k", "webhook", {}, None, 1))
    finally:
        await webhook.close()
    assert not raised.value.permanent


def test_the_signature_covers_timestamp_and_body() -> None:
    a = sign("s", "1700000000", b'{"a":1}')
    assert a.startswith("sha256=") and len(a) == 7 + 64
    assert a != sign("s", "1700000001", b'{"a":1}') != sign("s", "1700000000", b'{"a":2}')

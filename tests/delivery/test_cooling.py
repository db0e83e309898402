"""A destination that said "come back in N seconds" is sent nothing more until then.

Why: Slack's chat.postMessage allows about a message a second per channel. A burst's posts to
one queue's channel got a 429 each, and each 429 spent one of the message's attempts (a burst
big enough gave its announcements up) while its send held a slot of the lane the DMs share.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from delivery_support import START, outbox_rows, service_at_start

from bot.delivery.loop import DeliveryLoop, destination
from bot.delivery.transports import DeliveryError, Message
from bot.routing.service import RoutingService

WAIT = 30  # seconds: the channel's Retry-After


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[RoutingService]:
    async with service_at_start(database_url) as service:
        yield service


class BusyChannel:
    """Slack, with the queue's channel answering 429 (Retry-After 30 s) to its first post."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.refused: list[str] = []

    async def send(self, message: Message) -> dict[str, Any]:
        if message.kind == "channel" and not self.refused:
            self.refused.append(message.key)
            raise DeliveryError("Slack answered 429 ratelimited", retry_after=WAIT)
        self.sent.append(message.key)
        return {"ok": True}


async def settled(service: RoutingService, done: Any) -> list[Any]:
    for _ in range(500):
        rows = await outbox_rows(service.db)
        if done(rows):
            return rows
        await asyncio.sleep(0.01)
    raise AssertionError(f"the outbox did not settle: {rows!r}")


async def test_a_channel_that_asked_to_wait_gets_nothing_until_then_and_the_dms_go_on(
        service: RoutingService) -> None:
    for n in range(4):  # four DMs and four posts to the one queue's channel, all due
        await service.assignment.route({"id": f"L-{n}"})
    transport = BusyChannel()
    stop = asyncio.Event()
    loop = DeliveryLoop(service.db, {"dm": transport, "channel": transport}, clock=service.clock,
                        poll_interval=0.05, concurrency=1)
    task = asyncio.create_task(loop.run(stop))
    try:
        rows = await settled(service, lambda rows: all(
            r.sent_at if r.kind == "dm" else r.last_error or (r.attempts == 0 and r.available_at > START)
            for r in rows))  # every DM sent, every post refused or put back
        until = START + timedelta(seconds=WAIT)
        posts = [r for r in rows if r.kind == "channel"]
        assert all(r.sent_at is not None for r in rows if r.kind == "dm")  # the DMs did not wait
        assert [r.key for r in posts if r.last_error] == transport.refused  # one post was refused
        assert all(r.sent_at is None for r in posts) and not [k for k in transport.sent if "channel" in k]
        refused = next(r for r in posts if r.last_error)
        assert refused.attempts == 1 and refused.available_at >= until  # retried after its Retry-After
        others = [r for r in posts if not r.last_error]
        assert len(others) == 3 and all(r.attempts == 0 and r.available_at == until for r in others)

        service.clock.advance(seconds=WAIT + 300)  # type: ignore[attr-defined]  # past any backoff
        loop.wake.set()
        rows = await settled(service, lambda rows: all(r.sent_at for r in rows))
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert sorted(transport.sent) == sorted(r.key for r in rows)  # each once
    assert sorted(r.attempts for r in rows if r.kind == "channel") == [1, 1, 1, 2]  # one 429 spent one


def test_a_destination_is_the_slack_channel_or_dm_or_the_lanes_one_endpoint() -> None:
    def message(kind: str, **payload: str) -> Message:
        return Message(1, "k", kind, payload, None, 1)

    assert destination(message("dm", to="U1")) == destination(message("channel", channel="U1"))
    assert destination(message("channel", channel="C1")) != destination(message("channel", channel="C2"))
    assert destination(message("webhook", to="ignored")) == destination(message("webhook")) == "webhook"
    assert destination(message("crm")) == "crm"

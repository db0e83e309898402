"""A backlog bigger than a round's batch drains round after round, without waiting for a poll.

Why: a burst's messages that the loop could not take in hand are due in the outbox (written
due, or released). A round whose lane was crowded leaves that lane's kinds out of its claim;
claiming fewer than its room then says nothing about what is due, and the loop must not wait a
whole poll interval (a second in serve, 64 messages a second) before it looks again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from delivery_support import (
    START,
    count_rounds,
    outbox_rows,
    prepared_service,
    service_at_start,
    until_all_sent,
)

from bot.delivery.loop import DeliveryLoop
from bot.delivery.transports import Message
from bot.routing.clock import ManualClock
from bot.routing.service import RoutingService


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[RoutingService]:
    async with service_at_start(database_url) as service:
        yield service


class Recording:
    """Records each send (its key), the most sends in progress at once, and yields once per send."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.in_progress = 0
        self.most = 0

    async def send(self, message: Message) -> dict[str, Any]:
        self.in_progress += 1
        self.most = max(self.most, self.in_progress)
        try:
            await asyncio.sleep(0.001)
            self.sent.append(message.key)
            return {"ok": True}
        finally:
            self.in_progress -= 1


async def test_a_backlog_of_due_messages_drains_without_waiting_for_the_poll(service: RoutingService) -> None:
    for n in range(40):  # 80 messages written due: no hand-over here
        await service.assignment.route({"id": f"L-{n}"})
    transport = Recording()
    stop = asyncio.Event()
    loop = DeliveryLoop(service.db, {"dm": transport, "channel": transport}, clock=service.clock,
                        poll_interval=3600, batch_size=16, concurrency=4)
    rounds = count_rounds(loop)
    task = asyncio.create_task(loop.run(stop))
    try:
        rows = await until_all_sent(service.db, 80)  # the poll (an hour) never comes
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert sorted(transport.sent) == sorted(r.key for r in rows)  # each once
    assert all(r.attempts == 1 for r in rows)  # claimed once each, never released and claimed again
    assert transport.most == 4  # the lane's bound held throughout
    assert len(rounds) < 80  # outcomes still ride together, not a transaction per message


@pytest.fixture
async def webhook_service(database_url: str) -> Any:
    service = await prepared_service(database_url, webhook=True)
    service.clock = ManualClock(START)
    yield service
    await service.db.dispose()


async def test_a_hung_lane_does_not_keep_the_other_lanes_waiting(webhook_service: RoutingService) -> None:
    """The webhook hangs: its slots fill and as many of its messages wait, so rounds leave its
    kind out. Slack's messages due behind them in the outbox are still claimed and sent, each
    round after the last, without waiting for a poll."""
    service = webhook_service
    for n in range(20):  # a DM, a channel post and a webhook post each: 60 messages, all due
        await service.assignment.route({"id": f"L-{n}"})
    hung = asyncio.Event()

    class Hanging:
        async def send(self, message: Message) -> dict[str, Any]:
            await hung.wait()
            return {"ok": True}

    slack = Recording()
    stop = asyncio.Event()
    loop = DeliveryLoop(service.db, {"dm": slack, "channel": slack, "webhook": Hanging()},
                        clock=service.clock, poll_interval=3600, batch_size=12,
                        concurrency={"slack": 4, "webhook": 4})
    task = asyncio.create_task(loop.run(stop))
    try:
        for _ in range(1000):
            if len(slack.sent) == 40:
                break
            await asyncio.sleep(0.01)
        owed_to_slack = [r.key for r in await outbox_rows(service.db) if r.kind != "webhook"]
        assert sorted(slack.sent) == sorted(owed_to_slack)
        hung.set()  # the webhook answers again: its messages follow
        rows = await until_all_sent(service.db, 60)
    finally:
        hung.set()
        stop.set()
        await asyncio.wait_for(task, 5)
    assert all(r.attempts == 1 for r in rows)

"""The delivery loop in a process of its own, started and stopped by `rotation serve`.

Why a process: rendering Block Kit and calling Slack cost as much CPU as routing a lead,
and in one process every DM queued behind intake and intake behind every DM (one core
busy, the other idle). Split, each side gets a core.

The two processes share the database (the outbox is the truth) and two pipes:
- this process's stdin, from serve: a line per order (`bot.delivery.handover`): "new
  messages are owed, look now", or a new lead's message handed over already claimed;
  end of file means serve is stopping or gone: send what is in hand, record it, exit 0.
- this process's stdout, to serve: `ready` once, then one line per attempt,
  `sent|failed|gave_up <kind>` (a sent one with its delivery lag in seconds), which serve
  adds to its /metrics.
Logs go to stderr, which serve shares with us. Serve starts us in a session of our own and
we ignore SIGINT/SIGTERM, so a stop always goes through serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import sys
from typing import TYPE_CHECKING, TextIO

from bot.config.settings import Settings
from bot.crm.transport import CrmTransport
from bot.delivery.handover import MAX_LINE_BYTES, read_order
from bot.delivery.loop import DeliveryLoop
from bot.delivery.transports import close_transports, default_transports
from bot.routing.events import Way
from bot.routing.service import RoutingService
from bot.stop_signals import on_stop_signals
from bot.store.db import Database

if TYPE_CHECKING:  # imported when used: a child without Slack tokens never loads Bolt
    from bot.slack.runtime import SlackRuntime

log = logging.getLogger("bot.delivery")

SETTINGS_VARIABLE = "ROTATION_DELIVERY_SETTINGS"  # serve's Settings, as JSON
READY = "ready"
REPORTS = ("sent", "failed", "gave_up")
NICENESS = 5
# With a core of its own, the loop can start rounds sooner than when it shared serve's core.
MIN_INTERVAL = 0.005


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment serve starts this process with: its own, plus its exact settings."""
    return os.environ | {SETTINGS_VARIABLE: json.dumps(dataclasses.asdict(settings))}


def settings_from_environment() -> Settings:
    return Settings(**json.loads(os.environ[SETTINGS_VARIABLE]))


class PipeCounts:
    """DeliveryCounts that tell serve, one line each; a serve that is gone is not told."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def say(self, line: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # serve gone: the end of stdin stops us
            self.out.write(line + "\n")
            self.out.flush()

    def sent(self, kind: str, lag: float | None = None) -> None:
        self.say(f"sent {kind}" if lag is None else f"sent {kind} {lag:.6f}")

    def failed(self, kind: str) -> None:
        self.say(f"failed {kind}")

    def gave_up(self, kind: str) -> None:
        self.say(f"gave_up {kind}")


async def deliver_for_serve(settings: Settings) -> int:
    """Run the delivery loop until serve closes our stdin; the exit code."""
    loop = asyncio.get_running_loop()
    on_stop_signals(lambda: None)  # ignored: serve says when to stop, by closing our stdin
    stop, wake = asyncio.Event(), asyncio.Event()
    orders = asyncio.StreamReader(limit=MAX_LINE_BYTES)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(orders), sys.stdin)

    db = Database(settings.database_url)
    service = RoutingService(db, webhook=bool(settings.webhook_url))
    slack = _slack_deliverer(settings, service)
    transports = default_transports(slack, settings.webhook_url, settings.webhook_secret)
    transports[Way.CRM] = CrmTransport(settings, db)
    counts = PipeCounts(sys.stdout)
    delivery = DeliveryLoop(db, transports, service=service, metrics=counts, wake=wake,
                            max_attempts=settings.outbox_max_attempts, min_interval=MIN_INTERVAL)
    listening = asyncio.create_task(_listen(orders, delivery, stop))
    try:
        counts.say(READY)
        await delivery.run(stop)
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
        if slack is not None:
            await slack.close()
        await close_transports(transports)
        await db.dispose()
    return 0


async def _listen(orders: asyncio.StreamReader, delivery: DeliveryLoop, stop: asyncio.Event) -> None:
    try:
        while line := await orders.readline():
            try:
                message = read_order(line)
            except (ValueError, KeyError, TypeError):  # a garbled order: look at the outbox instead
                log.exception("could not read an order from serve: %.200r", line)
                message = None
            if message is None:
                delivery.wake.set()
            else:
                delivery.take([message])
    finally:  # end of file, or a broken pipe: serve is stopping or gone
        stop.set()


def _slack_deliverer(settings: Settings, service: RoutingService) -> SlackRuntime | None:
    if not settings.slack_bot_token:
        return None
    from bot.slack.runtime import SlackRuntime

    return SlackRuntime.from_settings(settings, service)


def main() -> int:
    """Entry point of `rotation deliver --for-serve`."""
    with contextlib.suppress(OSError, AttributeError):
        # When both want the CPU (a burst), answering the CRM comes first and DMs wait a
        # moment; when intake is idle, niceness costs delivery nothing. Mild on purpose: the
        # child also holds the SQLite write lock for a millisecond at a time, and a much
        # lower priority could leave intake waiting behind a descheduled holder.
        os.nice(NICENESS)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(deliver_for_serve(settings_from_environment()))
    except Exception:
        log.exception("the delivery process failed")
        return 1

"""`rotation serve`'s side of the delivery process (bot.delivery.child): start, wake, count, stop.

The child is started before serve opens its port and must say `ready` first, so a child
that cannot start (a broken install, an unreadable database) stops serve in plain words
instead of leaving messages owed with nobody sending them. If it exits while serve runs,
`run` raises and serve shuts down: a supervisor restarts the whole, and the outbox keeps
every message owed meanwhile. However serve ends, the child is asked to finish first
(end of its stdin) and killed only if it does not within FINISH_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from bot.config.settings import Settings
from bot.delivery.child import READY, REPORTS, settings_environment
from bot.delivery.handover import WAKE, take_line
from bot.routing.outbox import Message
from bot.web.metrics import Metrics

log = logging.getLogger("bot.delivery")

READY_TIMEOUT = 60.0  # seconds the child may take to import and connect
FINISH_TIMEOUT = 25.0  # seconds it gets to send and record what it holds (serve waits 30)
# Bytes of orders serve lets wait for the child (beyond the OS pipe's own buffer) before it
# stops handing messages over. A child that is alive but not reading (stopped, or its loop
# stuck) must not make serve's memory grow with every lead: new leads' messages are then
# written due at once and claimed by the child's rounds when it reads again.
HIGH_WATER = 1024 * 1024


class DeliveryProcessFailed(RuntimeError):
    """The child did not start, or ended while serve was running."""


class DeliveryProcess:
    """One delivery child per serve: `start`, then `take` per new lead (while `taking`) and `wake`
    per other write, `run` until stop, `close`."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._child: asyncio.subprocess.Process | None = None
        self._reading: asyncio.Task[None] | None = None
        self._behind = False  # last seen by `taking`, to log the change once

    async def start(self) -> None:
        """Start the child and wait for its `ready`; DeliveryProcessFailed if it never says it.

        The child gets a session of its own, so a Ctrl-C in the terminal reaches serve only,
        and serve alone decides when the child stops (by closing its stdin).
        """
        self._child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "deliver", "--for-serve",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env=settings_environment(self.settings), start_new_session=True)
        try:
            first = await asyncio.wait_for(self._line(), READY_TIMEOUT)
        except TimeoutError:
            first = None
        except asyncio.CancelledError:  # serve was stopped while the child started
            await self._kill()
            raise
        if first != READY:
            await self._kill()
            raise DeliveryProcessFailed("the delivery process did not start (its errors are in the log)")
        self._reading = asyncio.create_task(self._count_reports())
        log.info("delivering from process %d", self._child.pid)

    def wake(self) -> None:
        """Tell the child new messages are owed (after a write); nothing if it is gone.

        Not if orders are still waiting for it: reading any order ends in a round that claims
        what is due, so one more wake would only add to what waits.
        """
        if self._waiting_bytes() == 0:
            self._order(WAKE)

    def taking(self) -> bool:
        """Whether to hand the child new leads' messages: it reads its orders (fewer than
        HIGH_WATER bytes wait for it)."""
        behind = self._waiting_bytes() >= HIGH_WATER
        if behind != self._behind:
            self._behind = behind
            if behind:
                log.warning("the delivery process is not reading its orders; new leads' messages "
                            "wait in the outbox for it")
            else:
                log.info("the delivery process reads its orders again")
        return not behind

    def take(self, owed: list[Message]) -> None:
        """Hand the child new leads' messages, written claimed for it (see `bot.routing.outbox`).

        If it is gone, they wait for their lease to run out, and the next child claims them.
        """
        self._order(b"".join(take_line(message) for message in owed))

    def _waiting_bytes(self) -> int:
        """Orders written but not yet taken by the OS pipe (the child is not reading)."""
        child = self._child
        if child is None or child.stdin is None or child.stdin.is_closing():
            return 0
        return child.stdin.transport.get_write_buffer_size()

    def _order(self, line: bytes) -> None:
        child = self._child
        if child is not None and child.stdin is not None and not child.stdin.is_closing():
            child.stdin.write(line)

    async def run(self, stop: asyncio.Event) -> None:
        """Count the child's reports until `stop`, then let it finish; raises if it ends first."""
        assert self._child is not None and self._reading is not None, "start() first"
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait([self._reading, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not stop.is_set():
            await self._kill()  # its reports stopped: it died, or it says things we cannot read
            raise DeliveryProcessFailed(f"the delivery process ended (exit code {self._child.returncode})")
        await self.close()

    async def close(self) -> None:
        """Let the child send and record what it holds (end of its stdin), then wait; kill it if it
        takes longer than FINISH_TIMEOUT. Safe to call twice, and before `run`."""
        child = self._child
        if child is None or child.returncode is not None:
            return
        if child.stdin is not None and not child.stdin.is_closing():
            child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), FINISH_TIMEOUT)
        except TimeoutError:
            log.error("the delivery process did not finish in %.0f s; killing it", FINISH_TIMEOUT)
            await self._kill()
        if child.returncode:
            log.error("the delivery process exited with code %d", child.returncode)
        if self._reading is not None:
            with contextlib.suppress(Exception):
                await self._reading  # the last reports, up to the end of its stdout

    async def _count_reports(self) -> None:
        while (line := await self._line()) is not None:
            report, _, rest = line.partition(" ")
            kind, _, lag = rest.partition(" ")
            if report == "sent" and kind:
                self.metrics.sent(kind, _seconds(lag))
            elif report in REPORTS and kind:
                getattr(self.metrics, report)(kind)

    async def _line(self) -> str | None:
        assert self._child is not None and self._child.stdout is not None
        raw = await self._child.stdout.readline()
        return raw.decode(errors="replace").strip() if raw else None

    async def _kill(self) -> None:
        child = self._child
        if child is None or child.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()


def _seconds(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:  # no lag given (or garbled): count the message all the same
        return None

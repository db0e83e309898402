"""The delivery loop: wake when messages are owed (or every second), claim due ones, send, record.

While running, the loop is a pipeline: each round is one transaction that records the
outcomes finished since the last round and claims what is due (up to the free room of
`batch_size` messages in hand); sends run concurrently and do not wait for each other.

A send is recorded promptly, because a crash repeats every message sent but not yet recorded:
a send holds one of its lane's slots from its start until its outcome is committed, so at any
moment at most the sum of the lanes' bounds (`CONCURRENCY`: 16 for Slack, 4 for the webhook)
are being sent or sent-and-unrecorded, and a SIGKILL repeats at most that many (the messages in
flight), however fast Slack answers. Each transport is a lane of its own (DMs and channel posts
share Slack's), so a webhook or CRM that hangs fills only its own slots: a rep's DM never waits
behind it. A round does not claim the kinds of a lane whose slots are all taken and as many
again wait, so its messages do not crowd the others out of the batch either; such a claim
says nothing about that lane's own due messages, so the first round after the lane has room
claims again (a backlog drains batch after batch, not one batch per poll interval). A
finished send wakes the next round, which starts at most `min_interval` after the last one:
a burst costs a transaction per few milliseconds (every outcome finished meanwhile rides in
it), not one per message.

A failed attempt is retried with exponential backoff and full jitter (never sooner than a
Retry-After); after `max_attempts` (or an error that retrying cannot fix) the message is given
up on, counted, and the managers' channel gets a note when one is configured. A destination
that said when to come back (Slack's 429 for one channel or DM, whose limit is about a message
a second per channel; the webhook; the CRM) is sent nothing more until then: its messages that
come up meanwhile are released until that moment, not sent, their attempt not counted and no
slot held, so a burst to one busy channel neither spends its messages' attempts on answers
known in advance nor keeps the DMs waiting behind it. The 429 itself is not a failed attempt
either (a burst is not a failure, see `bot.delivery.retry_after`): the message waits its turn,
its attempt not counted. What bounds that waiting is age: a message still unsent
`MAX_UNSENT_AGE` after it was owed, met by such a wait, is given up on like one whose attempts
ran out (counted, the managers told). No outcome can
stop the loop: an unexpected error while turning a send into an outcome counts as a failed
attempt, and an outcome the database refuses on its own is recorded with a plain error instead,
so a message is never lost nor claimed round after round; `attempts` never passes the limit.

Messages handed over already claimed (`take`, see `bot.routing.outbox`) start at once,
with no round of their own; their outcomes ride with the next round like any other.

A claim is a lease: past it, another loop may send the message. So a message still waiting
for a free slot when less than `lease_margin` of its lease is left is released (due again,
the attempt not counted) instead of sent, and the ids this loop is sending stay "held" until
their outcome is recorded, so its own rounds never claim and send them a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

from bot.delivery.claims import GaveUp, Limited, Outcome, Released, Retry, Sent, claim, exchange, record
from bot.delivery.retry_after import MAX_RETRY_AFTER, MAX_UNSENT_AGE, bounded_delay
from bot.delivery.transports import DeliveryError, Transport, one_line
from bot.routing.clock import Clock, SystemClock
from bot.routing.events import Way, address_of
from bot.routing.outbox import Message
from bot.routing.service import RoutingService
from bot.store.db import Database
from bot.web.metrics import Metrics

log = logging.getLogger("bot.delivery")

BASE_DELAY = 2.0  # seconds before the first retry (then 4, 8, ... up to MAX_DELAY)
MAX_DELAY = 300.0
# Sends at once per lane (a lane per transport): Slack's rate limits allow many DMs at once; a
# webhook or CRM is one endpoint of someone else's, which a few at a time serve as fast.
CONCURRENCY: Mapping[str, int] = {"slack": 16, "webhook": 4}
OTHER_CONCURRENCY = 4  # a lane not named in CONCURRENCY (a CRM)
LANES = {Way.DM.value: "slack", Way.CHANNEL.value: "slack"}  # kinds sharing a transport share its lane
MAX_ERROR_CHARS = 1000  # of a failed attempt's error, as stored and logged
MAX_COOLING = 10_000  # destinations remembered as asking us to wait (the expired go first)
# Seconds a rate-limited message waits at least: "come back in 0 s" answered again and again
# would otherwise be tried as fast as the loop goes, for the hour a message may wait uncounted.
MIN_RATE_LIMIT_WAIT = 1.0
KEPT_RESULT_KEYS = ("ok", "channel", "ts", "status", "console", "message_ts", "crm_owner_id", "skipped")


class DeliveryCounts(Protocol):
    """Where the loop reports each attempt: the metrics, or the pipe to `rotation serve`."""

    def sent(self, kind: str, lag: float | None = None) -> None: ...
    def failed(self, kind: str) -> None: ...
    def gave_up(self, kind: str) -> None: ...


def backoff(attempts: int, retry_after: float | None = None, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after `attempts` failed tries: full jitter on an exponential cap."""
    cap = min(MAX_DELAY, BASE_DELAY * 2 ** min(max(0, attempts - 1), 64))
    delay = (rng or random).uniform(cap / 2, cap)
    return min(MAX_RETRY_AFTER, max(delay, bounded_delay(retry_after) or 0.0))


def lane_of(kind: str) -> str:
    return LANES.get(kind, kind)


def destination(message: Message) -> str:
    """Where a message goes, as its rate limit counts: a Slack channel or DM (Slack limits each),
    or the one endpoint of any other lane (the webhook, the CRM)."""
    lane = lane_of(message.kind)
    to = address_of(message.payload) if lane == "slack" else None
    return f"{lane}:{to}" if to else lane


def plain_error(text: object) -> str:
    """A failed attempt's error as stored and logged: one line, bounded, no NUL."""
    try:
        text = str(text)
    except Exception:  # a str() that raises must not lose the attempt
        text = "an error that could not be described"
    return one_line(text[:MAX_ERROR_CHARS])


class DeliveryLoop:
    def __init__(self, db: Database, transports: Mapping[str, Transport], *,
                 service: RoutingService | None = None, metrics: DeliveryCounts | None = None,
                 max_attempts: int = 8, wake: asyncio.Event | None = None, clock: Clock | None = None,
                 poll_interval: float = 1.0, batch_size: int = 64, lease: float = 30.0,
                 concurrency: int | Mapping[str, int] = CONCURRENCY, min_interval: float = 0.02,
                 max_handed: int = 128,
                 lease_margin: float = 5.0) -> None:
        self.db = db
        self.service = service  # for the managers' channel, when a message is given up on
        self.transports = dict(transports)
        self.metrics: DeliveryCounts = metrics or Metrics()
        self.max_attempts = max(1, max_attempts)
        self.wake = wake or asyncio.Event()
        self.clock = clock or SystemClock()
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease)
        self.min_interval = min_interval
        self.max_handed = max_handed
        self.lease_margin = timedelta(seconds=lease_margin)
        self.concurrency = concurrency  # an int: that bound for every lane
        self._limits: dict[str, asyncio.Semaphore] = {}  # per lane: a slot per send, free once recorded
        self._slotted: dict[int, str] = {}  # ids whose outcome holds a slot until recorded: their lane
        self._waiting: Counter[str] = Counter()  # per lane: sends waiting for a slot
        self._waiting_claimed: Counter[str] = Counter()  # those of them claimed by a round
        self._skip_kinds: list[str] = []  # kinds of the crowded lanes, not claimed this round
        self._giving_back = False  # at shutdown, the database refused a record: send no more
        self._in_flight: set[asyncio.Task[None]] = set()
        self._handed: set[asyncio.Task[None]] = set()  # the in-flight sends that were handed over
        self._holding: set[int] = set()  # ids sent or being sent whose outcome is not yet recorded
        self._finished: list[Outcome] = []  # outcomes for the next round to record
        self._may_be_due = True  # whether the next round should claim (False: it only records)
        self._unlooked: set[str] = set()  # lanes left out of the last short claim: due, maybe
        self._settled = asyncio.Event()  # a send finished: its outcome is waiting to be recorded
        self._cooling: dict[str, datetime] = {}  # destination: when it said we may send again
        self._stopped = False

    def take(self, messages: list[Message]) -> None:
        """Send messages handed over already claimed, at once (no claim round for them).

        Beyond `max_handed` in hand the rest are released, due again now, for the rounds to
        claim in turn, so memory stays bounded. (One that arrives with its lease nearly out is
        released when its turn comes, like any other; see `_deliver`.) After `run` has ended
        they are left alone: their lease runs out and a loop claims them.
        """
        if self._stopped:
            return
        for message in messages:
            if len(self._handed) < self.max_handed:
                self._start(message, handed=True)
            else:
                self._finished.append(Released(message))
                self._may_be_due = True  # due again now: the next round claims it
                self._settled.set()

    def bound(self, lane: str) -> int:
        """How many sends of `lane` at once (being sent or sent and not yet recorded)."""
        if isinstance(self.concurrency, int):
            return max(1, self.concurrency)
        return max(1, self.concurrency.get(lane, OTHER_CONCURRENCY))

    def _slots(self, lane: str) -> asyncio.Semaphore:
        if lane not in self._limits:
            self._limits[lane] = asyncio.Semaphore(self.bound(lane))
        return self._limits[lane]

    def _crowded(self) -> list[str]:
        """Lanes whose slots are all taken with as many again waiting: not claimed for now."""
        return [lane for lane, waiting in self._waiting.items() if waiting >= self.bound(lane)]

    def _skipped_kinds(self, lanes: list[str]) -> list[str]:
        return [kind for lane in lanes for kind in ([k for k, v in LANES.items() if v == lane] or [lane])]

    def _start(self, message: Message, *, handed: bool = False) -> None:
        if message.id in self._holding:
            return  # its lease ran out while we still send it; the outcome is on its way
        self._holding.add(message.id)
        task = asyncio.get_running_loop().create_task(self._send(message, handed=handed))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        if handed:
            self._handed.add(task)
            task.add_done_callback(self._handed.discard)

    async def _send(self, message: Message, *, handed: bool = False) -> None:
        try:
            outcome = await self._deliver(message, hold_slot=True, claimed=not handed)
        except Exception as exc:  # never: `_attempt` turns everything into an outcome
            outcome = self._unexpected(message, exc)
        except BaseException:  # cancelled: the lease runs out and a loop claims it again
            self._holding.discard(message.id)
            raise
        if isinstance(outcome, Released) and outcome.until is None:
            self._may_be_due = True  # due again now: the next round claims it
        self._finished.append(outcome)  # the list of the round to come (looked up after the send)
        self._settled.set()

    def _lease_nearly_out(self, message: Message) -> bool:
        until = message.lease_until
        return until is not None and until - self.clock.now() < self.lease_margin

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; the messages in hand are sent and recorded first."""
        loop = asyncio.get_running_loop()
        looked_at = loop.time()
        while not stop.is_set():
            began = loop.time()
            self.wake.clear()
            self._settled.clear()
            if began - looked_at >= self.poll_interval:
                self._may_be_due = True  # retries and run-out leases come due with time
            # A round that only records (sends finished, nothing known to be due) claims nothing.
            crowded = self._crowded()  # their waiting sends do not take the others' room
            if self._unlooked - set(crowded):  # left out of the last claim, with room again now
                self._may_be_due = True
            room = (self.batch_size - (len(self._in_flight) - len(self._handed))
                    + sum(self._waiting_claimed[lane] for lane in crowded)) if self._may_be_due else 0
            if room > 0:
                looked_at = began
            self._skip_kinds = self._skipped_kinds(crowded)
            claimed = await self._round(room, stop)
            if claimed is None:  # the database failed: look again next round
                claimed, self._may_be_due = [], True
            elif room > 0:  # fewer than asked for: nothing more is due but of the lanes left
                # out (crowded), which may have messages waiting: claimed once they have room
                self._may_be_due = len(claimed) >= room
                self._unlooked = set() if self._may_be_due else set(crowded)
            for message in claimed:
                self._start(message)
            if not (claimed and len(claimed) >= room):  # else more are probably due
                await _first(self.wake, self._settled, stop, timeout=self.poll_interval)
                if self.wake.is_set() or not self._settled.is_set():  # told to, or a poll is due
                    self._may_be_due = True
            pause = began + self.min_interval - loop.time()
            if pause > 0 and not stop.is_set() and not self._lane_awaits_record():
                await asyncio.sleep(pause)  # let a burst's wakes and outcomes gather (unless every
                # slot waits for its record: then nothing more can finish before the round)
        self._stopped = True
        await self._finish()

    def _lane_awaits_record(self) -> bool:
        """Whether some lane has every slot waiting for its record (nothing more of it can
        finish before the next round)."""
        taken = Counter(self._slotted.values())
        return any(count >= self.bound(lane) for lane, count in taken.items())

    async def _round(self, room: int, stop: asyncio.Event) -> list[Message] | None:
        """Record what finished and claim up to `room`; None on a database error, keeping the
        outcomes for the next round (their slots stay taken: nothing more is sent that cannot be
        recorded)."""
        done, self._finished = self._finished, []
        try:
            claimed = await self._exchange(done, room)
        except Exception:
            log.exception("the delivery loop failed; trying again shortly")
            kept = await self._record_apart(done)
            self._finished[:0] = kept  # recorded next round (unless the lease ran out: sent again)
            await _first(stop, timeout=self.poll_interval)
            return None
        self._recorded(done)
        return claimed

    async def _record_apart(self, outcomes: list[Outcome]) -> list[Outcome]:
        """After a round failed: record each outcome alone, so that one the database refuses
        (a value it cannot store) neither holds up the rest nor comes back round after round.
        One refused alone is recorded plainly instead (`_plainly`); if even that is refused, the
        database itself is away: the rest are returned, kept for the next round."""
        for n, outcome in enumerate(outcomes):
            try:
                await self._exchange([outcome], 0)
            except Exception:
                try:
                    plain = _plainly(outcome)
                    if plain is not None:
                        await self._exchange([plain], 0)
                except Exception:
                    return outcomes[n:]
                log.error("recording outbox message %s failed; recorded it plainly instead",
                          outcome.message.key)
            self._recorded([outcome])
        return []

    def _recorded(self, outcomes: list[Outcome]) -> None:
        """Outcomes committed (or abandoned): their ids are no longer ours, their slots are free."""
        for outcome in outcomes:
            self._holding.discard(outcome.message.id)
            lane = self._slotted.pop(outcome.message.id, None)
            if lane is not None:
                self._slots(lane).release()

    async def _finish(self) -> None:
        """After stop: send what is in hand, recording outcomes as they come (which frees the
        slots the rest wait for). If the database refuses the record, sends not yet begun are
        given back instead (their leases run out and a loop claims them): sending what cannot
        be recorded would only make more doubles."""
        while self._in_flight or self._finished:
            if not self._finished:
                self._settled.clear()
                await _first(self._settled, timeout=self.poll_interval)
                continue
            done, self._finished = self._finished, []
            try:
                await self._exchange(done, 0)
            except Exception:  # their leases run out and they are sent again: at least once
                if not self._giving_back:
                    log.exception("recording %d delivered message(s) failed at shutdown; those not yet "
                                  "sent are left for the next start", len(done))
                self._giving_back = True
            self._recorded(done)

    async def _exchange(self, outcomes: list[Outcome], room: int) -> list[Message]:
        """One round: record `outcomes` and claim up to `room` due messages (none of the kinds
        of a crowded lane), in one transaction."""
        channel = None
        if self.service is not None and any(isinstance(o, GaveUp) for o in outcomes):
            channel = (await self.service.admin.team()).settings.get("manager_channel")
        return await exchange(self.db, outcomes, self.clock.now(), lease=self.lease, limit=room,
                              manager_channel=channel, skip_kinds=self._skip_kinds)

    async def run_once(self) -> int:
        """Claim one batch of due messages, deliver it, then record it; the number handled.

        For tests and one-off passes: a crash mid-batch repeats up to `batch_size` sends. `run`,
        which serve uses, records each send promptly (see the module's docstring)."""
        messages = await claim(self.db, self.clock.now(), lease=self.lease, limit=self.batch_size)
        if not messages:
            return 0
        outcomes = await asyncio.gather(*(self._deliver(m) for m in messages))
        channel = None
        if self.service is not None and any(isinstance(o, GaveUp) for o in outcomes):
            channel = (await self.service.admin.team()).settings.get("manager_channel")
        await record(self.db, list(outcomes), self.clock.now(), manager_channel=channel)
        return len(messages)

    async def drain(self, *, rounds: int = 100) -> None:
        """Deliver until nothing is due, batch after batch (tests)."""
        for _ in range(rounds):
            if not await self.run_once():
                return

    async def _deliver(self, message: Message, *, hold_slot: bool = False, claimed: bool = False) -> Outcome:
        """Send `message` in one of its lane's slots. With `hold_slot` (the running loop), an
        attempted send keeps its slot until `_recorded` frees it; else it is freed at once."""
        lane = lane_of(message.kind)
        slots = self._slots(lane)
        self._waiting[lane] += 1
        self._waiting_claimed[lane] += claimed
        try:
            await slots.acquire()
        finally:
            self._waiting[lane] -= 1
            self._waiting_claimed[lane] -= claimed
        try:
            outcome = await self._attempt(message)
        except BaseException:
            slots.release()
            raise
        if hold_slot and not isinstance(outcome, Released):
            self._slotted[message.id] = lane
        else:
            slots.release()
        return outcome

    async def _attempt(self, message: Message) -> Outcome:
        """Send `message`; what happened, as an outcome (this never raises but on cancel)."""
        try:
            return await self._try(message)
        except Exception as exc:
            return self._unexpected(message, exc)

    async def _try(self, message: Message) -> Outcome:
        if self._giving_back or self._lease_nearly_out(message):  # not ours to send now
            return Released(message)
        if message.attempts > self.max_attempts:  # claimed again after an outcome was lost
            self.metrics.gave_up(message.kind)
            error = f"not sent again: its {self.max_attempts} attempt(s) were used up"
            log.error("giving up on %s: %s", message.key, error)
            return GaveUp(message, error, tried=False)
        if (until := self._cooling_until(message)) is not None:  # it asked us to wait
            waited = self._too_old(message, "its destination kept asking us to wait")
            return waited or Released(message, until)
        transport = self.transports.get(message.kind)
        try:
            if transport is None:
                raise DeliveryError(f"No transport for {message.kind!r} messages.", permanent=True)
            result = await transport.send(message)
        except DeliveryError as exc:
            if exc.rate_limited and exc.retry_after is not None:
                return self._limited(message, str(exc), exc.retry_after)
            return self._failed(message, str(exc), exc.retry_after, exc.permanent)
        except Exception as exc:  # a bug in a transport must not stop the loop
            log.exception("sending outbox message %s failed", message.key)
            return self._failed(message, f"{type(exc).__name__}: {exc}", None, False)
        try:
            lag = (None if message.created_at is None
                   else (self.clock.now() - message.created_at).total_seconds())
            self.metrics.sent(message.kind, lag)
            return Sent(message, _jsonable(result))
        except Exception:  # it was delivered: counting it failed would send it twice
            log.error("outbox message %s was sent, but its answer could not be kept", message.key)
            return Sent(message, {"ok": True})

    def _cooling_until(self, message: Message) -> datetime | None:
        """When the message's destination said we may send to it again, if not yet."""
        key = destination(message)
        until = self._cooling.get(key)
        if until is not None and until <= self.clock.now():
            del self._cooling[key]
            return None
        return until

    def _cool(self, message: Message, seconds: float) -> datetime:
        """Send nothing more to the message's destination for `seconds` (its Retry-After);
        return until when (a later one already set stands)."""
        now = self.clock.now()
        if len(self._cooling) >= MAX_COOLING:
            self._cooling = {k: t for k, t in self._cooling.items() if t > now}
            if len(self._cooling) >= MAX_COOLING:
                self._cooling.clear()
        key = destination(message)
        until = now + timedelta(seconds=seconds)
        self._cooling[key] = until = max(until, self._cooling.get(key, until))
        return until

    def _limited(self, message: Message, error: str, retry_after: float) -> Outcome:
        """A rate limit that said when to come back: not a failed attempt. Its destination is
        sent nothing more until then, and the message is due again at that moment, its attempt
        not counted; given up on only once it is too old (`_too_old`)."""
        error = plain_error(error)
        until = self._cool(message, max(MIN_RATE_LIMIT_WAIT, retry_after))
        log.debug("%s rate-limited, due again at %s: %s", message.key, until.isoformat(), error)
        return self._too_old(message, error) or Limited(message, error, until)

    def _too_old(self, message: Message, why: str) -> GaveUp | None:
        """Given up on, untried (this claim not counted), when the message has waited on rate
        limits past `MAX_UNSENT_AGE` since it was owed; None while it may wait on."""
        owed = message.created_at
        if owed is None or (self.clock.now() - owed).total_seconds() < MAX_UNSENT_AGE:
            return None
        error = plain_error(f"still not sent {MAX_UNSENT_AGE / 60:g} minutes after it was owed: {why}")
        self.metrics.gave_up(message.kind)
        log.error("giving up on %s: %s", message.key, error)
        return GaveUp(message, error, tried=False)

    def _unexpected(self, message: Message, exc: Exception) -> Outcome:
        """An error of ours while turning a send into an outcome: a failed attempt, never a
        crash (a crash would leave the message held and claimed again and again, untried)."""
        error = plain_error(f"an unexpected error: {type(exc).__name__}")
        try:
            log.error("outbox message %s: %s", message.key, error)
            self.metrics.failed(message.kind)
        except Exception:
            pass
        if message.attempts >= self.max_attempts:
            with contextlib.suppress(Exception):
                self.metrics.gave_up(message.kind)
            return GaveUp(message, error, tried=message.attempts <= self.max_attempts)
        return Retry(message, error, self.clock.now() + timedelta(seconds=MAX_DELAY))

    def _failed(self, message: Message, error: str, retry_after: float | None, permanent: bool) -> Outcome:
        error = plain_error(error)
        self.metrics.failed(message.kind)
        if retry_after and not permanent:  # the other side said when: nothing more to it till then
            self._cool(message, retry_after)
        if permanent or message.attempts >= self.max_attempts:
            self.metrics.gave_up(message.kind)
            log.error("giving up on %s after %d attempt(s): %s", message.key, message.attempts, error)
            return GaveUp(message, error)
        delay = backoff(message.attempts, retry_after)
        log.warning("%s failed (attempt %d of %d), retrying in %.1fs: %s", message.key, message.attempts,
                    self.max_attempts, delay, error)
        return Retry(message, error, self.clock.now() + timedelta(seconds=delay))


async def _first(*events: asyncio.Event, timeout: float) -> None:
    """Return when any event is set or after `timeout` seconds."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        for waiter in waiters:
            with contextlib.suppress(asyncio.CancelledError):
                await waiter


def _jsonable(result: object) -> dict[str, object]:
    """Slack's answer, trimmed to what is worth keeping (JSON scalars; text one line, bounded:
    the answer comes from outside, and PostgreSQL refuses a NUL in JSON)."""
    if not isinstance(result, dict):
        return {"result": plain_error(result)[:200]}
    keep: dict[str, object] = {}
    for key in KEPT_RESULT_KEYS:
        value = result.get(key)
        if isinstance(value, str):
            keep[key] = one_line(value[:200])
        elif isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
            keep[key] = value
    return keep or {"ok": True}


def _plainly(outcome: Outcome) -> Outcome | None:
    """The same outcome with nothing in it from outside, for one the database refused; None for
    a release (the lease runs out instead)."""
    error = "its error could not be recorded"
    if isinstance(outcome, Sent):
        return Sent(outcome.message, {"ok": True})
    if isinstance(outcome, Retry):
        return Retry(outcome.message, error, outcome.at)
    if isinstance(outcome, GaveUp):
        return GaveUp(outcome.message, error, tried=outcome.tried)
    if isinstance(outcome, Limited):
        return Limited(outcome.message, error, outcome.at)
    return None

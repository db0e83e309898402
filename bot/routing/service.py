"""The core's one door: every front end (CLI, webhook, Slack, jobs) calls these methods.

Each method is one transaction, records who did it, and returns plain data from
`bot.routing.results`. Errors meant for a person are `RoutingError`s in plain words.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.config.schema import RoutingConfig
from bot.routing.admin import calibration, roster
from bot.routing.admin.preview import preview
from bot.routing.assignment import offers
from bot.routing.assignment.batch import Batch
from bot.routing.assignment.group_commit import GroupCommit, Pending
from bot.routing.assignment.lead_lookup import ASSIGNMENT_WITH_NAMES, stored_explanation, stored_outcome
from bot.routing.assignment.locks import lock_all_queues
from bot.routing.assignment.router import Router
from bot.routing.availability import calendar_leaves, slack_status, time_off
from bot.routing.clock import Clock, SystemClock
from bot.routing.errors import AlreadyDone, CapacityTaken, NotFound
from bot.routing.ledger import standings
from bot.routing.outbox import Message
from bot.routing.results import (
    AssignmentChange,
    Calibration,
    LeadRecord,
    LeaveView,
    MemberStatus,
    PreviewPick,
    QueueStandings,
    ReportRow,
    RouteOutcome,
)
from bot.routing.rules.lead_fields import lead_id_of
from bot.routing.team import TeamSettings, load_team
from bot.store.db import Database, DatabaseUnavailable
from bot.store.models import Assignment, Lead, Queue, table_of

T = TypeVar("T")


ATTEMPTS = 6  # a transaction aborted by a race is run again, up to this many times in all
BACKOFF_SECONDS = 0.005  # before the second attempt; doubled each time, with jitter (~0.3 s in all)
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
LOCK_TIMEOUT = "5s"  # the longest a write waits for one lock (PostgreSQL's lock_timeout)
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout passed
GROUP_COMMIT_WORKERS = 4  # PostgreSQL: routing transactions in flight at once per replica

log = logging.getLogger(__name__)


class Contended(DatabaseUnavailable):
    """A transaction lost its race every time it ran: nothing was written, and the same
    request will very likely go through in a moment (HTTP answers 503 with Retry-After)."""


def _race(error: Exception) -> str:
    return "capacity taken" if isinstance(error, CapacityTaken) else str(getattr(error, "orig", error))


def is_retryable(error: Exception) -> bool:
    """A race another transaction won; nothing was written, so running again is safe."""
    return isinstance(error, CapacityTaken) or _sqlstate(error) in RETRYABLE_SQLSTATES


def _sqlstate(error: Exception) -> str | None:
    if not isinstance(error, DBAPIError):
        return None
    return getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)


def _with_lock_timeout(work: Callable[[Connection], T]) -> Callable[[Connection], T]:
    """PostgreSQL waits for a row lock forever by default; a lead must not."""

    def bounded(connection: Connection) -> T:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        return work(connection)

    return bounded


class RoutingService:
    def __init__(self, db: Database, clock: Clock | None = None, *, webhook: bool = False) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.router = Router(webhook=webhook)
        self._group_commit = GroupCommit(
            self._route_batch, self._route_one, workers=GROUP_COMMIT_WORKERS if db.is_postgres else 1,
            fails_together=(DatabaseUnavailable,))
        # Called after every committed write: it may have owed messages (a new lead, a Pass,
        # an SLA re-offer, a pause), so serve points it at the delivery loop's wake. New leads
        # skip it when their messages are handed over instead (see hand_over_to).
        self.on_commit: Callable[[], None] | None = None
        # New leads' messages go straight to serve's delivery loop instead (see hand_over_to).
        self._take: Callable[[list[Message]], None] | None = None
        self._taking: Callable[[], bool] = lambda: True
        self._handover_lease = timedelta(0)

    def hand_over_to(self, take: Callable[[list[Message]], None], *, lease: timedelta,
                     taking: Callable[[], bool] = lambda: True) -> None:
        """Give the messages new leads owe to `take` as soon as they are committed.

        They are written claimed for `lease` (see `bot.routing.outbox`), so the delivery loop
        sends them without a claim transaction; a lead is the hot path, and at a steady
        trickle that claim was a second write transaction per lead. While `taking()` is
        false (the taker has fallen behind), new leads' messages are written due at once
        instead, and `on_commit` tells the loop to claim them in its own time.
        """
        self._take, self._taking, self._handover_lease = take, taking, lease

    async def _run(self, work: Callable[[Connection], T], *, commit: bool = True, notify: bool = True) -> T:
        """Run `work` in one transaction, again if a race aborted it (see `is_retryable`).

        Writers lock in one order (`bot.routing.assignment.locks`), so a deadlock is rare (a config
        applied mid-flight); two queues sharing a capped member can both fill their last slot.
        A lock held past LOCK_TIMEOUT (a stuck transaction elsewhere) is not waited for again.
        `notify=False` leaves `on_commit` out (the caller hands its messages over itself).
        """
        if commit and self.db.is_postgres:
            work = _with_lock_timeout(work)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                result = await self.db.run(work, commit=commit)
            except Exception as error:
                if _sqlstate(error) == LOCK_NOT_AVAILABLE:
                    raise Contended(f"a lock was held for over {LOCK_TIMEOUT}: {error}") from error
                if not is_retryable(error):
                    raise
                if attempt == ATTEMPTS:
                    raise Contended(f"lost a race {ATTEMPTS} times in a row: {error}") from error
                log.info("a transaction raced another (%s); running it again (attempt %d of %d)",
                         _race(error), attempt + 1, ATTEMPTS)
                await asyncio.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1) * (0.5 + random.random()))
                continue
            if commit and notify and self.on_commit is not None:
                self.on_commit()
            return result
        raise AssertionError("unreachable")

    def _team(self, connection: Connection) -> TeamSettings:
        return load_team(connection)

    # --- leads ---------------------------------------------------------------

    async def route(
        self, fields: dict[str, Any], *, actor: str = "api", dry_run: bool = False
    ) -> RouteOutcome:
        """Route one lead; a repeated id returns the stored decision (created=False).

        Concurrent calls are committed together (see `group_commit`); a dry run never is.
        """
        lead_id = lead_id_of(fields)
        stored = dict(fields)
        if dry_run:
            now = self.clock.now()
            return await self._run(lambda c: self.router.route(c, lead_id, stored, now, actor), commit=False)
        return await self._group_commit.route(lead_id, stored, actor)

    async def _route_one(self, pending: Pending) -> RouteOutcome:
        try:
            return (await self._route_new([(pending.lead_id, pending.fields, pending.actor)]))[0]
        except IntegrityError:
            # Another replica stored the same id between our check and our insert.
            found = await self._run(lambda c: stored_outcome(c, pending.lead_id))
            if found is None:
                raise
            return found

    async def _route_batch(self, batch: list[Pending]) -> list[RouteOutcome]:
        return await self._route_new([(p.lead_id, p.fields, p.actor) for p in batch])

    async def _route_new(self, leads: list[tuple[str, dict[str, Any], str]]) -> list[RouteOutcome]:
        """Route leads in one transaction; their messages are handed over once it commits."""
        now = self.clock.now()
        take = self._take if self._take is not None and self._taking() else None

        def work(connection: Connection) -> tuple[list[RouteOutcome], list[Message]]:
            # The lease starts when the transaction has its locks (each attempt), not when
            # the leads arrived: a wait for the write lock must not eat into it.
            lease_until = None if take is None else self.clock.now() + self._handover_lease
            return self._decide_all(connection, leads, now, lease_until)

        outcomes, owed = await self._run(work, notify=take is None)
        if take is not None and owed:
            take(owed)
        return outcomes

    def _decide_all(
        self,
        connection: Connection,
        leads: list[tuple[str, dict[str, Any], str]],
        now: datetime,
        lease_until: datetime | None = None,
    ) -> tuple[list[RouteOutcome], list[Message]]:
        shared = Batch(connection, now, lease_until)
        shared.prefetch([(lead_id, fields) for lead_id, fields, _ in leads])
        decided = [
            self.router.decide(connection, lead_id, fields, now, actor, shared)
            for lead_id, fields, actor in leads
        ]
        owed = self.router.finish(shared)
        return [d if isinstance(d, RouteOutcome) else d.outcome() for d in decided], owed

    async def route_many(
        self, leads: list[dict[str, Any]], *, actor: str = "api", dry_run: bool = False
    ) -> list[RouteOutcome]:
        """Route several leads in one transaction (bulk import); ids already seen are skipped.

        A dry run decides them the same way, together, and rolls the transaction back: each
        lead sees the ones before it, so the preview is what the real run would do.
        """
        now = self.clock.now()
        prepared = [(lead_id_of(fields), dict(fields), actor) for fields in leads]
        outcomes, _owed = await self._run(lambda c: self._decide_all(c, prepared, now), commit=not dry_run)
        return outcomes

    async def lead(self, lead_id: str) -> LeadRecord:
        def work(connection: Connection) -> LeadRecord:
            lead = (connection.execute(select(table_of(Lead)).where(Lead.id == lead_id))).first()
            if lead is None:
                raise NotFound(f"There is no lead with id {lead_id}.")
            rows = (
                connection.execute(
                    ASSIGNMENT_WITH_NAMES.where(Assignment.lead_id == lead_id).order_by(Assignment.id))
            ).all()
            return LeadRecord(
                lead_id=lead.id,
                fields=lead.fields,
                received_at=lead.received_at,
                status=lead.status,
                queue=lead.queue,
                rule=lead.rule,
                reason=lead.reason,
                explanation=stored_explanation(lead.explanation, rows[-1].explanation if rows else None),
                assignments=[_assignment_json(r) for r in rows],
            )

        return await self._run(work, commit=False)

    async def accept(self, assignment_id: int, *, actor: str) -> AssignmentChange:
        return await self._run(lambda c: offers.accept(c, assignment_id, self.clock.now(), actor))

    async def pass_lead(self, assignment_id: int, *, actor: str) -> AssignmentChange:
        return await self._run(
            lambda c: offers.hand_on(c, self.router, assignment_id, self.clock.now(), actor, cause="pass")
        )

    async def assign_pending(self) -> list[RouteOutcome]:
        """Assign waiting leads to whoever has become eligible, oldest first."""
        done: list[RouteOutcome] = []
        after = None
        while page := await self._run(partial(offers.pending_leads, after=after), commit=False):
            for _, lead_id in page:
                outcome = await self._run(partial(
                    offers.assign_pending_lead, router=self.router, lead_id=lead_id, now=self.clock.now()))
                if outcome is not None:
                    done.append(outcome)
            after = page[-1]
        return done

    async def reassign_overdue(self) -> list[AssignmentChange]:
        """Move offers past their queue's SLA to the next member (at most `sla.max_hops`)."""
        now = self.clock.now()
        due = await self._run(lambda c: offers.overdue(c, now), commit=False)
        changes = []
        for assignment_id, hop, _queue in due:
            change = await self._run(partial(self._expire, assignment_id=assignment_id, hop=hop))
            if change is not None:
                changes.append(change)
        return changes

    def _expire(self, connection: Connection, assignment_id: int, hop: int) -> AssignmentChange | None:
        """Move a missed offer on; the move that uses up `sla.max_hops` also tells the managers.

        After that the lead stays with the last rep (no more moves, no repeated notes).
        """
        team = load_team(connection)
        if hop >= team.max_hops:
            return None
        now = self.clock.now()
        change = offers.hand_on(connection, self.router, assignment_id, now, "sla", cause="sla")
        if not change.changed:  # accepted or passed since the job read it as overdue
            return None
        if hop + 1 == team.max_hops:
            fields = connection.execute(select(Lead.fields).where(Lead.id == change.lead_id)).scalar_one()
            where = (
                f"it is now with {change.next_outcome.assignee.name}, its last hop"
                if change.next_outcome and change.next_outcome.assignee
                else "it is waiting unassigned"
            )
            offers.notify_managers(
                connection,
                team,
                now,
                f"sla-exhausted:{change.lead_id}",
                f"Lead {change.lead_id} was not accepted after {hop + 1} offers; {where}. Please step in.",
                change.lead_id,
                fields,
            )
        return change

    # --- members -------------------------------------------------------------

    async def pause(
        self, slack_id: str, *, until: date | None = None, reason: str | None = None, actor: str
    ) -> str:
        def work(c: Connection) -> str:
            return time_off.pause(
                c, self._team(c), slack_id, self.clock.now(), until=until, reason=reason, actor=actor
            )

        return await self._run(work)

    async def resume(self, slack_id: str, *, actor: str) -> str:
        def work(c: Connection) -> str:
            return time_off.resume(c, self._team(c), slack_id, self.clock.now(), actor=actor)

        return await self._run(work)

    async def add_leave(
        self,
        slack_id: str,
        starts_on: date,
        ends_on: date,
        *,
        actor: str,
        source: str = "command",
        external_id: str | None = None,
        note: str | None = None,
    ) -> LeaveView:
        def work(c: Connection) -> LeaveView:
            return time_off.add_leave(
                c,
                self._team(c),
                slack_id,
                self.clock.now(),
                starts_on=starts_on,
                ends_on=ends_on,
                actor=actor,
                source=source,
                external_id=external_id,
                note=note,
            )

        return await self._run(work)

    async def cancel_leave(
        self, slack_id: str, *, actor: str, leave_id: int | None = None
    ) -> list[LeaveView]:
        return await self._run(
            lambda c: time_off.cancel_leave(c, slack_id, self.clock.now(), actor=actor, leave_id=leave_id)
        )

    async def leaves(self, slack_id: str) -> list[LeaveView]:
        def work(c: Connection) -> list[LeaveView]:
            member = time_off.require_member(c, slack_id)
            return time_off.leaves(c, member.id, self.clock.now())

        return await self._run(work, commit=False)

    async def member_status(self, slack_id: str) -> MemberStatus:
        def work(c: Connection) -> MemberStatus:
            return standings.member_status(c, self._team(c), slack_id, self.clock.now())

        return await self._run(work, commit=False)

    async def slack_ids_named(self, word: str) -> list[str]:
        """The members a plain-text name like `@alice` may mean (see time_off.slack_ids_named)."""
        return await self._run(lambda c: time_off.slack_ids_named(c, word), commit=False)

    async def is_manager(self, slack_id: str) -> bool:
        def work(c: Connection) -> bool:
            return slack_id in (self._team(c)).managers

        return await self._run(work, commit=False)

    async def team(self) -> TeamSettings:
        return await self._run(load_team, commit=False)

    async def apply_slack_status(
        self, slack_id: str, *, text: str, emoji: str, expiration: int, actor: str = "slack"
    ) -> str | None:
        """A Slack status change: "paused", "resumed" or None (nothing changed)."""

        def work(c: Connection) -> str | None:
            return slack_status.apply_slack_status(
                c,
                self._team(c),
                slack_id,
                self.clock.now(),
                text=text,
                emoji=emoji,
                expiration=expiration,
                actor=actor,
            )

        return await self._run(work)

    async def set_timezone(
        self, slack_id: str, timezone: str, *, actor: str = "slack", only_if_unset: bool = True
    ) -> bool:
        """Use the member's Slack profile timezone (by default only when the config set none)."""
        return await self._run(
            lambda c: time_off.set_timezone(
                c, slack_id, timezone, self.clock.now(), actor=actor, only_if_unset=only_if_unset
            )
        )

    async def ignore_status(self, slack_id: str, *, text: str, emoji: str, actor: str) -> str:
        return await self._run(
            lambda c: slack_status.ignore_status(
                c, slack_id, self.clock.now(), text=text, emoji=emoji, actor=actor)
        )

    async def set_calendar(self, slack_id: str, url: str | None, *, actor: str) -> None:
        await self._run(lambda c: calendar_leaves.set_calendar(c, slack_id, url, self.clock.now(), actor))

    async def calendars(self) -> list[tuple[str, str]]:
        return await self._run(calendar_leaves.calendars, commit=False)

    async def sync_calendar(
        self, slack_id: str, absences: list[calendar_leaves.CalendarAbsence]
    ) -> dict[str, int]:
        def work(c: Connection) -> dict[str, int]:
            return calendar_leaves.sync_calendar(c, self._team(c), slack_id, absences, self.clock.now())

        return await self._run(work)

    async def start_due_periods(self) -> list[str]:
        """Open a new period in every queue whose period has ended; safe to run any number of times."""

        def work(c: Connection) -> list[str]:
            from bot.routing.ledger.periods import period_key
            from bot.routing.ledger.queues import open_queue, save

            team = self._team(c)
            now = self.clock.now()
            current = period_key(now, team.timezone, team.period)
            lock_all_queues(c)  # a period opens in each queue in one transaction: in the lock order
            names = (c.execute(select(Queue.name, Queue.period_key).where(Queue.in_config.is_(True)))).all()
            started = []
            for name, key in names:
                if key != current:
                    opened = open_queue(c, name, team, now)
                    if opened is not None:
                        save(c, opened, now)
                        started.append(name)
            return started

        return await self._run(work)

    # --- managers ------------------------------------------------------------

    async def calibrate(self, change: Calibration, *, actor: str) -> str:
        def work(c: Connection) -> str:
            return calibration.calibrate(c, self._team(c), change, self.clock.now(), actor)

        try:
            return await self._run(work)
        except IntegrityError:
            request = change.request_id
            if request is None or not await self._run(lambda c: calibration.request_done(c, request),
                                                       commit=False):
                raise
            # the same request, run at the same moment by another replica: it committed first
            raise AlreadyDone("This calibration was already saved.") from None

    async def add_to_queue(self, slack_id: str, queue: str, *, actor: str, weight: str | None = None) -> str:
        return await self._run(
            lambda c: calibration.add_to_queue(c, slack_id, queue, self.clock.now(), actor, weight)
        )

    async def remove_from_queue(self, slack_id: str, queue: str, *, actor: str) -> str:
        return await self._run(
            lambda c: calibration.remove_from_queue(c, slack_id, queue, self.clock.now(), actor)
        )

    async def preview(
        self, queue: str, *, count: int = 10, change: Calibration | None = None
    ) -> list[PreviewPick]:
        """The next `count` picks of `queue`, with `change` applied hypothetically; never commits."""

        def work(c: Connection) -> list[PreviewPick]:
            return preview(c, self._team(c), queue, self.clock.now(), count=count, change=change)

        return await self._run(work, commit=False)

    async def standings(self, queue: str | None = None) -> list[QueueStandings]:
        def work(c: Connection) -> list[QueueStandings]:
            return standings.all_standings(c, self._team(c), self.clock.now(), queue)

        return await self._run(work, commit=False)

    async def report(self, *, period: str | None = None, queue: str | None = None) -> list[ReportRow]:
        def work(c: Connection) -> list[ReportRow]:
            return standings.report(c, self._team(c), self.clock.now(), period=period, queue=queue)

        return await self._run(work, commit=False)

    async def apply_config(self, config: RoutingConfig, *, actor: str = "cli") -> dict[str, int]:
        applied = await self._run(lambda c: roster.apply_config(c, config, self.clock.now(), actor))
        assert applied is not None
        return applied

    async def apply_config_if_changed(self, config: RoutingConfig, *, actor: str) -> dict[str, int] | None:
        """Apply `config` unless it says what the last applied one said (None then); see `roster`."""
        return await self._run(
            lambda c: roster.apply_config(c, config, self.clock.now(), actor, if_changed=True))

    async def export_config(self) -> dict[str, Any]:
        return await self._run(roster.export_config, commit=False)

    async def queue_names(self) -> list[str]:
        def work(c: Connection) -> list[str]:
            rows = c.execute(select(Queue.name).where(Queue.in_config.is_(True)).order_by(Queue.position))
            return list(rows.scalars().all())

        return await self._run(work, commit=False)

    async def was_offered_to(self, lead_id: str, slack_id: str) -> bool:
        """Whether the lead was ever offered to this member (the privacy rule of `why`)."""
        from bot.routing.assignment.lead_lookup import (
            was_offered_to,  # here: the class's one addition stays one hunk
        )

        return await self._run(lambda c: was_offered_to(c, lead_id, slack_id), commit=False)


def _assignment_json(row: Any) -> dict[str, Any]:
    a = row
    return {
        "assignment_id": a.id,
        "queue": row.queue,
        "assignee": {"slack_id": row.slack_id, "name": row.name},
        "state": a.state,
        "cause": a.cause,
        "hop": a.hop,
        "assigned_at": a.assigned_at.isoformat(),
        "accepted_at": a.accepted_at.isoformat() if a.accepted_at else None,
        "explanation": a.explanation,
    }

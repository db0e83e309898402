"""The core's one door: every front end (CLI, webhook, Slack, jobs) calls these methods.

Each method is one transaction, records who did it, and returns plain data from
`bot.routing.results`. Errors meant for a person are `RoutingError`s in plain words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config.schema import RoutingConfig
from bot.routing import calendar_leaves, calibration, members, offers, roster, standings, status
from bot.routing.assign import Router, stored_outcome
from bot.routing.clock import Clock, SystemClock
from bot.routing.errors import NotFound, RoutingError
from bot.routing.preview import preview
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
from bot.routing.team import TeamSettings, load_team
from bot.store.db import Database
from bot.store.models import Assignment, Lead, Member, Queue

T = TypeVar("T")


class _Rollback(Exception):
    """Raised to discard a transaction whose result we keep (dry runs, previews)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def lead_id_of(fields: dict[str, Any]) -> str:
    """The contract's id rule: a non-empty string, or a number read as its decimal string."""
    raw = fields.get("id")
    if isinstance(raw, bool) or raw is None:
        raise RoutingError("The lead has no `id`: give each lead its source's id.")
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, str) and raw.strip():
        return raw.strip()
    raise RoutingError("The lead's `id` must be a non-empty string or a number.")


class RoutingService:
    def __init__(self, db: Database, clock: Clock | None = None, *, webhook: bool = False) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.router = Router(webhook=webhook)

    async def _run(self, work: Callable[[AsyncConnection], Awaitable[T]], *, commit: bool = True) -> T:
        try:
            async with self.db.transaction() as connection:
                result = await work(connection)
                if not commit:
                    raise _Rollback(result)
                return result
        except _Rollback as rollback:
            return rollback.value  # type: ignore[no-any-return]

    async def _team(self, connection: AsyncConnection) -> TeamSettings:
        return await load_team(connection)

    # --- leads ---------------------------------------------------------------

    async def route(self, fields: dict[str, Any], *, actor: str = "api", dry_run: bool = False) -> RouteOutcome:
        """Route one lead; a repeated id returns the stored decision (created=False)."""
        lead_id = lead_id_of(fields)
        stored = {key: value for key, value in fields.items()}
        now = self.clock.now()
        try:
            return await self._run(
                lambda c: self.router.route(c, lead_id, stored, now, actor), commit=not dry_run)
        except IntegrityError:
            # Another replica stored the same id between our check and our insert.
            found = await self._run(lambda c: stored_outcome(c, lead_id))
            if found is None:
                raise
            return found

    async def route_many(self, leads: list[dict[str, Any]], *, actor: str = "api") -> list[RouteOutcome]:
        """Route several leads in one transaction (bulk import); ids already seen are skipped."""
        now = self.clock.now()

        async def work(connection: AsyncConnection) -> list[RouteOutcome]:
            return [await self.router.route(connection, lead_id_of(f), dict(f), now, actor) for f in leads]

        return await self._run(work)

    async def lead(self, lead_id: str) -> LeadRecord:
        async def work(connection: AsyncConnection) -> LeadRecord:
            lead = (await connection.execute(select(Lead.__table__).where(Lead.id == lead_id))).first()
            if lead is None:
                raise NotFound(f"There is no lead with id {lead_id}.")
            rows = (await connection.execute(
                select(Assignment.__table__, Member.slack_id, Member.name, Queue.name.label("queue"))
                .join(Member, Member.id == Assignment.member_id)
                .join(Queue, Queue.id == Assignment.queue_id)
                .where(Assignment.lead_id == lead_id).order_by(Assignment.id))).all()
            return LeadRecord(
                lead_id=lead.id, fields=lead.fields, received_at=lead.received_at, status=lead.status,
                queue=lead.queue, rule=lead.rule, reason=lead.reason, explanation=lead.explanation,
                assignments=[_assignment_json(r) for r in rows])

        return await self._run(work, commit=False)

    async def accept(self, assignment_id: int, *, actor: str) -> AssignmentChange:
        return await self._run(lambda c: offers.accept(c, assignment_id, self.clock.now(), actor))

    async def pass_lead(self, assignment_id: int, *, actor: str) -> AssignmentChange:
        return await self._run(lambda c: offers.hand_on(c, self.router, assignment_id,
                                                        self.clock.now(), actor, cause="pass"))

    async def assign_pending(self) -> list[RouteOutcome]:
        """Assign waiting leads to whoever has become eligible, oldest first."""
        ids = await self._run(offers.pending_leads, commit=False)
        done = []
        for lead_id in ids:
            outcome = await self._run(
                lambda c, lead_id=lead_id: offers.assign_pending_lead(c, self.router, lead_id, self.clock.now()))
            if outcome is not None:
                done.append(outcome)
        return done

    async def reassign_overdue(self) -> list[AssignmentChange]:
        """Move offers past their queue's SLA to the next member (at most `sla.max_hops`)."""
        now = self.clock.now()
        due = await self._run(lambda c: offers.overdue(c, now), commit=False)
        changes = []
        for assignment_id, hop, _queue in due:
            changes.append(await self._run(lambda c, a=assignment_id, h=hop: self._expire(c, a, h)))
        return changes

    async def _expire(self, connection: AsyncConnection, assignment_id: int, hop: int) -> AssignmentChange:
        team = await load_team(connection)
        now = self.clock.now()
        if hop + 1 >= team.max_hops:
            change = await offers.hand_on(connection, self.router, assignment_id, now, "sla", cause="sla")
            lead = (await connection.execute(select(Lead.__table__).where(Lead.id == change.lead_id))).one()
            await offers.notify_managers(
                connection, team, now, f"sla-exhausted:{assignment_id}",
                f"Lead {change.lead_id} was not accepted after {hop + 1} offers; please step in.",
                change.lead_id, lead.fields)
            return change
        return await offers.hand_on(connection, self.router, assignment_id, now, "sla", cause="sla")

    # --- members -------------------------------------------------------------

    async def pause(self, slack_id: str, *, until: date | None = None, reason: str | None = None,
                    actor: str) -> str:
        async def work(c: AsyncConnection) -> str:
            return await members.pause(c, await self._team(c), slack_id, self.clock.now(),
                                       until=until, reason=reason, actor=actor)
        return await self._run(work)

    async def resume(self, slack_id: str, *, actor: str) -> str:
        async def work(c: AsyncConnection) -> str:
            return await members.resume(c, await self._team(c), slack_id, self.clock.now(), actor=actor)
        return await self._run(work)

    async def add_leave(self, slack_id: str, starts_on: date, ends_on: date, *, actor: str,
                        source: str = "command", external_id: str | None = None,
                        note: str | None = None) -> LeaveView:
        async def work(c: AsyncConnection) -> LeaveView:
            return await members.add_leave(c, await self._team(c), slack_id, self.clock.now(),
                                           starts_on=starts_on, ends_on=ends_on, actor=actor,
                                           source=source, external_id=external_id, note=note)
        return await self._run(work)

    async def cancel_leave(self, slack_id: str, *, actor: str, leave_id: int | None = None) -> list[LeaveView]:
        return await self._run(lambda c: members.cancel_leave(c, slack_id, self.clock.now(), actor=actor,
                                                              leave_id=leave_id))

    async def leaves(self, slack_id: str) -> list[LeaveView]:
        async def work(c: AsyncConnection) -> list[LeaveView]:
            member = await members.require_member(c, slack_id)
            return await members.leaves(c, member.id, self.clock.now())
        return await self._run(work, commit=False)

    async def member_status(self, slack_id: str) -> MemberStatus:
        async def work(c: AsyncConnection) -> MemberStatus:
            return await standings.member_status(c, await self._team(c), slack_id, self.clock.now())
        return await self._run(work, commit=False)

    async def is_manager(self, slack_id: str) -> bool:
        async def work(c: AsyncConnection) -> bool:
            return slack_id in (await self._team(c)).managers
        return await self._run(work, commit=False)

    async def team(self) -> TeamSettings:
        return await self._run(load_team, commit=False)

    async def apply_slack_status(self, slack_id: str, *, text: str, emoji: str, expiration: int,
                                 actor: str = "slack") -> str | None:
        """A Slack status change: "paused", "resumed" or None (nothing changed)."""
        async def work(c: AsyncConnection) -> str | None:
            return await status.apply_slack_status(c, await self._team(c), slack_id, self.clock.now(),
                                                   text=text, emoji=emoji, expiration=expiration,
                                                   actor=actor)
        return await self._run(work)

    async def ignore_status(self, slack_id: str, *, text: str, emoji: str, actor: str) -> str:
        return await self._run(lambda c: status.ignore_status(c, slack_id, self.clock.now(), text=text,
                                                              emoji=emoji, actor=actor))

    async def set_calendar(self, slack_id: str, url: str | None, *, actor: str) -> None:
        await self._run(lambda c: calendar_leaves.set_calendar(c, slack_id, url, self.clock.now(), actor))

    async def calendars(self) -> list[tuple[str, str]]:
        return await self._run(calendar_leaves.calendars, commit=False)

    async def sync_calendar(self, slack_id: str,
                            absences: list[calendar_leaves.CalendarAbsence]) -> dict[str, int]:
        async def work(c: AsyncConnection) -> dict[str, int]:
            return await calendar_leaves.sync_calendar(c, await self._team(c), slack_id, absences,
                                                       self.clock.now())
        return await self._run(work)

    async def start_due_periods(self) -> list[str]:
        """Open a new period in every queue whose period has ended; safe to run any number of times."""
        async def work(c: AsyncConnection) -> list[str]:
            from bot.routing.ledger import open_queue, save
            from bot.routing.periods import period_key

            team = await self._team(c)
            now = self.clock.now()
            current = period_key(now, team.timezone, team.period)
            names = (await c.execute(select(Queue.name, Queue.period_key)
                                     .where(Queue.in_config.is_(True)))).all()
            started = []
            for name, key in names:
                if key != current:
                    opened = await open_queue(c, name, team, now)
                    if opened is not None:
                        await save(c, opened, now)
                        started.append(name)
            return started
        return await self._run(work)

    # --- managers ------------------------------------------------------------

    async def calibrate(self, change: Calibration, *, actor: str) -> str:
        async def work(c: AsyncConnection) -> str:
            return await calibration.calibrate(c, await self._team(c), change, self.clock.now(), actor)
        return await self._run(work)

    async def add_to_queue(self, slack_id: str, queue: str, *, actor: str, weight: str | None = None) -> str:
        return await self._run(lambda c: calibration.add_to_queue(c, slack_id, queue, self.clock.now(),
                                                                  actor, weight))

    async def remove_from_queue(self, slack_id: str, queue: str, *, actor: str) -> str:
        return await self._run(lambda c: calibration.remove_from_queue(c, slack_id, queue,
                                                                       self.clock.now(), actor))

    async def preview(self, queue: str, *, count: int = 10,
                      change: Calibration | None = None) -> list[PreviewPick]:
        """The next `count` picks of `queue`, with `change` applied hypothetically; never commits."""
        async def work(c: AsyncConnection) -> list[PreviewPick]:
            return await preview(c, await self._team(c), queue, self.clock.now(), count=count,
                                 change=change)
        return await self._run(work, commit=False)

    async def standings(self, queue: str | None = None) -> list[QueueStandings]:
        async def work(c: AsyncConnection) -> list[QueueStandings]:
            return await standings.all_standings(c, await self._team(c), self.clock.now(), queue)
        return await self._run(work, commit=False)

    async def report(self, *, period: str | None = None, queue: str | None = None) -> list[ReportRow]:
        async def work(c: AsyncConnection) -> list[ReportRow]:
            return await standings.report(c, await self._team(c), self.clock.now(), period=period,
                                          queue=queue)
        return await self._run(work, commit=False)

    async def apply_config(self, config: RoutingConfig, *, actor: str = "cli") -> dict[str, int]:
        return await self._run(lambda c: roster.apply_config(c, config, self.clock.now(), actor))

    async def export_config(self) -> dict[str, Any]:
        return await self._run(roster.export_config, commit=False)

    async def queue_names(self) -> list[str]:
        async def work(c: AsyncConnection) -> list[str]:
            rows = await c.execute(select(Queue.name).where(Queue.in_config.is_(True)).order_by(Queue.position))
            return list(rows.scalars().all())
        return await self._run(work, commit=False)


def _assignment_json(row: Any) -> dict[str, Any]:
    a = row
    return {
        "assignment_id": a.id, "queue": row.queue, "assignee": {"slack_id": row.slack_id, "name": row.name},
        "state": a.state, "cause": a.cause, "hop": a.hop, "assigned_at": a.assigned_at.isoformat(),
        "accepted_at": a.accepted_at.isoformat() if a.accepted_at else None,
        "explanation": a.explanation,
    }

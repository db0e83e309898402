"""Leads and offers, as the front ends ask for them: route, look up, accept, pass, and the
jobs' re-offers. Each method is one transaction (see `bot.routing.transactions`)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from bot.routing.assignment import offers
from bot.routing.assignment.group_commit import GroupCommit, Pending
from bot.routing.assignment.lead_lookup import lead_record, stored_outcome, was_offered_to
from bot.routing.assignment.reassign import Reassigned, reassign
from bot.routing.assignment.router import Router
from bot.routing.outbox import Message
from bot.routing.results import AssignmentChange, LeadRecord, RouteOutcome
from bot.routing.rules.lead_fields import lead_id_of
from bot.routing.transactions import Transactions
from bot.store.db import DatabaseUnavailable

GROUP_COMMIT_WORKERS = 4  # PostgreSQL: routing transactions in flight at once per replica

NewLead = tuple[str, dict[str, Any], str]  # lead id, fields, actor


class AssignmentService:
    def __init__(self, transactions: Transactions, router: Router) -> None:
        self.transactions = transactions
        self.router = router
        workers = GROUP_COMMIT_WORKERS if transactions.db.is_postgres else 1
        self._group_commit = GroupCommit(self._route_batch, self._route_one, workers=workers,
                                         fails_together=(DatabaseUnavailable,))

    def _now(self) -> datetime:
        return self.transactions.clock.now()

    async def route(
        self, fields: dict[str, Any], *, actor: str = "api", dry_run: bool = False
    ) -> RouteOutcome:
        """Route one lead; a repeated id returns the stored decision (created=False).

        Concurrent calls are committed together (see `group_commit`); a dry run never is.
        """
        lead_id = lead_id_of(fields)
        stored = dict(fields)
        if dry_run:
            now = self._now()
            return await self.transactions.read(lambda c: self.router.route(c, lead_id, stored, now, actor))
        return await self._group_commit.route(lead_id, stored, actor)

    async def route_many(
        self, leads: list[dict[str, Any]], *, actor: str = "api", dry_run: bool = False
    ) -> list[RouteOutcome]:
        """Route several leads in one transaction (bulk import); ids already seen are skipped.

        A dry run decides them the same way, together, and rolls the transaction back: each
        lead sees the ones before it, so the preview is what the real run would do.
        """
        now = self._now()
        prepared = [(lead_id_of(fields), dict(fields), actor) for fields in leads]
        outcomes, _owed = await self.transactions.run(lambda c: self._decide_all(c, prepared, now),
                                                      commit=not dry_run)
        return outcomes

    async def _route_one(self, pending: Pending) -> RouteOutcome:
        try:
            return (await self._route_new([(pending.lead_id, pending.fields, pending.actor)]))[0]
        except IntegrityError:
            # Another replica stored the same id between our check and our insert.
            found = await self.transactions.run(lambda c: stored_outcome(c, pending.lead_id))
            if found is None:
                raise
            return found

    async def _route_batch(self, batch: list[Pending]) -> list[RouteOutcome]:
        return await self._route_new([(p.lead_id, p.fields, p.actor) for p in batch])

    async def _route_new(self, leads: list[NewLead]) -> list[RouteOutcome]:
        """Route leads in one transaction; their messages are handed over once it commits."""
        now = self._now()
        return await self.transactions.run_handing_over(
            lambda connection, lease_until: self._decide_all(connection, leads, now, lease_until))

    def _decide_all(self, connection: Connection, leads: list[NewLead], now: datetime,
                    lease_until: datetime | None = None) -> tuple[list[RouteOutcome], list[Message]]:
        shared = self.router.batch(connection, now, lease_until=lease_until)
        shared.prefetch([(lead_id, fields) for lead_id, fields, _ in leads])
        decided = [self.router.decide(lead_id, fields, actor, shared) for lead_id, fields, actor in leads]
        owed = shared.finish()
        return [d if isinstance(d, RouteOutcome) else d.outcome() for d in decided], owed

    async def lead(self, lead_id: str) -> LeadRecord:
        return await self.transactions.read(lambda c: lead_record(c, lead_id))

    async def was_offered_to(self, lead_id: str, slack_id: str) -> bool:
        """Whether the lead was ever offered to this member (the privacy rule of `why`)."""
        return await self.transactions.read(lambda c: was_offered_to(c, lead_id, slack_id))

    async def accept(self, assignment_id: int, *, actor: str) -> AssignmentChange:
        return await self.transactions.run(lambda c: offers.accept(c, assignment_id, self._now(), actor))

    async def pass_lead(self, assignment_id: int, *, actor: str) -> AssignmentChange:
        return await self.transactions.run(
            lambda c: offers.hand_on(c, self.router, assignment_id, self._now(), actor, cause="pass"))

    async def reassign(self, lead_id: str, slack_id: str, *, actor: str,
                       only_if_waiting: bool = False) -> Reassigned:
        """Offer the lead to this member now: a manager's reassign, or "Take it" (see `reassign`);
        `only_if_waiting` refuses a lead someone placed meanwhile (a rep's Take it)."""
        return await self.transactions.run(
            lambda c: reassign(c, self.router, lead_id, slack_id, self._now(), actor,
                               only_if_waiting=only_if_waiting))

    async def assign_pending(self) -> list[RouteOutcome]:
        """Assign waiting leads to whoever has become eligible, oldest first."""
        done: list[RouteOutcome] = []
        after = None
        while page := await self.transactions.read(partial(offers.pending_leads, after=after)):
            for _, lead_id in page:
                outcome = await self.transactions.run(partial(
                    offers.assign_pending_lead, router=self.router, lead_id=lead_id, now=self._now()))
                if outcome is not None:
                    done.append(outcome)
            after = page[-1]
        return done

    async def reassign_overdue(self) -> list[AssignmentChange]:
        """Move offers past their queue's SLA to the next member (at most `sla.max_hops`)."""
        now = self._now()
        due = await self.transactions.read(lambda c: offers.overdue(c, now))
        changes = []
        for assignment_id, hop, _queue in due:
            change = await self.transactions.run(partial(
                offers.expire, router=self.router, assignment_id=assignment_id, hop=hop, now=self._now()))
            if change is not None:
                changes.append(change)
        return changes

"""Routing several new leads in one transaction, writing their rows once at the end.

The team row and each queue's ledger are read once and kept in memory (the
transaction holds their locks); leads, assignments, outbox messages and open-lead
counts are inserted with one statement each when the batch finishes. A lone lead is
a batch of one. This keeps an assignment to a handful of statements per batch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from bot.routing.assignment.accounts import account_key
from bot.routing.assignment.lead_lookup import lead_explanation
from bot.routing.assignment.locks import lock_queues
from bot.routing.ledger.cache import LedgerCache
from bot.routing.ledger.queues import (
    OpenQueue,
    SeatInfo,
    check_capacity,
    open_queue,
    save,
    sticky_owner,
    sticky_owners,
)
from bot.routing.outbox import Message, Outbox
from bot.routing.results import MemberRef, RouteOutcome
from bot.routing.rules.matching import RuleResult, first_match
from bot.routing.team import load_team
from bot.store.models import Assignment, Lead, Member, table_of

LEADS = table_of(Lead)
ASSIGNMENTS = table_of(Assignment)
MEMBERS = table_of(Member)
INSERT_ASSIGNMENTS = ASSIGNMENTS.insert().returning(ASSIGNMENTS.c.id, sort_by_parameter_order=True)
KNOWN_IDS = select(LEADS.c.id).where(LEADS.c.id.in_(bindparam("lead_ids", expanding=True)))
ADD_OPEN_LEADS = (
    update(MEMBERS)
    .where(MEMBERS.c.id == bindparam("member_id"))
    .values(open_leads=MEMBERS.c.open_leads + bindparam("delta"))
)


@dataclass(slots=True)
class Decision:
    """A new lead's decision; its assignment id is known once the batch has finished."""

    lead_id: str
    fields: dict[str, Any]
    status: str
    queue: str | None
    rule: str | None
    winner: SeatInfo | None
    opened: OpenQueue | None
    explanation: dict[str, Any]
    assignment: dict[str, Any] | None = None
    assignment_id: int | None = None
    repeat_of: Decision | None = None  # the same id twice in one batch: the first decides

    @property
    def repeat(self) -> bool:
        return self.repeat_of is not None

    def outcome(self) -> RouteOutcome:
        winner = self.winner
        return RouteOutcome(
            lead_id=self.lead_id,
            created=not self.repeat,
            status=self.status,
            queue=self.queue,
            rule=self.rule,
            assignee=MemberRef(winner.slack_id, winner.name) if winner else None,
            explanation=self.explanation,
            assignment_id=(self.repeat_of or self).assignment_id,
        )


class Batch:
    def __init__(self, connection: Connection, now: datetime, lease_until: datetime | None = None) -> None:
        self.connection = connection
        self.now = now
        self.team = load_team(connection)
        self.queues: dict[str, OpenQueue | None] = {}
        self.decisions: dict[str, Decision] = {}
        self.known_ids: set[str] | None = None
        self.sticky_owners: dict[tuple[int, str], int] = {}  # accounts this batch has placed
        self._leads: list[dict[str, Any]] = []
        # Per queue: the batch's accounts and who held them before the batch.
        self._stored_owners: dict[int, tuple[set[str], dict[str, int]]] = {}
        self.outbox = Outbox(now, lease_until)  # leased: the messages are handed over (see outbox)
        self._open_leads: Counter[int] = Counter()
        self.matches: dict[str, list[RuleResult]] = {}
        self._locked = False

    def prefetch(self, leads: list[tuple[str, dict[str, Any]]]) -> None:
        """One query for which ids were seen before, instead of one per lead; the fields
        are kept so a sticky queue can look up all the batch's accounts at once.

        Every queue the batch's leads can land in is locked here, before any other row,
        in the one order of `bot.routing.assignment.locks` (the rules are matched once, here).
        """
        for lead_id, fields in leads:
            self.matches.setdefault(lead_id, first_match(self.team.rule_set, fields))
        self._lock({tried[-1].queue for tried in self.matches.values() if tried and tried[-1].matched})
        rows = self.connection.execute(KNOWN_IDS, {"lead_ids": [lead_id for lead_id, _ in leads]})
        self.known_ids = {row.id for row in rows}
        self._leads = [fields for _, fields in leads]

    def match(self, lead_id: str, fields: dict[str, Any]) -> list[RuleResult]:
        """The rules' verdicts on a lead (matched once per batch)."""
        tried = self.matches.get(lead_id)
        if tried is None:
            tried = self.matches[lead_id] = first_match(self.team.rule_set, fields)
        return tried

    def _lock(self, queue_names: set[str | None]) -> None:
        lock_queues(self.connection, {name for name in queue_names if name is not None})
        self._locked = True

    def sticky_owner(self, opened: OpenQueue, key: str) -> int | None:
        """Who holds the account in the queue: this batch's own placements first, then
        what was stored, read for every account of the batch on the queue's first ask."""
        queue_id = opened.info.id
        placed = self.sticky_owners.get((queue_id, key))
        if placed is not None:
            return placed
        if queue_id not in self._stored_owners:
            keys = {k for fields in self._leads if (k := account_key(opened.info.sticky, fields))}
            owners = sticky_owners(self.connection, queue_id, sorted(keys)) if keys else {}
            self._stored_owners[queue_id] = (keys, owners)
        keys, owners = self._stored_owners[queue_id]
        if key not in keys:  # a lead the batch was not told about (a batch of one)
            return sticky_owner(self.connection, queue_id, key)
        return owners.get(key)

    def maybe_known(self, lead_id: str) -> bool:
        return self.known_ids is None or lead_id in self.known_ids

    def queue(self, name: str, ledgers: LedgerCache | None = None) -> OpenQueue | None:
        """The queue's ledger for this batch, opened once (through `ledgers` when given: the
        one kept since an earlier transaction, if it is current)."""
        if not self._locked:  # a batch that was not prefetched: one lead, one fallback chain
            self._lock({name})
        if name not in self.queues:
            if ledgers is not None:
                opened = ledgers.open(self.connection, name, self.team, self.now)
            else:
                opened = open_queue(self.connection, name, self.team, self.now)
            if opened is not None:
                self._count_batch_leads(opened)
            self.queues[name] = opened
        return self.queues[name]

    def _count_batch_leads(self, opened: OpenQueue) -> None:
        """A queue opened mid-batch reads open counts from before the batch's leads
        (they are written in `finish`); add those leads, or a capped member shared with an
        earlier queue looks free and the whole batch fails its capacity check."""
        for member_id, taken in self._open_leads.items():
            info = opened.by_member(member_id)
            if info is not None and taken:
                _count_open(opened, info, taken, seat_too=True)

    def add(self, decision: Decision) -> None:
        self.decisions[decision.lead_id] = decision
        winner, opened = decision.winner, decision.opened
        if winner is None or opened is None:
            return
        self._open_leads[winner.seat.member_id] += 1
        self._opened_a_lead(winner.seat.member_id, winner)
        key = (decision.assignment or {}).get("account_key")
        if key:
            self.sticky_owners[(opened.info.id, key)] = winner.seat.member_id

    def _opened_a_lead(self, member_id: int, winner: SeatInfo) -> None:
        """Keep capacity right for this member's seats in every queue the batch holds."""
        for opened in self.queues.values():
            info = opened.by_member(member_id) if opened else None
            if opened is not None and info is not None:
                _count_open(opened, info, 1, seat_too=info is not winner)  # charging counted the winner's

    def finish(self, owe: Any) -> list[Message]:
        """Write ledgers, leads, assignments, open counts and owed messages; `owe(outbox,
        decision)` adds the messages an assignment owes once its id is known. The messages
        to hand over once committed (none unless the outbox is leased)."""
        connection = self.connection
        for opened in self.queues.values():
            if opened is not None:
                save(connection, opened, self.now)
        fresh = [d for d in self.decisions.values() if not d.repeat]
        if fresh:
            connection.execute(
                LEADS.insert(),
                [
                    dict(
                        id=d.lead_id,
                        fields=d.fields,
                        received_at=self.now,
                        status=d.status,
                        queue=d.queue,
                        rule=d.rule,
                        reason=None if d.winner else d.explanation.get("reason"),
                        explanation=lead_explanation(d.explanation, assigned=d.assignment is not None),
                        account_key=(d.assignment or {}).get("account_key"),
                    )
                    for d in fresh
                ],
            )
        assigned = [d for d in fresh if d.assignment is not None]
        if assigned:
            rows = [d.assignment for d in assigned if d.assignment is not None]
            ids = connection.execute(INSERT_ASSIGNMENTS, rows).scalars().all()
            for decision, assignment_id in zip(assigned, ids, strict=True):
                decision.assignment_id = assignment_id
                owe(self.outbox, decision)
        if self._open_leads:
            connection.execute(  # in ascending member id: the lock order (bot.routing.assignment.locks)
                ADD_OPEN_LEADS, [{"member_id": m, "delta": n} for m, n in sorted(self._open_leads.items())]
            )
            check_capacity(connection, [d.winner for d in assigned if d.winner is not None])
        return self.outbox.flush(connection)


def _count_open(opened: OpenQueue, info: SeatInfo, leads: int, *, seat_too: bool) -> None:
    """Add `leads` to what a seat knows of its member's open leads (eligibility reads the
    facts; the seat's own count is what the ledger shows). A member with a capacity may
    have just reached it, so the queue asks eligibility again."""
    info.facts = replace(info.facts, open_leads=info.facts.open_leads + leads)
    if seat_too:
        info.seat.open_leads += leads
    if info.facts.capacity is not None:
        opened.facts_changed()

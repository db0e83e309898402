"""One transaction's placements, written once at the end: the one write path of an offer.

New leads (several at once under group commit, or a lone lead as a batch of one) and
re-offers (a pass, an SLA miss, a waiting lead placed, a manager's reassign) are decided the
same way and written here the same way. The team row and each queue's ledger are read
once and kept in memory (the transaction holds their locks); leads, assignments, outbox
messages and open-lead counts are written with one statement each when the batch
finishes. This keeps an assignment to a handful of statements per batch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from bot.routing.assignment import owed
from bot.routing.assignment.accounts import account_key
from bot.routing.assignment.decision import Decision
from bot.routing.assignment.lead_lookup import lead_explanation
from bot.routing.assignment.locks import OpenLeads, lock_queues
from bot.routing.ledger.cache import LedgerCache
from bot.routing.ledger.queues import (
    OpenQueue,
    SeatInfo,
    check_capacity,
    save_all,
    sticky_owner,
    sticky_owners,
)
from bot.routing.outbox import Message, Outbox
from bot.routing.rules.matching import RuleResult, first_match
from bot.routing.team import TeamSettings, load_team
from bot.store.models import Assignment, Lead, table_of

LEADS = table_of(Lead)
ASSIGNMENTS = table_of(Assignment)
# Matched back by lead id (a batch offers each of its leads once), not by row order: ordered
# RETURNING would make SQLite insert row by row, SQLite promising no order of its own.
INSERT_ASSIGNMENTS = ASSIGNMENTS.insert().returning(ASSIGNMENTS.c.lead_id, ASSIGNMENTS.c.id)
KNOWN_IDS = select(LEADS.c.id).where(LEADS.c.id.in_(bindparam("lead_ids", expanding=True)))
REOFFERED_LEAD = (
    LEADS.update()
    .where(LEADS.c.id == bindparam("lead_id"))
    .values(status=bindparam("status"), queue=bindparam("queue"), rule=bindparam("rule"),
            reason=bindparam("reason"), explanation=bindparam("explanation"),
            account_key=bindparam("account_key"))
)


class Batch:
    """Made by `Router.batch`. `open_leads` carries counts the caller already changed (an
    offer it ended), written with the batch's own in the one lock order; `locked` says the
    caller has locked the queues the batch may write (`bot.routing.assignment.locks`)."""

    def __init__(
        self,
        connection: Connection,
        now: datetime,
        *,
        ledgers: LedgerCache,
        webhook: bool,
        lease_until: datetime | None = None,
        team: TeamSettings | None = None,
        open_leads: OpenLeads | None = None,
        locked: bool = False,
    ) -> None:
        self.connection = connection
        self.now = now
        self.team = team if team is not None else load_team(connection)
        self.ledgers = ledgers
        self.webhook = webhook
        self.queues: dict[str, OpenQueue | None] = {}
        self.decisions: dict[str, Decision] = {}
        self.known_ids: set[str] | None = None
        self.sticky_owners: dict[tuple[int, str], int] = {}  # accounts this batch has placed
        self._leads: list[dict[str, Any]] = []
        # Per queue: the batch's accounts and who held them before the batch.
        self._stored_owners: dict[int, tuple[set[str], dict[str, int]]] = {}
        self.outbox = Outbox(now, lease_until)  # leased: the messages are handed over (see outbox)
        self.open_leads = open_leads if open_leads is not None else OpenLeads()
        self._placed: Counter[int] = Counter()  # leads this batch gave each member
        self.matches: dict[str, list[RuleResult]] = {}
        self._locked = locked

    def prefetch(self, leads: list[tuple[str, dict[str, Any]]]) -> None:
        """The rules matched once for every lead; every queue the leads can land in locked,
        before any other row, in the one order of `bot.routing.assignment.locks`; the matched
        queues' ledgers opened together (`LedgerCache.open_many`); one query for which ids
        were seen before. The fields are kept so a sticky queue can look up all the batch's
        accounts at once."""
        for lead_id, fields in leads:
            self.matches.setdefault(lead_id, first_match(self.team.rule_set, fields))
        matched = {tried[-1].queue for tried in self.matches.values() if tried and tried[-1].matched}
        self._lock(matched)
        self.queues.update(self.ledgers.open_many(self.connection, matched, self.team, self.now))
        rows = self.connection.execute(KNOWN_IDS, {"lead_ids": [lead_id for lead_id, _ in leads]})
        self.known_ids = {row.id for row in rows}
        self._leads = [fields for _, fields in leads]

    def match(self, lead_id: str, fields: dict[str, Any]) -> list[RuleResult]:
        """The rules' verdicts on a lead (matched once per batch)."""
        tried = self.matches.get(lead_id)
        if tried is None:
            tried = self.matches[lead_id] = first_match(self.team.rule_set, fields)
        return tried

    def _lock(self, queue_names: set[str] | set[str | None]) -> None:
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

    def queue(self, name: str) -> OpenQueue | None:
        """The queue's ledger for this batch, opened once (the one kept since an earlier
        transaction when it is current, see `bot.routing.ledger.cache`); every queue opened
        is saved when the batch finishes."""
        if not self._locked:  # a batch that was not prefetched: one lead, one fallback chain
            self._lock({name})
        if name not in self.queues:
            opened = self.ledgers.open(self.connection, name, self.team, self.now)
            if opened is not None:
                self._count_batch_leads(opened)
            self.queues[name] = opened
        return self.queues[name]

    def _count_batch_leads(self, opened: OpenQueue) -> None:
        """A queue opened mid-batch reads open counts from before the batch's leads
        (they are written in `finish`); add those leads, or a capped member shared with an
        earlier queue looks free and the whole batch fails its capacity check."""
        for member_id, taken in self._placed.items():
            info = opened.by_member(member_id)
            if info is not None and taken:
                _count_open(opened, info, taken, seat_too=True)

    def add(self, decision: Decision) -> None:
        self.decisions[decision.lead_id] = decision
        winner, opened = decision.winner, decision.opened
        if winner is None or opened is None:
            return
        self._placed[winner.seat.member_id] += 1
        self.open_leads.add(winner.seat.member_id, +1)
        self._opened_a_lead(winner.seat.member_id, winner)
        if decision.account_key:
            self.sticky_owners[(opened.info.id, decision.account_key)] = winner.seat.member_id

    def _opened_a_lead(self, member_id: int, winner: SeatInfo) -> None:
        """Keep capacity right for this member's seats in every queue the batch holds."""
        for opened in self.queues.values():
            info = opened.by_member(member_id) if opened else None
            if opened is not None and info is not None:  # charging counted the winner's seat
                _count_open(opened, info, 1, seat_too=info.seat is not winner.seat)

    def finish(self) -> list[Message]:
        """Write ledgers, leads, assignments, owed messages and open counts, in the lock
        order of `bot.routing.assignment.locks`. The messages to hand over once committed
        (none unless the outbox is leased)."""
        connection = self.connection
        save_all(connection, [opened for opened in self.queues.values() if opened is not None], self.now)
        decided = [d for d in self.decisions.values() if not d.repeat]
        if fresh := [d for d in decided if not d.reoffer]:
            connection.execute(LEADS.insert(), [dict(id=d.lead_id, fields=d.fields, received_at=self.now,
                                                     **_lead_columns(d)) for d in fresh])
        if again := [d for d in decided if d.reoffer]:
            connection.execute(REOFFERED_LEAD, [dict(lead_id=d.lead_id, **_lead_columns(d)) for d in again])
        assigned = [d for d in decided if d.assignment is not None]
        if assigned:
            rows = [d.assignment for d in assigned if d.assignment is not None]
            inserted = connection.execute(INSERT_ASSIGNMENTS, rows)
            ids: dict[str, int] = {lead_id: assignment_id for lead_id, assignment_id in inserted}
            for decision in assigned:
                decision.assignment_id = ids[decision.lead_id]
        crm = owed.has_crm(self.team)
        for decision in decided:
            owed.owe(self.outbox, decision, webhook=self.webhook, crm=crm)
        self.open_leads.write(connection)
        check_capacity(connection, [d.winner for d in assigned if d.winner is not None])
        return self.outbox.flush(connection)


def _lead_columns(decision: Decision) -> dict[str, Any]:
    """What a decision sets on its lead's row (inserted when new, updated when re-offered)."""
    return dict(
        status=decision.status,
        queue=decision.queue,
        rule=decision.rule,
        reason=decision.reason,
        explanation=lead_explanation(decision.explanation, assigned=decision.assignment is not None),
        account_key=decision.account_key,
    )


def _count_open(opened: OpenQueue, info: SeatInfo, leads: int, *, seat_too: bool) -> None:
    """Add `leads` to what a seat knows of its member's open leads (eligibility reads the
    facts; the seat's own count is what the ledger shows). A member with a capacity may
    have just reached it, so the queue asks eligibility again."""
    info.facts = replace(info.facts, open_leads=info.facts.open_leads + leads)
    if seat_too:
        opened.rotation.count_open(info.seat, info.seat.open_leads + leads)
    if info.facts.capacity is not None:
        opened.facts_changed()

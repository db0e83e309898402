"""The one lock order of the core, and the atomic moves of an offer.

On PostgreSQL several replicas write at once, so every transaction that writes takes its
row locks in this order, and only in this order:

1. **queues**, in ascending id: every queue the transaction may write (a lead's queue and
   each queue it can fall back to), all at once, before anything else (`lock_queues`);
2. **the lead's rows**: the lead and its assignments (`move_offer`, `claim_waiting_lead`);
3. **members**, in ascending id: open-lead counts and pauses (`OpenLeads.write`).

Memberships are written only under their queue's lock, so they need no place of their
own. Two transactions that follow one order cannot wait on each other in a cycle; a
deadlock that still happens (a config apply, a fallback chain edited mid-flight) is
retried by `RoutingService` like any other race.

SQLite needs none of this: every write transaction takes the file's write lock first
(BEGIN IMMEDIATE, see `bot.store.db`), so these functions only add the state checks there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from bot.routing.ledger.queues import change_open_leads
from bot.store.models import Assignment, Lead, Queue, table_of

_QUEUES = table_of(Queue)
_ASSIGNMENTS = table_of(Assignment)
_LEADS = table_of(Lead)

def _lock_chains_statement() -> Any:
    """The named queues and, recursively, the queues they fall back to, locked in id order:
    one round trip (LockRows sits above the sort, so rows are locked in the order sorted)."""
    chain = (
        select(_QUEUES.c.id, _QUEUES.c.fallback)
        .where(_QUEUES.c.name.in_(bindparam("names", expanding=True)))
        .cte("chain", recursive=True)
    )
    fallen = _QUEUES.alias("fallen")
    chain = chain.union(select(fallen.c.id, fallen.c.fallback).join(chain, fallen.c.name == chain.c.fallback))
    return (
        select(_QUEUES.c.id)
        .where(_QUEUES.c.id.in_(select(chain.c.id)))
        .order_by(_QUEUES.c.id)
        .with_for_update(of=_QUEUES)
    )


_LOCK_CHAINS = _lock_chains_statement()


def takes_row_locks(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def lock_queues(connection: Connection, names: Iterable[str]) -> None:
    """Lock the named queues and every queue they fall back to, in ascending id (step 1).

    Locking the whole fallback chain up front is what keeps the order one: a queue that is
    only reached by falling back would otherwise be locked after queues with higher ids.
    """
    wanted = sorted(set(names))
    if wanted and takes_row_locks(connection):
        connection.execute(_LOCK_CHAINS, {"names": wanted}).all()


def lock_all_queues(connection: Connection) -> None:
    """Step 1 for a transaction that may write any queue (a config apply, a period reset)."""
    if takes_row_locks(connection):
        connection.execute(_QUEUES.select().with_only_columns(_QUEUES.c.id)
                           .order_by(_QUEUES.c.id).with_for_update()).all()


@dataclass(frozen=True, slots=True)
class MovedOffer:
    """An offer that this transaction moved out of `offered` (step 2 done)."""

    id: int
    lead_id: str
    member_id: int
    queue_id: int
    membership_id: int
    period_key: str
    hop: int
    assigned_at: datetime


_MOVE_OFFER = (
    update(_ASSIGNMENTS)
    .where(_ASSIGNMENTS.c.id == bindparam("assignment_id"), _ASSIGNMENTS.c.state == "offered")
    .returning(
        _ASSIGNMENTS.c.id,
        _ASSIGNMENTS.c.lead_id,
        _ASSIGNMENTS.c.member_id,
        _ASSIGNMENTS.c.queue_id,
        _ASSIGNMENTS.c.membership_id,
        _ASSIGNMENTS.c.period_key,
        _ASSIGNMENTS.c.hop,
        _ASSIGNMENTS.c.assigned_at,
    )
)


def move_offer(
    connection: Connection, assignment_id: int, state: str, now: datetime
) -> MovedOffer | None:
    """Move an offer from `offered` to `state` in one statement; None if it was not offered.

    The UPDATE's own WHERE is the check: of two clicks at the same moment, the second
    waits for the first's row lock, then finds the state changed and updates nothing, so
    exactly one of them goes on to credit, re-offer or count.
    """
    moment = {"accepted_at": now} if state == "accepted" else {"closed_at": now}
    row = connection.execute(
        _MOVE_OFFER.values(state=state, **moment), {"assignment_id": assignment_id}
    ).first()
    return None if row is None else MovedOffer(*row)


_CLAIM_WAITING = (
    select(_LEADS.c.id)
    .where(_LEADS.c.id == bindparam("lead_id"), _LEADS.c.status == "unassigned")
    .with_for_update()
)


def claim_waiting_lead(connection: Connection, lead_id: str) -> bool:
    """Lock a waiting lead (step 2); False if it is no longer waiting.

    Two replicas assigning pending leads at once both read it as waiting; the second
    waits here for the first and then finds it assigned.
    """
    return connection.execute(_CLAIM_WAITING, {"lead_id": lead_id}).first() is not None


class OpenLeads:
    """The open-lead counts a transaction changes, written together in ascending member
    id (step 3), so two transactions touching the same members lock them in one order."""

    def __init__(self) -> None:
        self._deltas: Counter[int] = Counter()

    def add(self, member_id: int, delta: int) -> None:
        self._deltas[member_id] += delta

    def __bool__(self) -> bool:
        return any(self._deltas.values())

    def write(self, connection: Connection) -> None:
        """One statement for all: its rows run in the order given, ascending member id."""
        moved = [(member_id, delta) for member_id, delta in sorted(self._deltas.items()) if delta]
        if moved:
            change_open_leads(connection, moved)
        self._deltas.clear()

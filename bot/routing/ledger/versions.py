"""A queue's version, and the guard that moves it on every write a kept ledger depends on.

A ledger kept in memory (`bot.routing.ledger.cache`) is good while its queue's version is
the one it was saved at. `queues.save` moves its own queue's version. Every other write to
what a ledger holds has many writers (a pause, a leave, a Slack status, a calibration, a
person added, a config applied, and whatever comes next) in several rooms, and one that
forgot to move the version would leave every replica routing on stale facts without a
sign. So that rule is kept where every write passes: a listener on every SQLAlchemy engine
looks at each INSERT, UPDATE and DELETE before it runs, and when it writes a member's
facts, a seat, a leave or a queue's settings, its transaction moves every queue's
version, once, locking the queues first in ascending id (step 1 of
`bot.routing.assignment.locks`).

Left out: statements marked `exempt` (a seat's save, under its queue's own move); a
member's open-lead count (not versioned: the cache reads it again where it matters);
member columns no ledger reads (email, status override, calendar URL).

A version moves by a random step, not by one, so that a transaction which saved and then
rolled back (its ledger already kept in memory, at the version it expected) cannot meet
that same number written by someone else: its copy would look current and be wrong.
"""

from __future__ import annotations

import random
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Connection, Engine, bindparam, cast, event, select, update
from sqlalchemy.sql.dml import Delete, Insert, Update, UpdateBase

from bot.store.models import Queue, table_of

S = TypeVar("S", bound=UpdateBase)
VERSION_MODULUS = 2**31 - 1  # stays an INTEGER on PostgreSQL
_QUEUES = table_of(Queue)
NEXT_VERSION = (cast(_QUEUES.c.version, BigInteger) + bindparam("step", type_=BigInteger)) % VERSION_MODULUS

# What a ledger reads of a member (see `queues._SEATS`): writing anything else changes nothing.
MEMBER_FACTS = frozenset({
    "slack_id", "name", "timezone", "active", "paused_at", "paused_until", "pause_reason",
    "status_paused_until", "capacity", "working_hours", "in_config",
})
GUARDED_TABLES = frozenset({"members", "memberships", "leaves"})

_LOCK_ALL = select(_QUEUES.c.id).order_by(_QUEUES.c.id).with_for_update()
_MOVE_ALL = update(_QUEUES).values(version=NEXT_VERSION)
_MOVE_SOME = (
    update(_QUEUES)
    .where(_QUEUES.c.id.in_(bindparam("queue_ids", expanding=True)))
    .values(version=NEXT_VERSION)
)
_MOVED_IN = "ledger_versions_moved_in"  # connection.info: the transaction that moved them all
_exempt: set[int] = set()


def version_step() -> int:
    return random.randrange(2, VERSION_MODULUS)


def exempt(statement: S) -> S:
    """Mark a statement built once at import as covered by its own version move."""
    _exempt.add(id(statement))
    return statement


def bump_versions(connection: Connection, queue_ids: list[int]) -> None:
    """Move these queues' versions (the caller holds their locks)."""
    if queue_ids:
        connection.execute(_MOVE_SOME, {"queue_ids": sorted(set(queue_ids)), "step": version_step()})


def moves_ledgers(statement: Any, multiparams: Any, params: Any) -> bool:
    """Whether this statement writes something a kept ledger holds."""
    if not isinstance(statement, UpdateBase) or id(statement) in _exempt:
        return False
    name = getattr(getattr(statement, "table", None), "name", None)
    if name == "queues":  # a queue's settings; not a new queue, nor a move of versions
        written = _written_columns(statement, multiparams, params)
        return isinstance(statement, Update) and "version" not in written
    if name not in GUARDED_TABLES:
        return False
    if name != "members" or isinstance(statement, (Insert, Delete)):
        return True
    return bool(_written_columns(statement, multiparams, params) & MEMBER_FACTS)


def _written_columns(statement: UpdateBase, multiparams: Any, params: Any) -> set[str]:
    values = getattr(statement, "_values", None) or {}
    columns = {str(getattr(key, "key", key)) for key in values}
    for given in (params, *(multiparams or ())):
        rows = given if isinstance(given, (list, tuple)) else [given]
        for row in rows:
            if isinstance(row, dict):
                columns.update(str(key) for key in row)
    return columns


def move_all_versions(connection: Connection) -> None:
    """Lock every queue in id order and move every version, once per transaction."""
    transaction = connection.get_transaction()
    if transaction is not None and connection.info.get(_MOVED_IN) is transaction:
        return
    connection.info[_MOVED_IN] = transaction
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK_ALL).all()
    connection.execute(_MOVE_ALL, {"step": version_step()})


def _before_execute(
    connection: Connection, statement: Any, multiparams: Any, params: Any, execution_options: Any
) -> None:
    if moves_ledgers(statement, multiparams, params):
        move_all_versions(connection)


event.listen(Engine, "before_execute", _before_execute)

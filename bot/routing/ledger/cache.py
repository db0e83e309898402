"""Each queue's ledger kept in memory between transactions, for as long as it is current.

Reading a queue's every seat (its weights, lags, its members' pauses, leaves and hours)
is what made a lead cost ten times more in a team of 1,000 than in a team of 10. A
`LedgerCache` keeps the ledger a transaction saved, and the next routing transaction of
the queue uses it when nothing changed since:

- it reads the queue row anyway (on PostgreSQL after taking the queue's lock, FOR UPDATE),
  and with it the queue's `version`; the kept ledger is used only if it was saved at that
  very version and under the same team settings (`config_version`, timezone, period);
- every write to a queue's seats, its members' facts or its leaves moves the version:
  `queues.save` its own queue's, and any other such write every queue's, by itself
  (`bot.routing.ledger.versions`); a config apply also moves the team's
  `config_version`. Several replicas share a PostgreSQL database: a replica whose ledger
  is behind reads the queue again;
- a ledger is taken out while a transaction uses it and goes back only when `save` writes
  it, at the version written (a random step, so a save that rolled back cannot meet its
  own number written by someone else): if the transaction rolls back, the database still
  says the old version and the kept ledger is never used;
- open-lead counts change with every lead of every queue a member is in, so they are not
  versioned: each transaction reads them again for the seats whose eligibility or rank
  they decide (members with a capacity; every seat of a queue whose strategy
  `ranks_by_open_leads`, such as `load_balance`).

Readers that do not write (standings, previews, reports) read the database as before.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select

from bot.routing.fairness import strategy_named
from bot.routing.ledger.queues import OpenQueue, load_ledger, queue_rows, start_period_if_due
from bot.routing.team import TeamSettings
from bot.store.models import Member, Membership

_MANY_OPEN_LEADS = (  # every seat of the first queues, the capped seats of the others
    select(Member.id, Member.open_leads)
    .join(Membership, Membership.member_id == Member.id)
    .where(
        Membership.in_config.is_(True),
        or_(
            Membership.queue_id.in_(bindparam("every", expanding=True)),
            and_(Membership.queue_id.in_(bindparam("capped", expanding=True)), Member.capacity.is_not(None)),
        ),
    )
)


@dataclass(frozen=True, slots=True)
class _Kept:
    version: int
    team: tuple[Any, ...]
    opened: OpenQueue


def team_key(team: TeamSettings) -> tuple[Any, ...]:
    """What a ledger read under these settings depends on, beyond its queue's own rows."""
    return (team.config_version, team.timezone, team.period)


class LedgerCache:
    """One per process (per `Router`): the ledgers its routing transactions saved."""

    def __init__(self) -> None:
        self._kept: dict[int, _Kept] = {}
        self._lock = threading.Lock()  # SQLite runs transactions in worker threads
        self._engine: object | None = None
        self.reads = 0  # ledgers read from the database (for tests and the benchmark)
        self.reuses = 0  # ledgers used as kept

    def open(self, connection: Connection, name: str, team: TeamSettings, now: datetime) -> OpenQueue | None:
        """The queue's ledger, locked for writing: the kept one if it is current, else read."""
        return self.open_many(connection, {name}, team, now)[name]

    def open_many(self, connection: Connection, names: set[str], team: TeamSettings,
                  now: datetime) -> dict[str, OpenQueue | None]:
        """`open` for several queues, with one statement for their rows and one for the
        open-lead counts of all the kept ones (a batch of leads over a team's queues)."""
        rows = queue_rows(connection, names)
        opened: dict[str, OpenQueue | None] = dict.fromkeys(names)
        reused = []
        for name, row in rows.items():
            ledger, kept = self._open_row(connection, row, team, now)
            opened[name] = ledger
            if kept:
                reused.append(ledger)
        _read_many_open_leads(connection, reused)
        for name, found in opened.items():
            if found is not None:
                opened[name] = start_period_if_due(connection, found, team, now)
        return opened

    def _open_row(self, connection: Connection, row: Any, team: TeamSettings,
                  now: datetime) -> tuple[OpenQueue, bool]:
        """The ledger of the queue `row` (read under its lock): kept (True) or read."""
        key = team_key(team)
        kept = self._take(connection, row.id)
        if kept is not None and kept.version == row.version and kept.team == key:
            opened = kept.opened
            self.reuses += 1
        else:
            opened = load_ledger(connection, row, team, now)
            self.reads += 1
        opened.home, opened.team_key = self, key
        return opened, kept is not None and opened is kept.opened

    def keep(self, connection: Connection, opened: OpenQueue) -> None:
        """Called by `save`: the ledger as written, at the version written."""
        with self._lock:
            if self._engine is connection.engine:
                self._kept[opened.info.id] = _Kept(opened.version, opened.team_key, opened)

    def forget(self) -> None:
        with self._lock:
            self._kept.clear()

    def _take(self, connection: Connection, queue_id: int) -> _Kept | None:
        with self._lock:
            if self._engine is not connection.engine:  # another database: nothing kept holds
                self._kept.clear()
                self._engine = connection.engine
            return self._kept.pop(queue_id, None)


def _read_many_open_leads(connection: Connection, queues: list[OpenQueue]) -> None:
    """Bring the open-lead counts that matter to these queues up to date (other queues' leads
    and accepts move them without moving these queues' versions)."""
    every = [o.info.id for o in queues if strategy_named(o.info.strategy).ranks_by_open_leads]
    capped = [o.info.id for o in queues if o.info.id not in every and o.capped]
    if not every and not capped:
        return
    counts = dict(connection.execute(_MANY_OPEN_LEADS, {"every": every, "capped": capped}).all())
    for opened in queues:
        _update_open_leads(opened, counts)


def _update_open_leads(opened: OpenQueue, counts: dict[int, int]) -> None:
    moved = False
    for info in opened.seats:
        count = counts.get(info.seat.member_id)
        if count is not None and count != info.facts.open_leads:
            info.facts.open_leads = count
            opened.rotation.count_open(info.seat, count)
            moved = True
    if moved:
        opened.facts_changed()

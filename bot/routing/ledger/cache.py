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
  they decide (members with a capacity; every seat of a `load_balance` queue).

Readers that do not write (standings, previews, reports) read the database as before.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from bot.routing.ledger.queues import OpenQueue, load_ledger, queue_row, start_period_if_due
from bot.routing.team import TeamSettings
from bot.store.models import Member, Membership

_OPEN_LEADS = (
    select(Member.id, Member.open_leads)
    .join(Membership, Membership.member_id == Member.id)
    .where(Membership.queue_id == bindparam("queue_id"), Membership.in_config.is_(True))
)
_CAPPED_OPEN_LEADS = _OPEN_LEADS.where(Member.capacity.is_not(None))


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
        row = queue_row(connection, name, lock=True)
        if row is None:
            return None
        key = team_key(team)
        kept = self._take(connection, row.id)
        if kept is not None and kept.version == row.version and kept.team == key:
            opened = kept.opened
            self.reuses += 1
            _read_open_leads(connection, opened)
        else:
            opened = load_ledger(connection, row, team, now)
            self.reads += 1
        opened.home, opened.team_key = self, key
        return start_period_if_due(connection, opened, team, now)

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


def _read_open_leads(connection: Connection, opened: OpenQueue) -> None:
    """Bring the open-lead counts that matter to this queue up to date (other queues' leads
    and accepts move them without moving this queue's version)."""
    every = opened.info.strategy == "load_balance"
    if not every and not opened.capped:
        return
    counts = dict(
        connection.execute(_OPEN_LEADS if every else _CAPPED_OPEN_LEADS, {"queue_id": opened.info.id}).all()
    )
    moved = False
    for info in opened.seats:
        count = counts.get(info.seat.member_id)
        if count is not None and count != info.facts.open_leads:
            info.facts.open_leads = info.seat.open_leads = count
            moved = True
    if moved:
        opened.facts_changed()

"""Reading and writing one queue's ledger with a handful of Core statements.

`open_queue` locks the queue (FOR UPDATE on PostgreSQL; SQLite already holds the write
lock from BEGIN IMMEDIATE), starts a new period when one is due, and loads every seat
with the facts that decide eligibility (and each member's leave to come), in two queries.
`save` writes back only what moved, and gives the queue a new `version`: a ledger kept in
memory between transactions (`bot.routing.ledger.cache`) is good only while the version
it was read at is the database's.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, bindparam, func, select, update

from bot.routing import audit
from bot.routing.availability.eligibility import Availability, Leave, on_leave_until, unavailable_reason
from bot.routing.errors import CapacityTaken
from bot.routing.fairness import Rotation, Seat
from bot.routing.ledger.eligible_now import EligibleNow, eligible_now
from bot.routing.ledger.periods import period_key
from bot.routing.ledger.versions import NEXT_VERSION, exempt, version_step
from bot.routing.ledger.versions import bump_versions as bump_versions  # for writers of seats
from bot.routing.team import TeamSettings
from bot.store.models import Leave as LeaveRow
from bot.store.models import Member, Membership, Queue, table_of

if TYPE_CHECKING:
    from bot.routing.ledger.cache import LedgerCache


@dataclass(slots=True)
class QueueInfo:
    id: int
    name: str
    channel: str | None
    strategy: str
    sla_minutes: int | None
    fallback: str | None
    respect_working_hours: bool
    sticky: str | None
    period_key: str
    in_config: bool


@dataclass(slots=True)
class SeatInfo:
    """A seat's ledger entry (`Seat`) with its member's facts, as a routing transaction reads them."""

    seat: Seat
    slack_id: str
    name: str
    timezone: str
    facts: Availability
    weight_text: str
    leaves: tuple[Leave, ...] = ()  # under way or to come, when the seat was read

    def reason(self, now: datetime, respect_hours: bool) -> str | None:
        return unavailable_reason(self.facts, now, respect_hours=respect_hours)


@dataclass(slots=True)
class OpenQueue:
    """A queue's ledger in memory: its settings, its rotation clock and every seat."""

    info: QueueInfo
    rotation: Rotation
    seats: list[SeatInfo]
    version: int = 0  # the queue's version this ledger is at (see `save`)
    home: LedgerCache | None = field(default=None, repr=False)  # where it goes back when saved
    eligible: EligibleNow | None = field(default=None, repr=False)  # kept until it may change
    team_key: tuple[Any, ...] = ()  # the team settings it was read under (see the cache)
    capped: bool = False  # whether any seat's member has a capacity
    _members: dict[int, SeatInfo] | None = field(default=None, repr=False)
    _seat_ids: dict[int, SeatInfo] | None = field(default=None, repr=False)

    def eligible_now(self, now: datetime) -> EligibleNow:
        """Who may take a lead at `now`, recomputed only when a seat's answer may have moved
        (see `bot.routing.ledger.eligible_now`)."""
        known = self.eligible
        if known is None or not known.holds_at(now):
            known = self.eligible = eligible_now(self.seats, now, self.info.respect_working_hours)
        return known

    def facts_changed(self) -> None:
        """A seat's facts changed in memory (an open lead counted): eligibility is asked again."""
        self.eligible = None

    def by_member(self, member_id: int) -> SeatInfo | None:
        """The member's seat in this queue (one at most), found without a walk of the seats."""
        if self._members is None:
            self._members = {s.seat.member_id: s for s in self.seats}
        return self._members.get(member_id)

    def by_seat_id(self, seat_id: int) -> SeatInfo:
        if self._seat_ids is None:
            self._seat_ids = {s.seat.id: s for s in self.seats}
        return self._seat_ids[seat_id]

    def by_slack_id(self, slack_id: str) -> SeatInfo | None:
        return next((s for s in self.seats if s.slack_id == slack_id), None)


# The hot path's statements are built once; each call only binds its values.
_QUEUE = select(
    Queue.id,
    Queue.name,
    Queue.channel,
    Queue.strategy,
    Queue.sla_minutes,
    Queue.fallback,
    Queue.respect_working_hours,
    Queue.sticky,
    Queue.period_key,
    Queue.in_config,
    Queue.vtime,
    Queue.seq,
    Queue.version,
)
_QUEUE_BY_NAME = _QUEUE.where(Queue.name == bindparam("name"))
_QUEUE_BY_NAME_LOCKED = _QUEUE_BY_NAME.with_for_update()
_QUEUES_BY_NAME_LOCKED = _QUEUE.where(Queue.name.in_(bindparam("names", expanding=True))).with_for_update()
_SEATS = (
    select(
        Membership.id,
        Membership.member_id,
        Membership.weight,
        Membership.weight_text,
        Membership.lag_base,
        Membership.vtime_base,
        Membership.frozen,
        Membership.received,
        Membership.adjustment,
        Membership.last_seq,
        Membership.active,
        Member.slack_id,
        Member.name,
        Member.timezone,
        Member.active.label("member_active"),
        Member.paused_at,
        Member.paused_until,
        Member.pause_reason,
        Member.status_paused_until,
        Member.open_leads,
        Member.capacity,
        Member.working_hours,
    )
    .join(Member, Member.id == Membership.member_id)
    .where(Membership.queue_id == bindparam("queue_id"), Membership.in_config.is_(True))
    .order_by(Membership.id)
)
_LEAVES = (
    select(LeaveRow.member_id, LeaveRow.pause_from, LeaveRow.resume_at)
    .join(Membership, Membership.member_id == LeaveRow.member_id)
    .where(
        Membership.queue_id == bindparam("queue_id"),
        Membership.in_config.is_(True),
        LeaveRow.cancelled_at.is_(None),
        LeaveRow.resume_at > bindparam("now", type_=LeaveRow.resume_at.type),
    )
    .order_by(LeaveRow.member_id, LeaveRow.pause_from)
)
_SAVE_SEAT = exempt(
    update(table_of(Membership))
    .where(table_of(Membership).c.id == bindparam("seat_id"))
    .values(
        weight=bindparam("new_weight"),
        lag_base=bindparam("new_lag"),
        vtime_base=bindparam("new_vtime"),
        frozen=bindparam("new_frozen"),
        received=bindparam("new_received"),
        adjustment=bindparam("new_adjustment"),
        last_seq=bindparam("new_last_seq"),
    )
)
_SAVE_QUEUES = (
    update(table_of(Queue))
    .where(table_of(Queue).c.id == bindparam("queue_id"))
    .values(
        vtime=bindparam("new_vtime"),
        seq=bindparam("new_seq"),
        period_key=bindparam("new_period"),
        version=NEXT_VERSION,
    )
)
_SAVE_QUEUE = _SAVE_QUEUES.returning(table_of(Queue).c.version)
_MEMBERS = table_of(Member)
_OPEN_LEADS = {
    "sqlite": update(_MEMBERS)
    .where(_MEMBERS.c.id == bindparam("member_id"))
    .values(open_leads=func.max(_MEMBERS.c.open_leads + bindparam("delta"), 0)),
    "postgresql": update(_MEMBERS)
    .where(_MEMBERS.c.id == bindparam("member_id"))
    .values(open_leads=func.greatest(_MEMBERS.c.open_leads + bindparam("delta"), 0)),
}


def open_queue(
    connection: Connection, name: str, team: TeamSettings, now: datetime, *, lock: bool = True
) -> OpenQueue | None:
    """The queue's ledger read from the database, locked for writing unless `lock` is False."""
    row = queue_row(connection, name, lock=lock)
    if row is None:
        return None
    return start_period_if_due(connection, load_ledger(connection, row, team, now), team, now)


def queue_row(connection: Connection, name: str, *, lock: bool = True) -> Any:
    """The queue's settings, clock and version (FOR UPDATE on PostgreSQL when `lock`)."""
    locked = lock and connection.dialect.name == "postgresql"
    return connection.execute(_QUEUE_BY_NAME_LOCKED if locked else _QUEUE_BY_NAME, {"name": name}).first()


def queue_rows(connection: Connection, names: Collection[str]) -> dict[str, Any]:
    """`queue_row` for several queues at once, locked: one statement (the caller has taken the
    queues' locks in their one order already, `bot.routing.assignment.locks`). One name, the
    common case of a re-offer, takes the prebuilt statement for one row."""
    if len(names) == 1:
        row = queue_row(connection, next(iter(names)))
        return {} if row is None else {row.name: row}
    rows = connection.execute(_QUEUES_BY_NAME_LOCKED, {"names": list(names)})  # SQLite has no FOR UPDATE
    return {row.name: row for row in rows}


def load_ledger(connection: Connection, row: Any, team: TeamSettings, now: datetime) -> OpenQueue:
    """Every seat of the queue `row` names, with its facts and its member's leaves."""
    info = QueueInfo(*row[:10])
    rotation = Rotation(vtime=row.vtime, seq=row.seq)
    seats = _load_seats(connection, info.id, team, now)
    rotation.seats = {s.seat.id: s.seat for s in seats}
    capped = any(s.facts.capacity is not None for s in seats)
    return OpenQueue(info, rotation, seats, version=row.version, capped=capped)


def start_period_if_due(connection: Connection, opened: OpenQueue, team: TeamSettings,
                        now: datetime) -> OpenQueue:
    current = period_key(now, team.timezone, team.period)
    if opened.info.period_key != current:
        _start_period(connection, opened.info, opened.rotation, current, now)
    return opened


def _load_seats(connection: Connection, queue_id: int, team: TeamSettings, now: datetime) -> list[SeatInfo]:
    params = {"queue_id": queue_id, "now": now}
    leaves: dict[int, list[Leave]] = {}
    for member_id, pause_from, resume_at in connection.execute(_LEAVES, params):
        leaves.setdefault(member_id, []).append((pause_from, resume_at))
    seats = []
    for (
        seat_id,
        member_id,
        weight,
        weight_text,
        lag_base,
        vtime_base,
        frozen,
        received,
        adjustment,
        last_seq,
        seat_active,
        slack_id,
        name,
        member_tz,
        member_active,
        paused_at,
        paused_until,
        pause_reason,
        status_paused_until,
        open_leads,
        capacity,
        working_hours,
    ) in connection.execute(_SEATS, {"queue_id": queue_id}).all():  # plain tuples: this loop is hot
        timezone = member_tz or team.timezone
        seat = Seat(
            seat_id,
            member_id,
            weight,
            lag_base,
            vtime_base,
            frozen,
            received,
            adjustment,
            last_seq,
            open_leads,
            capacity,
        )
        own = tuple(leaves.get(member_id, ()))
        facts = Availability(
            member_active,
            seat_active,
            paused_at,
            paused_until,
            pause_reason,
            status_paused_until,
            on_leave_until(own, now) if own else None,
            open_leads,
            capacity,
            working_hours,
            timezone,
        )
        seats.append(SeatInfo(seat, slack_id, name, timezone, facts, weight_text, own))
    return seats


def _start_period(
    connection: Connection, info: QueueInfo, rotation: Rotation, new_key: str, now: datetime
) -> None:
    """Counts, adjustments and lags start again; the closed period stays in the history."""
    if info.period_key:
        audit.record(connection, now, "system", "period_reset", queue_id=info.id, period_key=info.period_key,
                     note=f"period {info.period_key} closed, {new_key} began",
                     details={"closed": info.period_key, "opened": new_key})
    rotation.reset()
    info.period_key = new_key


def save(connection: Connection, opened: OpenQueue, now: datetime) -> None:
    """Write the queue clock and every seat that moved, and move the queue's version.

    A ledger from a `LedgerCache` goes back to it here, at the version just written: if
    this transaction commits, the next one finds it current; if not, the database keeps the
    old version and the next one reads the queue again.
    """
    _save_seats(connection, opened.rotation.dirty_seats())
    opened.version = connection.execute(_SAVE_QUEUE, _queue_values(opened)).scalar_one()
    _keep(connection, opened)


_VERSIONS = select(Queue.id, Queue.version).where(Queue.id.in_(bindparam("queue_ids", expanding=True)))


def save_all(connection: Connection, queues: list[OpenQueue], now: datetime) -> None:
    """`save` for every queue a transaction opened, with a statement each for the seats, the
    queues and reading back their versions, however many queues (a batch of leads spread
    over a team's queues touches most of them)."""
    if len(queues) <= 1:
        for opened in queues:
            save(connection, opened, now)
        return
    _save_seats(connection, [seat for opened in queues for seat in opened.rotation.dirty_seats()])
    in_lock_order = sorted(queues, key=lambda o: o.info.id)
    connection.execute(_SAVE_QUEUES, [_queue_values(o) for o in in_lock_order])
    versions = dict(connection.execute(_VERSIONS, {"queue_ids": [o.info.id for o in queues]}).all())
    for opened in queues:
        opened.version = versions[opened.info.id]
        _keep(connection, opened)


def _save_seats(connection: Connection, dirty: list[Seat]) -> None:
    if dirty:
        connection.execute(_SAVE_SEAT, [_seat_values(seat) for seat in dirty])
        for seat in dirty:
            seat.dirty = False


def _queue_values(opened: OpenQueue) -> dict[str, Any]:
    """The queue row's new clock and period, and a random step for its version (see `LedgerCache`)."""
    return dict(queue_id=opened.info.id, new_vtime=opened.rotation.vtime, new_seq=opened.rotation.seq,
                new_period=opened.info.period_key, step=version_step())


def _keep(connection: Connection, opened: OpenQueue) -> None:
    """The saved ledger back to its cache, at the version just written."""
    if opened.home is not None:
        opened.home.keep(connection, opened)


def _seat_values(seat: Seat) -> dict[str, Any]:
    return dict(
        seat_id=seat.id,
        new_weight=seat.weight,
        new_lag=seat.lag_base,
        new_vtime=seat.vtime_base,
        new_frozen=seat.frozen,
        new_received=seat.received,
        new_adjustment=seat.adjustment,
        new_last_seq=seat.last_seq,
    )


def change_open_leads(connection: Connection, deltas: list[tuple[int, int]]) -> None:
    """Add each (member id, delta) to the member's open leads, never below zero, in the order given."""
    connection.execute(_OPEN_LEADS[connection.dialect.name],
                       [{"member_id": member_id, "delta": delta} for member_id, delta in deltas])


_OVER_CAPACITY = select(_MEMBERS.c.id).where(
    _MEMBERS.c.id.in_(bindparam("member_ids", expanding=True)),
    _MEMBERS.c.capacity.is_not(None),
    _MEMBERS.c.open_leads > _MEMBERS.c.capacity,
)


def check_capacity(connection: Connection, winners: list[SeatInfo]) -> None:
    """After counting new leads against `winners`: raise CapacityTaken if any is now over.

    Only members with a capacity are checked, so queues without one pay nothing. The
    count was raised by an UPDATE, which waits for any other transaction holding the row,
    so the total read here includes leads committed elsewhere since our read.
    """
    capped = sorted({w.seat.member_id for w in winners if w.facts.capacity is not None})
    if capped and connection.execute(_OVER_CAPACITY, {"member_ids": capped}).first() is not None:
        raise CapacityTaken()


def eligible_seats(
    opened: OpenQueue, now: datetime, exclude_members: frozenset[int] = frozenset()
) -> tuple[list[SeatInfo], dict[int, str]]:
    """The seats that may take a lead now, and the reason for each that may not (lists of
    their own: the caller may change them)."""
    known = eligible_now(opened.seats, now, opened.info.respect_working_hours)
    if not exclude_members:
        return list(known.seats), dict(known.excluded)
    return known.without_members(opened.seats, exclude_members)


def sticky_owner(connection: Connection, queue_id: int, account_key: str) -> int | None:
    """The member holding the account in the queue now, if anyone does."""
    return connection.execute(_STICKY_OWNER, {"queue_id": queue_id, "account_key": account_key}).scalar()


def sticky_owners(connection: Connection, queue_id: int, account_keys: list[str]) -> dict[str, int]:
    """`sticky_owner` for several accounts in one query."""
    owners: dict[str, int] = {}
    rows = connection.execute(_STICKY_OWNERS, {"queue_id": queue_id, "account_keys": account_keys})
    for key, member_id in rows:  # oldest first, so the latest offer of each account wins
        owners[key] = member_id
    return owners


def _sticky_owner_statement() -> Any:
    from bot.store.models import Assignment

    return (
        select(Assignment.member_id)
        .where(
            and_(
                Assignment.queue_id == bindparam("queue_id"),
                Assignment.account_key == bindparam("account_key"),
                Assignment.state.in_(("offered", "accepted")),
            )
        )
        .order_by(Assignment.id.desc())
        .limit(1)
    )


def _sticky_owners_statement() -> Any:
    from bot.store.models import Assignment

    return (
        select(Assignment.account_key, Assignment.member_id)
        .where(
            Assignment.queue_id == bindparam("queue_id"),
            Assignment.account_key.in_(bindparam("account_keys", expanding=True)),
            Assignment.state.in_(("offered", "accepted")),
        )
        .order_by(Assignment.id)
    )


_STICKY_OWNER = _sticky_owner_statement()
_STICKY_OWNERS = _sticky_owners_statement()

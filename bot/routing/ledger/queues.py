"""Reading and writing one queue's ledger with a handful of Core statements.

`open_queue` locks the queue (FOR UPDATE on PostgreSQL; SQLite already holds the write
lock from BEGIN IMMEDIATE), starts a new period when one is due, and loads every seat
with the facts that decide eligibility, in one query. `save` writes back only what moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, update

from bot.routing import audit
from bot.routing.availability.eligibility import Availability, unavailable_reason
from bot.routing.errors import CapacityTaken
from bot.routing.fairness import Rotation, Seat
from bot.routing.ledger.periods import period_key
from bot.routing.team import TeamSettings
from bot.store.models import Leave, Member, Membership, Queue, table_of


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
    seat: Seat
    slack_id: str
    name: str
    timezone: str
    facts: Availability
    weight_text: str

    def reason(self, now: datetime, respect_hours: bool) -> str | None:
        return unavailable_reason(self.facts, now, respect_hours=respect_hours)


@dataclass(slots=True)
class OpenQueue:
    info: QueueInfo
    rotation: Rotation
    seats: list[SeatInfo]

    def by_member(self, member_id: int) -> SeatInfo | None:
        return next((s for s in self.seats if s.seat.member_id == member_id), None)

    def by_slack_id(self, slack_id: str) -> SeatInfo | None:
        return next((s for s in self.seats if s.slack_id == slack_id), None)


# The hot path's statements are built once; each call only binds its values.
_QUEUE_BY_NAME = select(
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
).where(Queue.name == bindparam("name"))
_QUEUE_BY_NAME_LOCKED = _QUEUE_BY_NAME.with_for_update()
_ON_LEAVE_UNTIL = (
    select(func.max(Leave.resume_at))
    .where(
        Leave.member_id == Member.id,
        Leave.cancelled_at.is_(None),
        Leave.pause_from <= bindparam("now", type_=Leave.pause_from.type),
        Leave.resume_at > bindparam("now", type_=Leave.resume_at.type),
    )
    .scalar_subquery()
)
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
        _ON_LEAVE_UNTIL.label("on_leave_until"),
    )
    .join(Member, Member.id == Membership.member_id)
    .where(Membership.queue_id == bindparam("queue_id"), Membership.in_config.is_(True))
    .order_by(Membership.id)
)
_SAVE_SEAT = (
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
_SAVE_QUEUE = (
    update(table_of(Queue))
    .where(table_of(Queue).c.id == bindparam("queue_id"))
    .values(
        vtime=bindparam("new_vtime"),
        seq=bindparam("new_seq"),
        period_key=bindparam("new_period"),
        version=table_of(Queue).c.version + 1,
    )
)
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
    locked = lock and connection.dialect.name == "postgresql"
    row = connection.execute(_QUEUE_BY_NAME_LOCKED if locked else _QUEUE_BY_NAME, {"name": name}).first()
    if row is None:
        return None
    info = QueueInfo(*row[:10])
    rotation = Rotation(vtime=row.vtime, seq=row.seq)
    seats = _load_seats(connection, info.id, team, now)
    rotation.seats = {s.seat.id: s.seat for s in seats}
    current = period_key(now, team.timezone, team.period)
    if info.period_key != current:
        _start_period(connection, info, rotation, current, now)
    return OpenQueue(info, rotation, seats)


def _load_seats(connection: Connection, queue_id: int, team: TeamSettings, now: datetime) -> list[SeatInfo]:
    query = _SEATS
    params = {"queue_id": queue_id, "now": now}
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
        on_leave_until,
    ) in connection.execute(query, params).all():  # plain tuples: this loop is hot
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
        facts = Availability(
            member_active,
            seat_active,
            paused_at,
            paused_until,
            pause_reason,
            status_paused_until,
            _aware(on_leave_until),
            open_leads,
            capacity,
            working_hours,
            timezone,
        )
        seats.append(SeatInfo(seat, slack_id, name, timezone, facts, weight_text))
    return seats


def _aware(value: Any) -> datetime | None:
    """Aggregates bypass the column type, so SQLite hands back a string or naive value."""
    from bot.store.types import UTCDateTime

    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return UTCDateTime().process_result_value(value, None)  # type: ignore[arg-type]


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
    """Write the queue clock and every seat that moved."""
    rotation, info = opened.rotation, opened.info
    dirty = [seat for seat in rotation.seats.values() if seat.dirty]
    if dirty:
        connection.execute(
            _SAVE_SEAT,
            [
                dict(
                    seat_id=s.id,
                    new_weight=s.weight,
                    new_lag=s.lag_base,
                    new_vtime=s.vtime_base,
                    new_frozen=s.frozen,
                    new_received=s.received,
                    new_adjustment=s.adjustment,
                    new_last_seq=s.last_seq,
                )
                for s in dirty
            ],
        )
        for seat in dirty:
            seat.dirty = False
    connection.execute(
        _SAVE_QUEUE,
        dict(queue_id=info.id, new_vtime=rotation.vtime, new_seq=rotation.seq, new_period=info.period_key),
    )


def change_open_leads(connection: Connection, member_id: int, delta: int) -> None:
    connection.execute(_OPEN_LEADS[connection.dialect.name], {"member_id": member_id, "delta": delta})


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
    """The seats that may take a lead now, and the reason for each that may not."""
    eligible, excluded = [], {}
    for info in opened.seats:
        reason = info.reason(now, opened.info.respect_working_hours)
        if reason is None and info.seat.member_id in exclude_members:
            reason = "offered this lead already"
        if reason is None:
            eligible.append(info)
        else:
            excluded[info.seat.id] = reason
    return eligible, excluded


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

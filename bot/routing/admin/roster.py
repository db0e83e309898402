"""Applying a routing config to the database, and exporting it back.

Applying is idempotent and never touches a ledger: members, queues, weights and rules
are updated in place; a member or queue removed from the file is kept (with its
history) but leaves the rotation; a weight change is folded in at the current lag.

Managers calibrate in Slack between applies (weights, active, queue membership), and
applying a file sets those back to what the file says. So `rotation serve`, which applies
ROTATION_CONFIG at every start, applies it only when it says something new (its digest
differs from the last applied); a restart or a deploy keeps the managers' calibrations.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Row, func, insert, select, text, update

from bot.config.schema import RoutingConfig, SeatConfig
from bot.config.shares import share_problems
from bot.routing.assignment.locks import lock_all_queues
from bot.routing.errors import NotFound
from bot.routing.fairness import Seat
from bot.routing.fairness.weights import (
    MAX_PRIORITY,
    MAX_WEIGHT,
    MIN_WEIGHT,
    WEIGHT_DECIMALS,
    is_share_words,
    percent_words,
    read_shares,
    round_to,
    share_percent,
    weight_from_number,
    weight_from_priority,
    weight_words,
)
from bot.routing.team import TEAM_ID
from bot.sources.config import sources_settings
from bot.store.models import AuditEvent, Member, Membership, Queue, Team, table_of


def seat_weights(seats: list[SeatConfig]) -> list[tuple[Fraction, str]]:
    """Each seat's exact weight and its words, in order. Shares are read together: ones that
    rounding left off 100% (three at "33.3%") are read in proportion, and then their words
    say how they were read ("33.3333%"), in Slack and in `config export`."""
    if not seats or any(seat.share is None for seat in seats):
        return [seat_weight(seat) for seat in seats]
    percents = [share_percent(seat.share) for seat in seats]
    if sum(percents) == 100 or len(percents) == 1:  # alone in a queue, every lead is theirs
        return [(percent, percent_words(percent)) for percent in percents]
    return [(weight, percent_words(weight)) for weight in read_shares(percents)]


def seat_weight(seat: SeatConfig) -> tuple[Fraction, str]:
    """The exact weight and the words it was given in ("18%", "priority 3", "2")."""
    if seat.share is not None:
        percent = share_percent(seat.share)
        return percent, percent_words(percent)
    if seat.priority is not None:
        priority = weight_from_priority(seat.priority)
        return priority, f"priority {priority.denominator}"
    if seat.weight is not None:
        weight = weight_from_number(seat.weight)
        return weight, weight_words(weight)
    return Fraction(1), "1"


# What a manager changes in Slack that applying a file sets back (adjustments are ledger
# entries and stay). A calibrate event counts when it set a weight or active.
RESETTABLE = ("calibrate", "queue_add", "queue_remove")


CONFIG_LOCK_ID = 0x726F_7461_6366  # "rotacf": applying a config, on PostgreSQL


def config_digest(config: RoutingConfig) -> str:
    """What a config says, whatever its layout and comments."""
    dumped = config.model_dump(mode="json")
    _without_unused_additions(dumped)
    said = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(said.encode()).hexdigest()


def _without_unused_additions(dumped: dict[str, Any]) -> None:
    """Leave out keys added after databases already held a digest (`crm`, a member's
    `crm_owner_id`) while a config does not use them: a file that says what it said before
    keeps its digest, so `serve` does not apply it again and set back calibrations (`lead_url`
    likewise)."""
    for key in ("crm", "lead_url"):
        if dumped.get(key) is None:
            dumped.pop(key, None)
    for member in dumped.get("members", []):
        if member.get("crm_owner_id") is None:
            member.pop("crm_owner_id", None)


def apply_config(
    connection: Connection, config: RoutingConfig, now: datetime, actor: str, *, if_changed: bool = False
) -> dict[str, int] | None:
    """Apply `config`; the counts of what it holds, and `calibrations_replaced`: how many
    Slack calibrations since the last apply it set back. With `if_changed`, nothing is done
    (None) when it says what the last applied config said."""
    if connection.dialect.name == "postgresql":
        # Replicas starting together on a new database would each insert the team row and
        # the members; one at a time, the later ones find the config applied (if_changed).
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": CONFIG_LOCK_ID})
    lock_all_queues(connection)  # before members and seats: the lock order of bot.routing.assignment.locks
    digest = config_digest(config)
    if if_changed and _applied_digest(connection) == digest:
        return None
    summary = {"members": 0, "queues": 0, "seats": 0, "rules": len(config.rules),
               "calibrations_replaced": _calibrations_since_apply(connection)}
    _apply_team(connection, config, now, digest)
    member_ids = _apply_members(connection, config, now)
    summary["members"] = len(member_ids)
    for position, queue in enumerate(config.queues):
        queue_id = _upsert_queue(connection, queue, position)
        summary["queues"] += 1
        summary["seats"] += _apply_seats(connection, queue_id, queue.members, member_ids, now)
    listed = [q.name for q in config.queues]
    connection.execute(update(Queue).where(Queue.name.not_in(listed)).values(in_config=False))
    connection.execute(
        insert(AuditEvent).values(
            at=now, actor=actor, action="config_apply", note="routing config applied", details=summary
        )
    )
    return summary


def replaced_calibrations(count: int) -> str:
    """The warning for a person whose apply set back calibrations made in Slack."""
    made = "1 calibration" if count == 1 else f"{count} calibrations"
    return (f"This config set back {made} made in Slack since the last apply (weights, active, "
            "queue membership) to what the file says. To keep calibrations, `rotation config export` "
            "before editing the file, and edit the export.")


def _applied_digest(connection: Connection) -> str | None:
    settings = connection.execute(select(Team.settings).where(Team.id == TEAM_ID)).scalar()
    return (settings or {}).get("config_digest")


def _calibrations_since_apply(connection: Connection) -> int:
    last_apply = select(func.max(AuditEvent.id)).where(AuditEvent.action == "config_apply").scalar_subquery()
    rows = connection.execute(
        select(AuditEvent.action, AuditEvent.details)
        .where(AuditEvent.action.in_(RESETTABLE), AuditEvent.id > func.coalesce(last_apply, 0))
    ).all()
    return sum(
        1 for action, details in rows
        if action != "calibrate" or (details or {}).get("weight") or (details or {}).get("active") is not None
    )


def _apply_team(connection: Connection, config: RoutingConfig, now: datetime, digest: str) -> None:
    values = dict(
        timezone=config.timezone,
        period=config.period,
        managers=list(config.managers),
        rules=[rule.model_dump(exclude_none=True) for rule in config.rules],
        settings={
            "time_off": config.time_off.model_dump(),
            "status_pause": config.status_pause.model_dump(),
            "sla": config.sla.model_dump(),
            "manager_group": config.manager_group,
            "manager_channel": config.manager_channel,
            "lead_url": config.lead_url,
            "crm": config.crm.model_dump(exclude_none=True) if config.crm else None,
            "sources": sources_settings(config.sources),
            "config_digest": digest,
        },
        updated_at=now,
    )
    exists = (connection.execute(select(Team.id).where(Team.id == TEAM_ID))).scalar()
    if exists is None:
        connection.execute(insert(Team).values(id=TEAM_ID, config_version=1, **values))
    else:
        connection.execute(
            update(Team).where(Team.id == TEAM_ID).values(config_version=Team.config_version + 1, **values)
        )


def _apply_members(connection: Connection, config: RoutingConfig, now: datetime) -> dict[str, int]:
    existing = dict((connection.execute(select(Member.slack_id, Member.id))).all())
    ids: dict[str, int] = {}
    for member in config.members:
        values = dict(
            name=member.name,
            email=member.email,
            role=member.role,
            timezone=member.timezone,
            capacity=member.capacity,
            working_hours=member.working_hours,
            active=member.active,
            crm_owner_id=member.crm_owner_id,
            in_config=True,
            updated_at=now,
        )
        if member.slack_id in existing:
            connection.execute(update(Member).where(Member.slack_id == member.slack_id).values(**values))
            ids[member.slack_id] = existing[member.slack_id]
        else:
            ids[member.slack_id] = (
                connection.execute(
                    insert(Member)
                    .values(slack_id=member.slack_id, created_at=now, open_leads=0, **values)
                    .returning(Member.id)
                )
            ).scalar_one()
    gone = [slack_id for slack_id in existing if slack_id not in ids]
    if gone:
        connection.execute(
            update(Member)
            .where(Member.slack_id.in_(gone))
            .values(in_config=False, active=False, updated_at=now)
        )
    return ids


def _upsert_queue(connection: Connection, queue: Any, position: int) -> int:
    values = dict(
        position=position,
        channel=queue.channel,
        strategy=queue.strategy,
        sla_minutes=queue.sla_minutes,
        fallback=queue.fallback,
        respect_working_hours=queue.respect_working_hours,
        sticky=queue.sticky,
        in_config=True,
    )
    queue_id = (connection.execute(select(Queue.id).where(Queue.name == queue.name))).scalar()
    if queue_id is None:
        return (
            connection.execute(
                insert(Queue)
                .values(name=queue.name, vtime=Fraction(0), period_key="", seq=0, version=0, **values)
                .returning(Queue.id)
            )
        ).scalar_one()
    connection.execute(update(Queue).where(Queue.id == queue_id).values(version=Queue.version + 1, **values))
    return queue_id


def _apply_seats(
    connection: Connection, queue_id: int, seats: list[SeatConfig], member_ids: dict[str, int], now: datetime
) -> int:
    vtime = (connection.execute(select(Queue.vtime).where(Queue.id == queue_id))).scalar_one()
    rows = {
        row.member_id: row
        for row in (
            connection.execute(select(table_of(Membership)).where(Membership.queue_id == queue_id))
        ).all()
    }
    listed: set[int] = set()
    for seat_config, (weight, words) in zip(seats, seat_weights(seats), strict=True):
        member_id = member_ids[seat_config.slack_id]
        listed.add(member_id)
        row = rows.get(member_id)
        if row is None:
            connection.execute(
                insert(Membership).values(
                    queue_id=queue_id,
                    member_id=member_id,
                    weight=weight,
                    weight_text=words,
                    active=seat_config.active,
                    in_config=True,
                    lag_base=Fraction(0),
                    vtime_base=Fraction(0),
                    frozen=True,
                    received=0,
                    adjustment=0,
                    last_seq=0,
                    created_at=now,
                )
            )
            continue
        values: dict[str, Any] = dict(weight_text=words, active=seat_config.active, in_config=True)
        if Fraction(row.weight) != weight:
            ledger = Seat(
                row.id,
                member_id,
                Fraction(row.weight),
                Fraction(row.lag_base),
                Fraction(row.vtime_base),
                row.frozen,
            )
            ledger.rebase(Fraction(vtime))
            values |= dict(weight=weight, lag_base=ledger.lag_base, vtime_base=ledger.vtime_base)
        if not row.in_config:
            values |= dict(lag_base=Fraction(0), frozen=True)  # rejoining starts level
        connection.execute(update(Membership).where(Membership.id == row.id).values(**values))
    dropped = [row.id for member_id, row in rows.items() if member_id not in listed and row.in_config]
    if dropped:
        connection.execute(update(Membership).where(Membership.id.in_(dropped)).values(in_config=False))
    return len(listed)


def export_config(connection: Connection) -> dict[str, Any]:
    """The current state as a routing config (the same shape `config apply` reads)."""
    team = (connection.execute(select(table_of(Team)).where(Team.id == TEAM_ID))).first()
    if team is None:  # what we would print is no config: `config check` refuses it
        raise NotFound("No routing config has been applied to this database yet, so there is nothing "
                       "to export. Apply one with `rotation config apply FILE`.")
    members = (
        connection.execute(select(table_of(Member)).where(Member.in_config.is_(True)).order_by(Member.id))
    ).all()
    queues = (
        connection.execute(select(table_of(Queue)).where(Queue.in_config.is_(True)).order_by(Queue.position))
    ).all()
    seats = (
        connection.execute(
            select(table_of(Membership), Member.slack_id)
            .join(Member, Member.id == Membership.member_id)
            .where(Membership.in_config.is_(True))
            .order_by(Membership.id)
        )
    ).all()
    settings = team.settings if team else {}
    exported: dict[str, Any] = {
        "timezone": team.timezone if team else "UTC",
        "period": team.period if team else "monthly",
        "managers": list(team.managers) if team else [],
    }
    for key in ("manager_group", "manager_channel", "lead_url"):
        if settings.get(key):
            exported[key] = settings[key]
    for key in ("time_off", "status_pause", "sla"):
        if key in settings:
            exported[key] = settings[key]
    if settings.get("crm"):
        exported["crm"] = settings["crm"]
    if settings.get("sources"):
        exported["sources"] = settings["sources"]
    exported["members"] = [_member_out(m) for m in members]
    exported["queues"] = [
        _queue_out(q, [(s, s.slack_id) for s in seats if s.queue_id == q.id]) for q in queues
    ]
    exported["rules"] = list(team.rules) if team else []
    return exported


def _member_out(member: Row[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"slack_id": member.slack_id, "name": member.name}
    for key in ("role", "timezone", "email", "capacity", "working_hours", "crm_owner_id"):
        value = getattr(member, key)
        if value is not None:
            out[key] = value
    if not member.active:
        out["active"] = False
    return out


def _queue_out(queue: Row[Any], seats: list[tuple[Row[Any], str]]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": queue.name}
    for key in ("channel", "strategy", "sla_minutes", "fallback", "sticky"):
        value = getattr(queue, key)
        if value is not None:
            out[key] = value
    if queue.respect_working_hours:
        out["respect_working_hours"] = True
    out["members"] = seats_out([SeatState(slack_id, Fraction(seat.weight), seat.weight_text, seat.active)
                                for seat, slack_id in seats])
    return out


@dataclass(frozen=True, slots=True)
class SeatState:
    """A seat as the database holds it: its exact weight, and the words it was given in."""

    slack_id: str
    weight: Fraction
    words: str
    active: bool = True


def seats_out(seats: list[SeatState]) -> list[dict[str, Any]]:
    """A queue's seats as the routing config writes them, in their own words ("18%",
    "priority 3", 2). A queue whose words the config refuses (saved before today's rules, say
    shares mixed with weights) is written as weights, so that the export still applies."""
    written = [_seat_out(seat) for seat in seats]
    if seat_problems(written):
        return [_seat_as_weight(seat) for seat in seats]
    return written


def config_problem(seats: list[SeatState]) -> str | None:
    """What `config check` would say against these seats once exported, or that they would
    not read back as the same weights; None when the export applies to exactly these."""
    written = [_seat_out(seat) for seat in seats]
    problems = seat_problems(written)
    if problems:
        return problems[0]
    read = seat_weights([SeatConfig(**seat) for seat in written])
    for seat, (weight, _) in zip(seats, read, strict=True):
        if weight != seat.weight:
            return f"cannot be written in the routing config as it is ({seat.slack_id}: {seat.words})"
    return None


def seat_problems(written: list[dict[str, Any]]) -> list[str]:
    """The errors `config check` gives for a queue's `members`, by the config's own checks."""
    problems = []
    for seat in written:
        try:
            SeatConfig(**seat)
        except ValidationError as error:
            problems += [e["msg"].removeprefix("Value error, ") for e in error.errors()]
    return problems + [p.message for p in share_problems("queue", written) if p.level == "error"]


def _seat_out(seat: SeatState) -> dict[str, Any]:
    out: dict[str, Any] = {"slack_id": seat.slack_id}
    if is_share_words(seat.words):
        out["share"] = seat.words
    elif seat.words.startswith("priority "):
        out["priority"] = int(seat.words.split()[1]) if seat.words.split()[1].isdigit() else seat.words
    else:
        out["weight"] = _number_out(seat.weight)
    if not seat.active:
        out["active"] = False
    return out


def _seat_as_weight(seat: SeatState) -> dict[str, Any]:
    """The nearest weight the config takes (for seats saved before today's rules)."""
    weight = seat.weight
    if weight.numerator == 1 and 1 < weight.denominator <= MAX_PRIORITY:
        out: dict[str, Any] = {"slack_id": seat.slack_id, "priority": weight.denominator}
    else:
        near = min(max(round_to(weight, WEIGHT_DECIMALS), MIN_WEIGHT), Fraction(MAX_WEIGHT))
        out = {"slack_id": seat.slack_id, "weight": _number_out(near)}
    if not seat.active:
        out["active"] = False
    return out


def _number_out(weight: Fraction) -> int | float | str:
    """An int when whole; a float when it reads back exactly (3 decimals do); else words."""
    if weight.denominator == 1:
        return weight.numerator
    return float(weight) if Fraction(repr(float(weight))) == weight else weight_words(weight)

"""Read models: queue standings, a member's status, and the period report."""

from __future__ import annotations

import re
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, func, select

from bot.routing.availability.eligibility import is_paused
from bot.routing.availability.hours import WorkingHours
from bot.routing.availability.time_off import leaves, member_zone, require_member
from bot.routing.errors import InvalidChange, NotFound
from bot.routing.fairness import Rotation
from bot.routing.ledger.periods import period_key
from bot.routing.ledger.queues import OpenQueue, eligible_seats, open_queue
from bot.routing.results import MemberStatus, QueueStandings, ReportRow, SeatStanding, SeatStatus
from bot.routing.team import TeamSettings
from bot.store.models import Assignment, AuditEvent, Lead, Member, Membership, Queue


def queue_standings(opened: OpenQueue, now: datetime, period: str) -> QueueStandings:
    eligible, excluded = eligible_seats(opened, now)
    rotation = opened.rotation
    total_weight = sum((s.seat.weight for s in opened.seats), Fraction(0)) or Fraction(1)
    next_id = None
    if eligible:
        probe = Rotation(rotation.vtime, rotation.seq, {s.seat.id: _copy(s.seat) for s in opened.seats})
        probe.set_eligibility(s.seat.id for s in eligible)
        live = [probe.seats[s.seat.id] for s in eligible]
        probe.accrue(live)
        next_id = probe.choose(live, opened.info.strategy).seat.id
    seats = [
        SeatStanding(
            slack_id=s.slack_id,
            name=s.name,
            weight=s.seat.weight,
            weight_text=s.weight_text,
            received=s.seat.received,
            adjustment=s.seat.adjustment,
            lag=rotation.lag(s.seat),
            target_share=s.seat.weight / total_weight,
            status=excluded.get(s.seat.id, "active"),
            eligible=s.seat.id not in excluded,
            next_up=s.seat.id == next_id,
        )
        for s in opened.seats
    ]
    return QueueStandings(
        opened.info.name,
        opened.info.strategy,
        opened.info.channel,
        period,
        sum(s.received for s in seats),
        seats,
    )


def _copy(seat: Any) -> Any:
    from dataclasses import replace

    return replace(seat)


def all_standings(
    connection: Connection, team: TeamSettings, now: datetime, queue: str | None = None
) -> list[QueueStandings]:
    names = (
        (connection.execute(select(Queue.name).where(Queue.in_config.is_(True)).order_by(Queue.position)))
        .scalars()
        .all()
    )
    if queue is not None:
        names = [name for name in names if name == queue]
    period = period_key(now, team.timezone, team.period)
    result = []
    for name in names:
        opened = open_queue(connection, name, team, now, lock=False)
        if opened is not None:
            result.append(queue_standings(opened, now, period))
    return result


def leads_until_next(opened: OpenQueue, slack_id: str, now: datetime, limit: int = 50) -> int | None:
    """How many leads of this queue go out before this member's next one (0 = next)."""
    eligible, _ = eligible_seats(opened, now)
    if not any(s.slack_id == slack_id for s in eligible):
        return None
    probe = Rotation(
        opened.rotation.vtime, opened.rotation.seq, {s.seat.id: _copy(s.seat) for s in opened.seats}
    )
    ids = {s.seat.id for s in eligible}
    probe.set_eligibility(ids)
    target = next(s.seat.id for s in eligible if s.slack_id == slack_id)
    live = [probe.seats[i] for i in ids]
    for position in range(limit):
        probe.accrue(live)
        winner = probe.choose(live, opened.info.strategy).seat
        if winner.id == target:
            return position
        probe.charge(winner)
    return None


def member_status(connection: Connection, team: TeamSettings, slack_id: str, now: datetime) -> MemberStatus:
    member = require_member(connection, slack_id)
    zone = member_zone(member, team)
    upcoming = leaves(connection, member.id, now)
    state, reason = "active", None
    if not member.active:
        state, reason = "inactive", "turned off by a manager"
    elif is_paused(_pause_facts(member), now):
        state, reason = "paused", member.pause_reason
    elif any(leave.pause_from <= now < leave.resume_at for leave in upcoming):
        state = "on leave"
    elif member.status_paused_until is not None and now < member.status_paused_until:
        state, reason = "away (Slack status)", "your Slack status says you're away"
    queue_names = (
        (
            connection.execute(
                select(Queue.name)
                .join(Membership, Membership.queue_id == Queue.id)
                .where(
                    Membership.member_id == member.id,
                    Membership.in_config.is_(True),
                    Queue.in_config.is_(True),
                )
                .order_by(Queue.position)
            )
        )
        .scalars()
        .all()
    )
    seats = []
    for name in queue_names:
        opened = open_queue(connection, name, team, now, lock=False)
        info = opened.by_slack_id(slack_id) if opened else None
        if opened is None or info is None:
            continue
        lag = opened.rotation.lag(info.seat)
        seats.append(
            SeatStatus(
                queue=name,
                received=info.seat.received,
                fair_share=info.seat.received + info.seat.adjustment + lag,
                lag=lag,
                weight_text=info.weight_text,
                leads_until_next=leads_until_next(opened, slack_id, now),
            )
        )
    recent = (
        connection.execute(
            select(
                Assignment.id,
                Assignment.lead_id,
                Assignment.state,
                Assignment.assigned_at,
                Lead.fields,
                Queue.name.label("queue"),
            )
            .join(Lead, Lead.id == Assignment.lead_id)
            .join(Queue, Queue.id == Assignment.queue_id)
            .where(Assignment.member_id == member.id)
            .order_by(Assignment.id.desc())
            .limit(5)
        )
    ).all()
    return MemberStatus(
        slack_id=slack_id,
        name=member.name,
        timezone=zone,
        state=state,
        reason=reason,
        paused_until=member.paused_until if state == "paused" else None,
        leaves=upcoming,
        seats=seats,
        recent_leads=[dict(r._mapping) for r in recent],
        is_manager=slack_id in team.managers,
        working_hours=member.working_hours,
        working_now=(
            WorkingHours.parse(member.working_hours).is_working(now, zone) if member.working_hours else None
        ),
    )


def _pause_facts(member: Any) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(paused_at=member.paused_at, paused_until=member.paused_until)


PERIOD_FORMS = {
    "monthly": (re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), "2026-11"),
    "weekly": (re.compile(r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$"), "2026-W48"),
    "quarterly": (re.compile(r"^\d{4}-Q[1-4]$"), "2026-Q4"),
    "never": (re.compile(r"^all$"), "all"),
}


def queue_names_in_config(connection: Connection) -> set[str]:
    return set(connection.execute(select(Queue.name).where(Queue.in_config.is_(True))).scalars())


def report(
    connection: Connection,
    team: TeamSettings,
    now: datetime,
    *,
    period: str | None = None,
    queue: str | None = None,
) -> list[ReportRow]:
    """Per queue and member: leads, target and actual share, lag, adjustments, weight, status.

    The current period reads the live ledger; a closed period is rebuilt from the
    assignments and adjustments kept in the history.
    """
    form, example = PERIOD_FORMS[team.period]
    if period is not None and not form.match(period):
        raise InvalidChange(
            f"{period!r} is not a period of this {team.period} team; write it like {example}.",
            field="period",
        )
    if queue is not None and queue not in queue_names_in_config(connection):
        raise NotFound(f"There is no queue named {queue!r}.")
    current = period_key(now, team.timezone, team.period)
    standings = all_standings(connection, team, now, queue)
    rows: list[ReportRow] = []
    for standing in standings:
        if period is None or period == current:
            counts = {s.slack_id: s.received for s in standing.seats}
            adjustments = {s.slack_id: s.adjustment for s in standing.seats}
            key = current
        else:
            counts, adjustments = _history(connection, standing.name, period)
            key = period
        total = sum(counts.values())
        for seat in standing.seats:
            leads = counts.get(seat.slack_id, 0)
            actual = leads / total if total else 0.0
            lag = float(seat.lag) if key == current else float(seat.target_share) * total - leads
            rows.append(
                ReportRow(
                    period=key,
                    queue=standing.name,
                    slack_id=seat.slack_id,
                    name=seat.name,
                    leads=leads,
                    target_share=round(float(seat.target_share), 4),
                    actual_share=round(actual, 4),
                    lag=round(lag, 3),
                    adjustments=adjustments.get(seat.slack_id, 0),
                    weight=seat.weight_text,
                    status=seat.status,
                )
            )
    return rows


def _history(connection: Connection, queue: str, period: str) -> tuple[dict[str, int], dict[str, int]]:
    queue_id = select(Queue.id).where(Queue.name == queue).scalar_subquery()
    counted = (
        connection.execute(
            select(Member.slack_id, func.count())
            .join(Assignment, Assignment.member_id == Member.id)
            .where(
                Assignment.queue_id == queue_id,
                Assignment.period_key == period,
                Assignment.state.in_(("offered", "accepted")),
            )
            .group_by(Member.slack_id)
        )
    ).all()
    adjusted = (
        connection.execute(
            select(Member.slack_id, func.sum(AuditEvent.delta))
            .join(AuditEvent, AuditEvent.member_id == Member.id)
            .where(
                AuditEvent.queue_id == queue_id,
                AuditEvent.period_key == period,
                AuditEvent.action == "adjustment",
            )
            .group_by(Member.slack_id)
        )
    ).all()
    return dict(counted), {k: int(v or 0) for k, v in adjusted}

"""The period's report: the ledger's distribution plus what the offers themselves say.

`standings.report` gives each seat's leads, fair share, lag and adjustments (the ledger);
the assignments table gives what a manager asks about next: how often each member passed,
how often the SLA moved a lead on, and how long accepting took. Both are read in the same
transaction, so the figures of one report agree with each other.

Time to accept is `accepted_at - assigned_at` of the period's accepted offers; the median
is the usual one (the mean of the middle two for an even count) and p90 is the nearest-rank
90th percentile (the smallest time at or under which 90% of the accepts fall), so it is
always a time that really happened.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from bot.routing.errors import InvalidChange
from bot.routing.ledger import standings
from bot.routing.ledger.periods import period_key
from bot.routing.results import ReportRow
from bot.routing.team import TeamSettings
from bot.store.models import Assignment, AuditEvent, Member, Queue

PASSED = "passed"
SLA_MISSED = "expired"  # an offer the SLA job moved on


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


class NoReport(InvalidChange):
    """A period the rotation has no report for; `period` is the one asked for. Nothing is read
    past the refusal and nothing changes."""

    def __init__(self, message: str, period: str) -> None:
        super().__init__(message, field="period")
        self.period = period


class BeforeRotation(NoReport):
    """A period that ended before this team's first record (`began`: the period of it)."""

    def __init__(self, period: str, began: str) -> None:
        super().__init__(f"There is no report for {period_words(period)}: the rotation began in "
                         f"{period_words(began)}.", period)
        self.began = began


class NotStarted(NoReport):
    """A period that has not started yet in the team's timezone."""

    def __init__(self, period: str) -> None:
        super().__init__(f"There is no report for {period_words(period)} yet: it has not started.", period)


def period_words(key: str) -> str:
    """A period key as people say it: 2026-11 is November 2026, 2026-W48 week 48 of 2026,
    2026-Q4 Q4 2026 (`all`, a team that never resets, is the whole rotation)."""
    year, _, rest = key.partition("-")
    if rest.isdigit():
        return f"{MONTHS[int(rest) - 1]} {year}"
    if rest.startswith("W"):
        return f"week {int(rest[1:])} of {year}"
    if rest.startswith("Q"):
        return f"{rest} {year}"
    return "the whole rotation" if key == "all" else key


def rotation_began(connection: Connection) -> datetime | None:
    """When the rotation began here: its first audited change (the first config applied) or
    its first offer, whichever came first; None when there is no record yet."""
    times = [connection.execute(select(func.min(AuditEvent.at))).scalar(),
             connection.execute(select(func.min(Assignment.assigned_at))).scalar()]
    known: list[datetime] = [t for t in times if t is not None]
    return min(known) if known else None


def first_period(connection: Connection, team: TeamSettings) -> str | None:
    """The period the rotation began in (`rotation_began`); None when there is no record yet."""
    began = rotation_began(connection)
    return None if began is None else period_key(began, team.timezone, team.period)


def refuse_missing_period(connection: Connection, team: TeamSettings, now: datetime, period: str) -> None:
    """Raise `NotStarted` for a period after the current one and `BeforeRotation` for one
    before the first record. Keys of one form sort as their periods do (zero-padded), so
    comparing the strings compares the periods; a key of the wrong form is left to
    `standings.report`, which says how to write it."""
    form, _ = standings.PERIOD_FORMS[team.period]
    if not form.match(period):
        return
    if period > period_key(now, team.timezone, team.period):
        raise NotStarted(period)
    began = first_period(connection, team)
    if began is not None and period < began:
        raise BeforeRotation(period, began)


@dataclass(frozen=True, slots=True)
class AcceptTimes:
    """How long accepting took, in seconds (None when nothing was accepted)."""

    accepted: int
    median_seconds: float | None
    p90_seconds: float | None

    @classmethod
    def of(cls, seconds: Iterable[float]) -> AcceptTimes:
        ordered = sorted(seconds)
        if not ordered:
            return cls(0, None, None)
        return cls(len(ordered), float(statistics.median(ordered)), nearest_rank(ordered, 0.9))


@dataclass(frozen=True, slots=True)
class MemberFigures:
    """One member's figures in one queue for the period."""

    slack_id: str
    name: str
    received: int  # leads kept (a pass or an SLA move credits the lead back)
    fair_share: float  # the leads their weight entitles them to, adjustments counted
    lag: float  # fair share - received - adjustments: > 0 means owed leads
    adjustments: int
    target_share: float  # 0..1
    actual_share: float  # 0..1
    weight: str
    status: str
    passes: int
    sla_misses: int
    accept: AcceptTimes


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """A queue's members and its totals for the period."""

    name: str
    received: int
    passes: int
    sla_misses: int
    accept: AcceptTimes
    members: tuple[MemberFigures, ...]


@dataclass(frozen=True, slots=True)
class PeriodReport:
    """Every queue asked for (config order) in one period."""

    period: str
    queues: tuple[QueueFigures, ...]

    @property
    def received(self) -> int:
        return sum(q.received for q in self.queues)

    def members(self) -> Iterable[tuple[QueueFigures, MemberFigures]]:
        for queue in self.queues:
            for member in queue.members:
                yield queue, member


def nearest_rank(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending, non-empty sequence."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return float(ordered[rank - 1])


@dataclass(frozen=True, slots=True)
class _OfferFacts:
    passes: dict[tuple[str, str], int]
    sla_misses: dict[tuple[str, str], int]
    accept_seconds: dict[tuple[str, str], list[float]]


def period_report(
    connection: Connection,
    team: TeamSettings,
    now: datetime,
    *,
    period: str | None = None,
    queue: str | None = None,
) -> PeriodReport:
    """The report of `period` (default: the current one), for one queue or all of them.

    A period not written as this team's periods are, or a queue that is not in the config,
    is refused by `standings.report` in plain words before anything else is read; so is a
    period before the team's first record or one not started yet (`NoReport`): the current
    period, partly over, is a report.
    """
    if period is not None:
        refuse_missing_period(connection, team, now, period)
    rows = standings.report(connection, team, now, period=period, queue=queue)
    key = period or period_key(now, team.timezone, team.period)
    current = key == period_key(now, team.timezone, team.period)
    facts = _offer_facts(connection, key, queue)
    by_queue: dict[str, list[ReportRow]] = defaultdict(list)
    for row in rows:
        by_queue[row.queue].append(row)
    queues = []
    for name, seats in by_queue.items():
        members = tuple(_member(row, facts, current) for row in seats)
        everyone = [s for row in seats for s in facts.accept_seconds.get((name, row.slack_id), [])]
        queues.append(QueueFigures(
            name=name,
            received=sum(m.received for m in members),
            passes=sum(facts.passes.get((name, r.slack_id), 0) for r in seats),
            sla_misses=sum(facts.sla_misses.get((name, r.slack_id), 0) for r in seats),
            accept=AcceptTimes.of(everyone),
            members=members,
        ))
    return PeriodReport(key, tuple(queues))


def _member(row: ReportRow, facts: _OfferFacts, current: bool) -> MemberFigures:
    seat = (row.queue, row.slack_id)
    # The live ledger's lag already counts adjustments as leads received; a closed period's
    # lag is rebuilt from the leads alone (see `standings.report`).
    fair = row.leads + row.lag + (row.adjustments if current else 0)
    return MemberFigures(
        slack_id=row.slack_id,
        name=row.name,
        received=row.leads,
        fair_share=round(fair, 3),
        lag=row.lag,
        adjustments=row.adjustments,
        target_share=row.target_share,
        actual_share=row.actual_share,
        weight=row.weight,
        status=row.status,
        passes=facts.passes.get(seat, 0),
        sla_misses=facts.sla_misses.get(seat, 0),
        accept=AcceptTimes.of(facts.accept_seconds.get(seat, [])),
    )


def _offer_facts(connection: Connection, period: str, queue: str | None) -> _OfferFacts:
    """Passes and SLA misses counted by the database; accepted offers' two times read to
    compute the durations here (date arithmetic differs between SQLite and PostgreSQL)."""
    where = [Assignment.period_key == period]
    if queue is not None:
        where.append(Queue.name == queue)
    moved = connection.execute(
        select(Queue.name, Member.slack_id, Assignment.state, func.count())
        .join(Queue, Queue.id == Assignment.queue_id)
        .join(Member, Member.id == Assignment.member_id)
        .where(*where, Assignment.state.in_((PASSED, SLA_MISSED)))
        .group_by(Queue.name, Member.slack_id, Assignment.state)
    ).all()
    passes: dict[tuple[str, str], int] = {}
    misses: dict[tuple[str, str], int] = {}
    for name, slack_id, state, count in moved:
        (passes if state == PASSED else misses)[(name, slack_id)] = int(count)
    accepted = connection.execute(
        select(Queue.name, Member.slack_id, Assignment.assigned_at, Assignment.accepted_at)
        .join(Queue, Queue.id == Assignment.queue_id)
        .join(Member, Member.id == Assignment.member_id)
        .where(*where, Assignment.accepted_at.is_not(None))
    ).all()
    seconds: dict[tuple[str, str], list[float]] = defaultdict(list)
    for name, slack_id, assigned_at, accepted_at in accepted:
        if accepted_at is not None:  # the query asks for that; the row's type does not say so
            seconds[(name, slack_id)].append(max(0.0, (accepted_at - assigned_at).total_seconds()))
    return _OfferFacts(passes, misses, dict(seconds))

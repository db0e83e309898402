"""Deciding where a lead goes inside a transaction: rules → queue (→ fallback) → member.

A new lead and a re-offer are decided alike: `place` finds the winner in the batch's
ledgers, `Router` turns the placement into a `Decision` (charged, explained) and the
`Batch` writes every decision of the transaction at the end (`bot.routing.assignment.batch`).
This is the hot path, so it speaks SQLAlchemy Core.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection

from bot.routing.assignment import explain
from bot.routing.assignment.accounts import account_key
from bot.routing.assignment.batch import Batch
from bot.routing.assignment.decision import Decision
from bot.routing.assignment.lead_lookup import stored_outcome
from bot.routing.assignment.locks import OpenLeads
from bot.routing.availability.hours import WorkingHours
from bot.routing.fairness import Choice, Seat
from bot.routing.ledger.cache import LedgerCache
from bot.routing.ledger.queues import OpenQueue, SeatInfo
from bot.routing.results import RouteOutcome
from bot.routing.rules.matching import RuleResult
from bot.routing.team import TeamSettings

MAX_FALLBACKS = 10
MAX_BUCKET_DAYS = 5  # availability buckets: 24 h, 48 h ... 120 h


@dataclass(slots=True)
class Placement:
    """Where a lead landed, or the last queue that was tried and why nobody took it."""

    opened: OpenQueue | None
    winner: SeatInfo | None = None
    eligible: list[SeatInfo] = field(default_factory=list)
    excluded: dict[int, str] = field(default_factory=dict)
    tie_break: str | None = None
    notes: list[str] = field(default_factory=list)
    reason: str | None = None
    lags: dict[int, Fraction] | None = None
    approx: dict[int, float] | None = None
    contenders: list[SeatInfo] | None = None  # all the explanation ranks, when the pick named them
    decided_by: explain.DecidedBy = explain.DecidedBy.STRATEGY  # a sticky owner or a manager may choose


def charge_and_offer(
    opened: OpenQueue,
    winner: SeatInfo,
    lead_id: str,
    now: datetime,
    key: str | None,
    explanation: dict[str, Any],
    *,
    hop: int,
    cause: str,
) -> dict[str, Any]:
    """Charge the winner's ledger and return the assignment row that offers them the lead."""
    opened.rotation.charge(winner.seat)
    return dict(
        lead_id=lead_id,
        queue_id=opened.info.id,
        member_id=winner.seat.member_id,
        membership_id=winner.seat.id,
        period_key=opened.info.period_key,
        seq=opened.rotation.seq,
        hop=hop,
        cause=cause,
        state="offered",
        assigned_at=now,
        account_key=key,
        explanation=explanation,
    )


def working_hours_start(info: SeatInfo, now: datetime) -> datetime:
    if not info.facts.working_hours:
        return now
    return WorkingHours.parse(info.facts.working_hours).next_start(now, info.timezone)


class Router:
    """Routes leads and offers them again (pass, SLA, pending) with the same rotation."""

    def __init__(self, *, webhook: bool = False, ledgers: LedgerCache | None = None) -> None:
        self.webhook = webhook
        # Each queue's ledger between transactions: routing one lead then costs the same
        # for a team of 10 or 1,000 (see `bot.routing.ledger.cache`).
        self.ledgers = ledgers if ledgers is not None else LedgerCache()

    def batch(
        self,
        connection: Connection,
        now: datetime,
        *,
        lease_until: datetime | None = None,
        team: TeamSettings | None = None,
        open_leads: OpenLeads | None = None,
        locked: bool = False,
    ) -> Batch:
        """A transaction's placements, with this router's ledgers (see `Batch`)."""
        return Batch(connection, now, ledgers=self.ledgers, webhook=self.webhook, lease_until=lease_until,
                     team=team, open_leads=open_leads, locked=locked)

    def route(
        self, connection: Connection, lead_id: str, fields: dict[str, Any], now: datetime, actor: str
    ) -> RouteOutcome:
        """Route one lead in its own batch."""
        batch = self.batch(connection, now)
        decided = self.decide(lead_id, fields, actor, batch)
        batch.finish()
        return decided if isinstance(decided, RouteOutcome) else decided.outcome()

    def decide(
        self, lead_id: str, fields: dict[str, Any], actor: str, batch: Batch
    ) -> Decision | RouteOutcome:
        """Decide a new lead inside `batch`; a known id gives back its stored outcome."""
        if lead_id in batch.decisions:
            first = batch.decisions[lead_id]
            return replace(first, repeat_of=first)
        if batch.maybe_known(lead_id):
            existing = stored_outcome(batch.connection, lead_id)
            if existing is not None:
                return existing
        team = batch.team
        tried = batch.match(lead_id, fields)
        matched = tried[-1] if tried and tried[-1].matched else None
        if matched is None:
            reason = (
                "no rule matched and there is no catch-all"
                if team.rules
                else "the routing config has no rules, so no lead has a queue"
                if team.config_version
                else "no routing config has been applied yet"
            )
            placement = Placement(None, reason=reason)
        else:
            placement = self.place(batch, matched.queue, fields)
        decision = self._decision(placement, tried, lead_id, fields, batch.now)
        batch.add(decision)
        return decision

    def offer_again(
        self,
        batch: Batch,
        placement: Placement,
        tried: list[RuleResult],
        lead_id: str,
        fields: dict[str, Any],
        *,
        cause: str,
        hop: int,
    ) -> RouteOutcome:
        """Offer a stored lead again (pass, SLA, waiting, reassign): a placement like a new
        lead's, decided and written the same way, with the lead's row updated.

        The caller holds the queues' locks and has moved the lead's rows (steps 1 and 2 of
        `bot.routing.assignment.locks`); the batch writes the members' counts last.
        """
        decision = self._decision(placement, tried, lead_id, fields, batch.now, cause=cause, hop=hop)
        batch.add(decision)
        batch.finish()
        return decision.outcome()

    def _decision(
        self,
        placement: Placement,
        tried: list[RuleResult],
        lead_id: str,
        fields: dict[str, Any],
        now: datetime,
        *,
        cause: str = "new",
        hop: int = 0,
    ) -> Decision:
        opened, winner = placement.opened, placement.winner
        explanation = self._explain(placement, tried, now, cause)
        reason = placement.reason if winner is None else None
        if reason:
            explanation["reason"] = reason
        rule = next((r.name for r in tried if r.matched), None)
        key = account_key(opened.info.sticky, fields) if opened else None
        assignment = None
        if opened is not None and winner is not None:
            assignment = charge_and_offer(opened, winner, lead_id, now, key, explanation,
                                          hop=hop, cause=cause)
        return Decision(
            lead_id=lead_id,
            fields=fields,
            status="assigned" if winner else "unassigned",
            queue=opened.info.name if opened else None,
            rule=rule,
            winner=winner,
            opened=opened,
            explanation=explanation,
            reason=reason,
            account_key=key,
            assignment=assignment,
            cause=cause,
            hop=hop,
            reoffer=cause != "new",
        )

    def _explain(self, placement: Placement, tried: list[RuleResult], now: datetime,
                 cause: str = "new") -> dict[str, Any]:
        opened = placement.opened
        return explain.decision(
            tried=tried,
            opened=opened,
            eligible=placement.eligible,
            excluded=placement.excluded,
            winner=placement.winner,
            tie_break=placement.tie_break,
            strategy=opened.info.strategy if opened else "fair",
            route_notes=placement.notes,
            at=now,
            unassigned_reason=placement.reason,
            lags=placement.lags,
            approx=placement.approx,
            decided_by=placement.decided_by,
            cause=cause,
            # a pick from the lag index named the seats worth showing (the winner, the largest lags)
            contenders=placement.contenders,
        )

    def place(
        self,
        batch: Batch,
        queue_name: str,
        fields: dict[str, Any],
        *,
        credited_in: str | None = None,
        exclude_members: frozenset[int] = frozenset(),
    ) -> Placement:
        """Try the queue, then its fallbacks, until someone is eligible.

        Each queue tried accrues one lead's share, except `credited_in`: a re-offer there
        is the same lead, its share already counted (the first rep's charge was credited
        back). A re-offer whose old offer was in a closed period, or that falls back to
        another queue, is a new lead to that ledger, and accrues like one.
        """
        now = batch.now
        placement = Placement(None)
        name: str | None = queue_name
        seen: set[str] = set()
        while name is not None and name not in seen and len(seen) < MAX_FALLBACKS:
            seen.add(name)
            opened = batch.queue(name)
            if opened is None:
                placement.reason = f"queue {name!r} does not exist (check the routing config)"
                return placement
            placement.opened = opened
            known = opened.eligible_now(now)
            if exclude_members:
                eligible, excluded = known.without_members(opened.seats, exclude_members)
                ids = frozenset(s.seat.id for s in eligible)
                seats = tuple(s.seat for s in eligible)
            else:
                eligible, excluded = list(known.seats), dict(known.excluded)
                ids, seats = known.ids, known.ledger_seats
            placement.eligible, placement.excluded = eligible, excluded
            opened.rotation.set_eligibility(ids)
            if eligible:
                accrue = opened.info.name != credited_in
                if accrue:
                    opened.rotation.accrue(seats, ids)
                choice = self._choose(batch, opened, seats, ids, fields, placement)
                placement.winner = opened.by_seat_id(choice.seat.id)
                if choice.contenders is not None:
                    placement.contenders = [opened.by_seat_id(seat.id) for seat in choice.contenders]
                placement.tie_break = choice.tie_break
                placement.lags, placement.approx = choice.lags, choice.approx
                return placement
            # A fallback is the team's stated answer to "nobody here can take it now";
            # only a queue without one waits for whoever starts work soonest.
            if (
                opened.info.respect_working_hours
                and opened.info.fallback is None
                and self._soonest_working(opened, now, placement, exclude_members,
                                          opened.info.name != credited_in)
            ):
                choice = opened.rotation.choose([s.seat for s in placement.eligible], opened.info.strategy)
                placement.winner = next(s for s in placement.eligible if s.seat is choice.seat)
                placement.tie_break = choice.tie_break
                return placement
            placement.reason = f"nobody in {name} is available" if opened.seats else f"{name} has no members"
            name = opened.info.fallback
            if name is not None:
                placement.notes.append(
                    f"Nobody in {opened.info.name} was available, so it fell back to {name}."
                )
        return placement

    def _soonest_working(
        self,
        opened: OpenQueue,
        now: datetime,
        placement: Placement,
        exclude_members: frozenset[int],
        accrue: bool,
    ) -> bool:
        """Availability buckets: nobody is working now and there is no fallback, so offer
        the lead to whoever starts soonest.

        Members free but for their hours are grouped by when they start (within 24 h,
        48 h ... 120 h); the earliest group shares the lead by the queue's rotation.
        """
        buckets: dict[int, list[SeatInfo]] = {}
        for info in opened.seats:
            if info.seat.member_id in exclude_members or info.reason(now, False) is not None:
                continue
            starts = working_hours_start(info, now)
            hours = (starts - now).total_seconds() / 3600
            bucket = max(1, math.ceil(hours / 24))
            if bucket <= MAX_BUCKET_DAYS:
                buckets.setdefault(bucket, []).append(info)
        if not buckets:
            return False
        first = min(buckets)
        placement.eligible = buckets[first]
        for info in placement.eligible:
            placement.excluded.pop(info.seat.id, None)
        opened.rotation.set_eligibility(s.seat.id for s in placement.eligible)
        if accrue:
            opened.rotation.accrue([s.seat for s in placement.eligible])
        placement.notes.append(
            f"Nobody in {opened.info.name} is working now, so it went to whoever "
            f"starts soonest (within {first * 24} h)."
        )
        return True

    def _choose(
        self,
        batch: Batch,
        opened: OpenQueue,
        seats: tuple[Seat, ...],
        ids: frozenset[int],
        fields: dict[str, Any],
        placement: Placement,
    ) -> Choice:
        key = account_key(opened.info.sticky, fields)
        if key is not None:
            owner = batch.sticky_owner(opened, key)
            owned = opened.by_member(owner) if owner is not None else None
            if owned is not None and owned.seat.id in placement.excluded:
                owned = None  # every seat is either eligible or excluded, with its reason
            if owned is not None:
                placement.notes.append(
                    f"{owned.name} already owns the account {key}, and sticky ownership keeps it with them."
                )
                placement.decided_by = explain.DecidedBy.STICKY
                return Choice(owned.seat, None)
        return opened.rotation.choose(seats, opened.info.strategy, ids)

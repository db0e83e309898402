"""Which seats of a queue may take a lead, kept as an answer with an end.

Eligibility moves with time only at events: a pause or a Slack status ends, a leave starts
or ends, working hours open or close (and a reason that names a day reads differently the
next day). So the answer for one moment holds until the first such event among the seats
(`bot.routing.availability.eligibility.reason_holds_until`), and a queue that keeps it
(`OpenQueue.eligible_now`) pays for every seat only then, not on every lead. A change of
the facts themselves (an open lead counted, a write) drops the answer instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.routing.availability.eligibility import on_leave_until, reason_holds_until, unavailable_reason

if TYPE_CHECKING:
    from bot.routing.fairness import Seat
    from bot.routing.ledger.queues import SeatInfo


@dataclass(frozen=True, slots=True)
class EligibleNow:
    """The eligible seats and each other seat's reason, true from `since` until `until`."""

    since: datetime
    until: datetime | None  # None: until the facts change
    seats: tuple[SeatInfo, ...]
    excluded: dict[int, str]  # seat id -> reason; read only
    ids: frozenset[int]  # the eligible seats' ids: one object while the answer holds
    ledger_seats: tuple[Seat, ...]  # the eligible seats' ledger entries, as strategies take them

    def holds_at(self, now: datetime) -> bool:
        return self.since <= now and (self.until is None or now < self.until)

    def without_members(
        self, seats: list[SeatInfo], members: frozenset[int]
    ) -> tuple[list[SeatInfo], dict[int, str]]:
        """The answer with these members left out (a re-offer skips whoever had the lead);
        the reasons stay in the seats' order, as an explanation lists them."""
        eligible, excluded = [], {}
        for info in seats:
            reason = self.excluded.get(info.seat.id)
            if reason is None and info.seat.member_id in members:
                reason = "offered this lead already"
            if reason is None:
                eligible.append(info)
            else:
                excluded[info.seat.id] = reason
        return eligible, excluded


def eligible_now(seats: list[SeatInfo], now: datetime, respect_hours: bool) -> EligibleNow:
    """Ask every seat once: its reason at `now` and how long that reason holds."""
    eligible: list[SeatInfo] = []
    excluded: dict[int, str] = {}
    until: datetime | None = None
    for info in seats:
        facts = info.facts
        if info.leaves:
            facts.on_leave_until = on_leave_until(info.leaves, now)
        reason = unavailable_reason(facts, now, respect_hours=respect_hours)
        if reason is None:
            eligible.append(info)
        else:
            excluded[info.seat.id] = reason
        if info.leaves or facts.paused_until or facts.status_paused_until or (
            respect_hours and facts.working_hours
        ):
            holds = reason_holds_until(facts, info.leaves, now, respect_hours=respect_hours)
            if holds is not None and (until is None or holds < until):
                until = holds
    return EligibleNow(now, until, tuple(eligible), excluded, frozenset(s.seat.id for s in eligible),
                       tuple(s.seat for s in eligible))

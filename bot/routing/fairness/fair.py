"""`fair`: the quota method (Balinski-Young) in its lag form, as DESIGN.md states it.

Among eligible seats with lag > 0 the winner is the one whose lag would reach 1 soonest,
the smallest (1 - lag) / w; if none has lag > 0, the largest lag wins; ties go to the
least recently assigned, then to the lowest seat id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.routing.fairness.ranking import TOLERANCE, Choice, first, near_best, with_contenders
from bot.routing.fairness.strategy import Strategy

if TYPE_CHECKING:
    from bot.routing.fairness.lag_index import LagIndex
    from bot.routing.fairness.rotation import Rotation, Seat


class Fair(Strategy):
    name = "fair"

    def choose(self, rotation: Rotation, eligible: Sequence[Seat]) -> Choice:
        """Rank with floats, decide with Fractions.

        Exact arithmetic on every seat is what made large queues slow, so floats find
        the seats that could be the answer (anything within a tolerance far above float
        error of the best) and only those are compared exactly. The result is the exact
        rule's, ties included.
        """
        vtime = float(rotation.vtime)
        approx = {seat.id: seat.approx_lag(vtime) for seat in eligible}
        due = [
            s
            for s in eligible
            if approx[s.id] > TOLERANCE or (approx[s.id] >= -TOLERANCE and rotation.lag(s) > 0)
        ]
        if due:
            near = near_best(due, lambda s: (1 - approx[s.id]) / s.approx_weight())
            lags = {seat.id: rotation.lag(seat) for seat in near}
            choice = first(near, lambda s: ((1 - lags[s.id]) / s.weight, s.last_seq), "due soonest")
        else:
            near = near_best(eligible, lambda s: -approx[s.id])
            lags = {seat.id: rotation.lag(seat) for seat in near}
            choice = first(near, lambda s: (-lags[s.id], s.last_seq), "largest lag")
        return Choice(choice.seat, choice.tie_break, lags, approx)

    def choose_ranked(self, rotation: Rotation, index: LagIndex) -> Choice:
        """`choose` from the lag index: the same seat and tie-break, from a few seats.

        Among seats of one weight, the order by (1 - lag) / w, then recency, then id is the
        index's turn order at every moment, and so is the order by largest lag; and a seat
        is due (lag > 0) only if the first of its weight is. So the winner is the best of
        each weight's first seat, and a tie can only be with another weight's first or with
        the second of the winner's own weight: those are all that is compared, exactly.
        """
        vtime = rotation.vtime
        seats = rotation.seats
        firsts = [seats[seat_id] for _, seat_id in index.heads()]
        lags = {seat.id: seat.lag(vtime) for seat in firsts}
        due = [seat for seat in firsts if lags[seat.id] > 0]
        pool, reason = (due, "due soonest") if due else (firsts, "largest lag")

        def key(seat: Seat) -> tuple[Any, ...]:
            lag = lags[seat.id]
            return ((1 - lag) / seat.weight, seat.last_seq) if due else (-lag, seat.last_seq)

        best = first(pool, key, reason).seat
        turn = index.classes[best.weight].by_turn
        if len(turn) > 1:
            second = seats[turn[1][2]]
            lags[second.id] = second.lag(vtime)
            if not due or lags[second.id] > 0:
                pool = [*pool, second]
        choice = first(pool, key, reason)
        return with_contenders(rotation, index, Choice(choice.seat, choice.tie_break, lags))

    def winner_sentence(self, name: str, row: dict[str, Any], eligible: int) -> str:
        share = row["lag"] + row["count"] + row["adjustment"]  # for display: the float is enough
        adjusted = f" and an adjustment of {row['adjustment']:+d}" if row["adjustment"] else ""
        return (
            f"{name} was next: a fair share so far of {float(share):.2f} leads against "
            f"{row['count']} received{adjusted} (lag {row['lag']:+.2f}, weight {row['weight']}), "
            f"the most overdue of {eligible} available."
        )

"""Two rotations living through one random history, for the property tests that hold a kept
order (the lag index, the seat orders) to the walk over every eligible seat.

A history is a list of steps `(kind, n)`: a lead, a member going away or coming back, a pass
credited, a reweight, an adjustment, an open lead closed or one more from another queue, a new
period. `live` applies each step to both rotations alike and yields the moment a lead could be
picked; the test picks with both, compares, and charges the winners when the step was a lead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction

from hypothesis import strategies as st

from bot.routing.fairness import Rotation, Seat
from bot.routing.fairness.ranking import CONTENDERS, Choice

Step = tuple[str, int]


def steps(*kinds: str) -> st.SearchStrategy[Step]:
    """Steps of these kinds; `lead` and `reset` take no seat, the others one of up to 40."""
    return st.one_of(*(st.tuples(st.just(kind), st.integers(0, 0 if kind in ("lead", "reset") else 39))
                       for kind in kinds))


def twins(seats: list[Seat], seq: int = 0) -> tuple[Rotation, Rotation]:
    """Two rotations over equal but separate seats: one to walk, one to pick from its order."""
    return (Rotation(seq=seq, seats={s.id: s for s in seats}),
            Rotation(seq=seq, seats={s.id: replace(s) for s in seats}))


@dataclass(frozen=True)
class Moment:
    """Both rotations after one step, accrued for a lead over the seats not away."""

    kind: str
    eligible: frozenset[int]
    walked_seats: list[Seat]
    indexed_seats: list[Seat]


def live(walked: Rotation, indexed: Rotation, history: list[Step],
         weights: list[Fraction]) -> Iterator[Moment]:
    """Apply each step to both rotations; yield a Moment after each, unless everyone is away."""
    away: set[int] = set()
    size = len(walked.seats)
    for kind, n in history:
        seat_id = n % size + 1
        if kind == "away":
            away.add(seat_id)
        elif kind == "back":
            away.discard(seat_id)
        elif kind == "credit":
            walked.credit(walked.seats[seat_id])
            indexed.credit(indexed.seats[seat_id])
        elif kind == "reweight":
            weight = weights[n % len(weights)]
            walked.reweight(walked.seats[seat_id], weight)
            indexed.reweight(indexed.seats[seat_id], weight)
        elif kind == "adjust":
            here = [i for i in walked.seats if i not in away]
            walked.adjust(walked.seats[seat_id], 1 + n % 3, here)
            indexed.adjust(indexed.seats[seat_id], 1 + n % 3, here)
        elif kind in ("accepted", "elsewhere"):  # an open lead closed, or one more from another queue
            count = max(0, walked.seats[seat_id].open_leads + (-1 if kind == "accepted" else 1))
            walked.count_open(walked.seats[seat_id], count)
            indexed.count_open(indexed.seats[seat_id], count)
        elif kind == "reset":
            walked.reset()
            indexed.reset()
        eligible = frozenset(s for s in walked.seats if s not in away)
        if not eligible:
            continue
        walked.set_eligibility(eligible)
        indexed.set_eligibility(eligible)
        walked_seats = [walked.seats[i] for i in sorted(eligible)]
        indexed_seats = [indexed.seats[i] for i in sorted(eligible)]
        walked.accrue(walked_seats, eligible)
        indexed.accrue(indexed_seats, eligible)
        yield Moment(kind, eligible, walked_seats, indexed_seats)


def assert_contenders_are_the_largest(choice: Choice, rotation: Rotation, eligible: frozenset[int]) -> None:
    """An explanation ranks every seat when few enough; else the winner first, then the largest
    lags (compared as sorted lags: floats may order exact ties otherwise than by id)."""
    if choice.contenders is None:
        assert len(eligible) <= CONTENDERS + 1
        return
    others = sorted((s for s in rotation.seats.values() if s.id in eligible and s.id != choice.seat.id),
                    key=lambda s: (-rotation.lag(s), s.id))
    largest = [rotation.lag(choice.seat), *(rotation.lag(s) for s in others)][: CONTENDERS + 1]
    assert choice.contenders[0] is choice.seat
    assert sorted(rotation.lag(s) for s in choice.contenders) == sorted(largest)

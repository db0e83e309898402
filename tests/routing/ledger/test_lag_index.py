"""Picking from the lag index is the quota rule's pick over every seat, ties included.

Two rotations live through the same random history (leads, members leaving and coming
back, passes credited, weights changed): one picks by walking every eligible seat, the
other from its lag index. Every pick, tie-break and the explanation's contenders match.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.routing.fairness import Rotation, Seat
from bot.routing.fairness.ranking import CONTENDERS

WEIGHTS = [Fraction(1), Fraction(2), Fraction(3), Fraction(1, 3), Fraction(18, 100), Fraction(32, 100)]

step = st.one_of(
    st.tuples(st.just("lead"), st.integers(0, 0)),
    st.tuples(st.just("away"), st.integers(0, 39)),
    st.tuples(st.just("back"), st.integers(0, 39)),
    st.tuples(st.just("credit"), st.integers(0, 39)),
    st.tuples(st.just("reweight"), st.integers(0, 39)),
)


def twins(weights: list[Fraction]) -> tuple[Rotation, Rotation]:
    seats = [Seat(i + 1, i + 1, w) for i, w in enumerate(weights)]
    return (Rotation(seats={s.id: s for s in seats}),
            Rotation(seats={s.id: replace(s) for s in seats}))


def exact_top(rotation: Rotation, eligible: frozenset[int], winner: int) -> list[int]:
    others = sorted((s for s in rotation.seats.values() if s.id in eligible and s.id != winner),
                    key=lambda s: (-rotation.lag(s), s.id))
    return [winner, *(s.id for s in others)][: CONTENDERS + 1]


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.sampled_from(WEIGHTS), min_size=1, max_size=40),
    history=st.lists(step, min_size=1, max_size=120),
)
def test_the_index_picks_as_the_walk_does(weights: list[Fraction], history: list[tuple[str, int]]) -> None:
    walked, indexed = twins(weights)
    away: set[int] = set()
    for kind, n in history:
        seat_id = n % len(weights) + 1
        if kind == "away":
            away.add(seat_id)
        elif kind == "back":
            away.discard(seat_id)
        elif kind == "credit":
            walked.credit(walked.seats[seat_id])
            indexed.credit(indexed.seats[seat_id])
        elif kind == "reweight":
            weight = WEIGHTS[n % len(WEIGHTS)]
            walked.reweight(walked.seats[seat_id], weight)
            indexed.reweight(indexed.seats[seat_id], weight)
        ids = frozenset(s for s in walked.seats if s not in away)
        if not ids:
            continue
        walked.set_eligibility(ids)
        indexed.set_eligibility(ids)
        walked_seats = [walked.seats[i] for i in sorted(ids)]
        indexed_seats = [indexed.seats[i] for i in sorted(ids)]
        walked.accrue(walked_seats, ids)
        indexed.accrue(indexed_seats, ids)
        by_walk = walked.choose(walked_seats, "fair")
        by_index = indexed.choose(indexed_seats, "fair", ids)
        assert len(indexed.index()) == len(ids)  # kept in step: every eligible seat, no other
        assert (by_index.seat.id, by_index.tie_break) == (by_walk.seat.id, by_walk.tie_break)
        assert by_index.lags is not None and by_index.lags[by_index.seat.id] == walked.lag(by_walk.seat)
        if by_index.contenders is None:  # few enough for an explanation to rank them all
            assert len(ids) <= CONTENDERS + 1
        else:  # the largest lags (floats may order exact ties otherwise than by id)
            shown = [indexed.lag(s) for s in by_index.contenders]
            top = [indexed.lag(indexed.seats[i]) for i in exact_top(indexed, ids, by_index.seat.id)]
            assert by_index.contenders[0] is by_index.seat and sorted(shown) == sorted(top)
        if kind == "lead":
            walked.charge(by_walk.seat)
            indexed.charge(by_index.seat)
    assert {s.id: walked.lag(s) for s in walked.seats.values()} == {
        s.id: indexed.lag(s) for s in indexed.seats.values()
    }

"""Picking from the lag index is the quota rule's pick over every seat, ties included.

Two rotations live through the same random history (leads, members leaving and coming
back, passes credited, weights changed): one picks by walking every eligible seat, the
other from its lag index. Every pick, tie-break and the explanation's contenders match.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from twin_rotations import assert_contenders_are_the_largest, live, steps, twins

from bot.routing.fairness import Seat

WEIGHTS = [Fraction(1), Fraction(2), Fraction(3), Fraction(1, 3), Fraction(18, 100), Fraction(32, 100)]

step = steps("lead", "away", "back", "credit", "reweight")


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.sampled_from(WEIGHTS), min_size=1, max_size=40),
    history=st.lists(step, min_size=1, max_size=120),
)
def test_the_index_picks_as_the_walk_does(weights: list[Fraction], history: list[tuple[str, int]]) -> None:
    walked, indexed = twins([Seat(i + 1, i + 1, w) for i, w in enumerate(weights)])
    for moment in live(walked, indexed, history, WEIGHTS):
        ids = moment.eligible
        by_walk = walked.choose(moment.walked_seats, "fair")
        by_index = indexed.choose(moment.indexed_seats, "fair", ids)
        assert len(indexed.index()) == len(ids)  # kept in step: every eligible seat, no other
        assert (by_index.seat.id, by_index.tie_break) == (by_walk.seat.id, by_walk.tie_break)
        assert by_index.lags is not None and by_index.lags[by_index.seat.id] == walked.lag(by_walk.seat)
        assert_contenders_are_the_largest(by_index, indexed, ids)
        if moment.kind == "lead":
            walked.charge(by_walk.seat)
            indexed.charge(by_index.seat)
    assert {s.id: walked.lag(s) for s in walked.seats.values()} == {
        s.id: indexed.lag(s) for s in indexed.seats.values()
    }

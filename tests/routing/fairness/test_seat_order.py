"""Picking `least_recent` and `load_balance` from their seat orders is the walk's pick, ties included.

As for the lag index (tests/routing/ledger/test_lag_index.py), two rotations live through
the same random history (tests/routing/twin_rotations.py: leads, members leaving and coming
back, passes credited, reweights, adjustments, a new period, open-lead counts moving as other
queues' leads and accepts move them): one walks every eligible seat, the other reads its
strategy's order. Every pick, tie-break and the explanation's contenders match.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twin_rotations import assert_contenders_are_the_largest, live, steps, twins

from bot.routing.fairness import Rotation, Seat
from bot.routing.fairness.load_balance import LoadBalance

WEIGHTS = [Fraction(1), Fraction(2), Fraction(1, 3), Fraction(18, 100)]

step = steps("lead", "lead", "away", "back", "credit", "reweight", "adjust", "accepted", "elsewhere", "reset")

SeatRow = tuple[Fraction, int, int, int | None]
# A seat as it may be read: its weight, when it last got a lead (equal ones tie), its
# open leads and capacity (None: uncapped).
seat_rows = st.tuples(
    st.sampled_from(WEIGHTS), st.integers(0, 3), st.integers(0, 4), st.one_of(st.none(), st.integers(0, 6))
)


@contextmanager
def counts_told(told: bool) -> Iterator[None]:
    """`load_balance` reading its order (told) or walking for its pick (not yet told)."""
    before = LoadBalance.counts_told
    LoadBalance.counts_told = told
    try:
        yield
    finally:
        LoadBalance.counts_told = before


@pytest.mark.parametrize(("strategy", "told"), [("least_recent", False), ("load_balance", False),
                                                ("load_balance", True)])
@settings(max_examples=60, deadline=None)
@given(rows=st.lists(seat_rows, min_size=1, max_size=40), history=st.lists(step, min_size=1, max_size=120))
def test_the_order_picks_as_the_walk_does(
    strategy: str, told: bool, rows: list[SeatRow], history: list[tuple[str, int]]
) -> None:
    with counts_told(told):
        live_the_same_history(strategy, rows, history)


def live_the_same_history(strategy: str, rows: list[SeatRow], history: list[tuple[str, int]]) -> None:
    seats = [Seat(i + 1, i + 1, w, last_seq=seq, open_leads=open_leads, capacity=cap)
             for i, (w, seq, open_leads, cap) in enumerate(rows)]
    walked, indexed = twins(seats, seq=max(seat.last_seq for seat in seats))
    for moment in live(walked, indexed, history, WEIGHTS):
        ids = moment.eligible
        by_walk = walked.choose(moment.walked_seats, strategy)
        by_order = indexed.choose(moment.indexed_seats, strategy, ids)
        assert by_walk.contenders is None  # the walk: the explanation ranks every seat
        if strategy == "least_recent" or LoadBalance.counts_told:  # kept: every eligible seat, no other
            assert len(indexed.order(strategy, lambda s: ())) == len(ids)
        assert (by_order.seat.id, by_order.tie_break) == (by_walk.seat.id, by_walk.tie_break)
        assert_contenders_are_the_largest(by_order, indexed, ids)
        if moment.kind == "lead":
            walked.charge(by_walk.seat)
            indexed.charge(by_order.seat)
    assert [(s.last_seq, s.open_leads, walked.lag(s)) for s in walked.seats.values()] == [
        (s.last_seq, s.open_leads, indexed.lag(s)) for s in indexed.seats.values()
    ]


def test_a_tie_on_recency_is_said_and_goes_to_the_lower_id() -> None:
    seats = {i: Seat(i, i, Fraction(1), frozen=False, last_seq=seq) for i, seq in [(1, 4), (2, 0), (3, 0)]}
    rotation, ids = Rotation(seq=4, seats=seats), frozenset(seats)
    rotation.set_eligibility(ids)
    choice = rotation.choose(list(seats.values()), "least_recent", ids)
    assert choice.seat.id == 2
    assert choice.tie_break == "tied with the next candidate; the lower id goes first"
    rotation.charge(choice.seat)
    assert rotation.choose(list(seats.values()), "least_recent", ids).seat.id == 3

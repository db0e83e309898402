"""Picking `least_recent` and `load_balance` from their seat orders is the walk's pick, ties included.

As for the lag index (tests/routing/ledger/test_lag_index.py), two rotations live through
the same random history (leads, members leaving and coming back, passes credited,
reweights, adjustments, a new period, open-lead counts moving as other queues' leads and
accepts move them): one walks every eligible seat, the other reads its strategy's order.
Every pick, tie-break and the explanation's contenders match.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.routing.fairness import Rotation, Seat
from bot.routing.fairness.load_balance import LoadBalance
from bot.routing.fairness.ranking import CONTENDERS

WEIGHTS = [Fraction(1), Fraction(2), Fraction(1, 3), Fraction(18, 100)]

step = st.one_of(
    st.tuples(st.just("lead"), st.integers(0, 0)),
    st.tuples(st.just("lead"), st.integers(0, 0)),
    st.tuples(st.just("away"), st.integers(0, 39)),
    st.tuples(st.just("back"), st.integers(0, 39)),
    st.tuples(st.just("credit"), st.integers(0, 39)),
    st.tuples(st.just("reweight"), st.integers(0, 39)),
    st.tuples(st.just("adjust"), st.integers(0, 39)),
    st.tuples(st.just("accepted"), st.integers(0, 39)),  # an open lead closed: one fewer
    st.tuples(st.just("elsewhere"), st.integers(0, 39)),  # a lead in another queue: one more
    st.tuples(st.just("reset"), st.integers(0, 0)),
)

SeatRow = tuple[Fraction, int, int, int | None]
# A seat as it may be read: its weight, when it last got a lead (equal ones tie), its
# open leads and capacity (None: uncapped).
seat_rows = st.tuples(
    st.sampled_from(WEIGHTS), st.integers(0, 3), st.integers(0, 4), st.one_of(st.none(), st.integers(0, 6))
)


def twins(rows: list[SeatRow]) -> tuple[Rotation, Rotation]:
    seats = [Seat(i + 1, i + 1, w, last_seq=seq, open_leads=open_leads, capacity=cap)
             for i, (w, seq, open_leads, cap) in enumerate(rows)]
    top = max(seat.last_seq for seat in seats)
    return (Rotation(seq=top, seats={s.id: s for s in seats}),
            Rotation(seq=top, seats={s.id: replace(s) for s in seats}))


def largest_lags(rotation: Rotation, eligible: frozenset[int], winner: int) -> list[Fraction]:
    others = sorted((s for s in rotation.seats.values() if s.id in eligible and s.id != winner),
                    key=lambda s: (-rotation.lag(s), s.id))
    return [rotation.lag(rotation.seats[winner]), *(rotation.lag(s) for s in others)][: CONTENDERS + 1]


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
    walked, indexed = twins(rows)
    away: set[int] = set()
    for kind, n in history:
        seat_id = n % len(rows) + 1
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
        elif kind == "adjust":
            here = [i for i in walked.seats if i not in away]
            walked.adjust(walked.seats[seat_id], 1 + n % 3, here)
            indexed.adjust(indexed.seats[seat_id], 1 + n % 3, here)
        elif kind in ("accepted", "elsewhere"):
            count = max(0, walked.seats[seat_id].open_leads + (-1 if kind == "accepted" else 1))
            walked.count_open(walked.seats[seat_id], count)
            indexed.count_open(indexed.seats[seat_id], count)
        elif kind == "reset":
            walked.reset()
            indexed.reset()
        ids = frozenset(s for s in walked.seats if s not in away)
        if not ids:
            continue
        walked.set_eligibility(ids)
        indexed.set_eligibility(ids)
        walked_seats = [walked.seats[i] for i in sorted(ids)]
        indexed_seats = [indexed.seats[i] for i in sorted(ids)]
        walked.accrue(walked_seats, ids)
        indexed.accrue(indexed_seats, ids)
        by_walk = walked.choose(walked_seats, strategy)
        by_order = indexed.choose(indexed_seats, strategy, ids)
        assert by_walk.contenders is None  # the walk: the explanation ranks every seat
        if strategy == "least_recent" or LoadBalance.counts_told:  # kept: every eligible seat, no other
            assert len(indexed.order(strategy, lambda s: ())) == len(ids)
        assert (by_order.seat.id, by_order.tie_break) == (by_walk.seat.id, by_walk.tie_break)
        if by_order.contenders is None:  # few enough for an explanation to rank them all
            assert len(ids) <= CONTENDERS + 1
        else:  # the largest lags (floats may order exact ties otherwise than by id)
            shown = [indexed.lag(s) for s in by_order.contenders]
            assert by_order.contenders[0] is by_order.seat
            assert sorted(shown) == sorted(largest_lags(indexed, ids, by_order.seat.id))
        if kind == "lead":
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

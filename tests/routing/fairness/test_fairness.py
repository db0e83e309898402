"""The quota property and the freeze rules of the fair strategy (pure, exact arithmetic)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.routing.fairness import Rotation, Seat


def rotation_of(weights: list[int]) -> Rotation:
    return Rotation(seats={i: Seat(id=i, member_id=i, weight=Fraction(w)) for i, w in enumerate(weights)})


def deal(rotation: Rotation, eligible: list[int]) -> int:
    seats = [rotation.seats[i] for i in eligible]
    rotation.set_eligibility(eligible)
    rotation.accrue(seats)
    winner = rotation.choose(seats).seat
    rotation.charge(winner)
    return winner.id


weights_any = st.lists(st.integers(1, 100), min_size=2, max_size=20)
weights_small = st.lists(st.integers(1, 3), min_size=2, max_size=20)


def assert_quota_every_prefix(weights: list[int], leads: int) -> None:
    rotation = rotation_of(weights)
    total = sum(weights)
    for t in range(1, leads + 1):
        deal(rotation, list(rotation.seats))
        for seat in rotation.seats.values():
            exact = Fraction(t * int(seat.weight), total)
            assert abs(seat.received - exact) < 1, (weights, t, seat.id, seat.received, exact)


@settings(max_examples=60, deadline=None)
@given(weights_any, st.integers(50, 300))
def test_every_prefix_keeps_every_count_within_one_of_its_share(weights: list[int], leads: int) -> None:
    assert_quota_every_prefix(weights, leads)


@settings(max_examples=60, deadline=None)
@given(weights_small, st.integers(50, 300))
def test_quota_holds_for_small_weights_where_simpler_rules_fail(weights: list[int], leads: int) -> None:
    assert_quota_every_prefix(weights, leads)


def test_known_hard_weight_set_from_the_design() -> None:
    assert_quota_every_prefix([1, 7, 17, 15, 19, 1], 600)


def test_the_18_18_32_32_split_is_exact_after_a_hundred_leads() -> None:
    rotation = rotation_of([18, 18, 32, 32])
    for _ in range(100):
        deal(rotation, [0, 1, 2, 3])
    assert [s.received for s in rotation.seats.values()] == [18, 18, 32, 32]


def test_paused_member_returns_level_not_owed_the_leads_they_missed() -> None:
    rotation = rotation_of([1, 1, 1])
    for _ in range(9):
        deal(rotation, [0, 1, 2])
    lag_before = rotation.lag(rotation.seats[2])
    for _ in range(30):  # member 2 paused for 30 leads
        deal(rotation, [0, 1])
    assert rotation.lag(rotation.seats[2]) == lag_before
    next_nine = [deal(rotation, [0, 1, 2]) for _ in range(9)]
    assert next_nine.count(2) == 3  # an equal share, not a flood of 15


def test_member_added_after_forty_leads_gets_an_equal_share_not_a_flood() -> None:
    rotation = rotation_of([1, 1])
    for _ in range(40):
        deal(rotation, [0, 1])
    rotation.seats[2] = Seat(id=2, member_id=2, weight=Fraction(1))
    picks = [deal(rotation, [0, 1, 2]) for _ in range(30)]
    assert picks.count(2) == 10
    assert max(picks[:3].count(2), 0) <= 1


def test_adjustment_plus_n_is_exactly_n_leads_dealt_to_that_member() -> None:
    rotation = rotation_of([1, 1, 2])
    for _ in range(8):
        deal(rotation, [0, 1, 2])
    before = {i: rotation.lag(s) for i, s in rotation.seats.items()}
    rotation.adjust(rotation.seats[0], 4, [0, 1, 2])
    after = {i: rotation.lag(s) for i, s in rotation.seats.items()}
    # Four leads' worth of share spread by weight (1, 1, 2 of 4), and four charged to member 0.
    assert after[0] == before[0] + 1 - 4
    assert after[1] == before[1] + 1
    assert after[2] == before[2] + 2
    assert sum(after.values()) == sum(before.values())
    assert rotation.seats[0].adjustment == 4
    # Counted as 6 of 12 leads against a quarter share, member 0 waits until the share catches up...
    picks = [deal(rotation, [0, 1, 2]) for _ in range(8)]
    assert 0 not in picks
    # ...and from then on stays within one lead of it.
    for t in range(9, 41):
        deal(rotation, [0, 1, 2])
        counted = rotation.seats[0].received + rotation.seats[0].adjustment
        assert abs(counted - Fraction(8 + 4 + t, 4)) < 1


def test_credit_gives_the_share_back() -> None:
    rotation = rotation_of([1, 1])
    winner = deal(rotation, [0, 1])
    rotation.credit(rotation.seats[winner])
    assert rotation.seats[winner].received == 0
    assert rotation.lag(rotation.seats[winner]) == Fraction(1, 2)


def test_ties_go_to_the_least_recently_assigned_then_the_lowest_id() -> None:
    rotation = rotation_of([1, 1, 1])
    assert [deal(rotation, [0, 1, 2]) for _ in range(6)] == [0, 1, 2, 0, 1, 2]


def test_least_recent_and_load_balance_strategies() -> None:
    rotation = rotation_of([1, 1, 1])
    rotation.seats[0].last_seq, rotation.seats[1].last_seq, rotation.seats[2].last_seq = 5, 2, 9
    seats = list(rotation.seats.values())
    assert rotation.choose(seats, "least_recent").seat.id == 1
    rotation.seats[0].capacity, rotation.seats[0].open_leads = 10, 1
    rotation.seats[1].capacity, rotation.seats[1].open_leads = 10, 6
    rotation.seats[2].capacity, rotation.seats[2].open_leads = 5, 3
    assert rotation.choose(seats, "load_balance").seat.id == 0


def exact_choice(rotation: Rotation, seats: list[Seat]) -> int:
    """The design's rule with Fractions only: the reference the fast path must match."""
    lags = {s.id: rotation.lag(s) for s in seats}
    due = [s for s in seats if lags[s.id] > 0]
    if due:
        return min(due, key=lambda s: ((1 - lags[s.id]) / s.weight, s.last_seq, s.id)).id
    return min(seats, key=lambda s: (-lags[s.id], s.last_seq, s.id)).id


lag_values = st.fractions(min_value=-3, max_value=1, max_denominator=10**6)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 100), lag_values, st.integers(0, 5)), min_size=1, max_size=30),
    st.fractions(min_value=0, max_value=50, max_denominator=1000),
)
def test_float_ranking_picks_exactly_what_the_exact_rule_picks(
    rows: list[tuple[int, Fraction, int]], vtime: Fraction
) -> None:
    seats = {
        i: Seat(
            id=i, member_id=i, weight=Fraction(w), lag_base=lag, vtime_base=vtime, frozen=False, last_seq=seq
        )
        for i, (w, lag, seq) in enumerate(rows)
    }
    # Near-ties that floats cannot tell apart: a lag one part in 10**15 above another.
    if len(seats) > 1:
        seats[1].lag_base = seats[0].lag_base + Fraction(1, 10**15)
    rotation = Rotation(vtime=vtime, seats=seats)
    eligible = list(seats.values())
    assert rotation.choose(eligible).seat.id == exact_choice(rotation, eligible)

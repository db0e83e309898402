"""What every strategy's pick is made of: the choice, ties broken the same way, float ranking."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.routing.fairness.lag_index import LagIndex
    from bot.routing.fairness.rotation import Rotation, Seat
    from bot.routing.fairness.seat_order import SeatOrder

# Far above the rounding error of a float lag (~1e-13 for lags and weights in the
# thousands) and far below any real difference between two exact lags worth telling apart
# by floats: anything closer is compared exactly.
TOLERANCE = 1e-6
# As many seats as an explanation shows (`bot.routing.assignment.explain.MAX_CANDIDATES`).
CONTENDERS = 12


@dataclass(frozen=True, slots=True)
class Choice:
    seat: Seat
    tie_break: str | None
    lags: dict[int, Fraction] | None = None  # the exact lags compared, computed once
    approx: dict[int, float] | None = None  # eligible seats' float lags, for explanations
    # Picked from the lag index: the winner and the largest lags, all an explanation shows
    # (None: every eligible seat, whose float lags are in `approx`).
    contenders: tuple[Seat, ...] | None = None


def near_best(seats: Sequence[Seat], approx_key: Callable[[Seat], float]) -> list[Seat]:
    """The seats whose approximate key is within the tolerance of the smallest one."""
    keyed = [(approx_key(seat), seat) for seat in seats]
    best = min(key for key, _ in keyed)
    bound = best + TOLERANCE * max(1.0, abs(best))
    return [seat for key, seat in keyed if key <= bound]


def first(seats: Sequence[Seat], key: Callable[[Seat], tuple[Any, ...]], reason: str) -> Choice:
    """The seat with the smallest key; ties broken by recency, then by id, and said so."""
    keyed = [(key(seat), seat.id, seat) for seat in seats]
    best = min(keyed, key=lambda k: (k[0], k[1]))
    tie_break = None
    others = [k for k in keyed if k[2] is not best[2] and k[0][0] == best[0][0]]
    if others:
        runner_up = min(others, key=lambda k: (k[0], k[1]))
        if runner_up[0] == best[0]:
            tie_break = "tied with the next candidate; the lower id goes first"
        else:
            tie_break = (
                f"tied on {reason} with the next candidate; "
                "the one who waited longer since their last lead goes first"
            )
    return Choice(best[2], tie_break)


class FloatLags(dict[int, float]):
    """Seats' float lags by id, each worked out the first time it is asked for: a pick from
    the lag index knows only its contenders' (an explanation may ask for every seat's)."""

    def __init__(self, rotation: Rotation) -> None:
        super().__init__()
        self._seats = rotation.seats
        self._vtime = float(rotation.vtime)

    def __missing__(self, seat_id: int) -> float:
        lag = self[seat_id] = self._seats[seat_id].approx_lag(self._vtime)
        return lag


def top_lags(rotation: Rotation, index: LagIndex, winner: Seat) -> tuple[tuple[Seat, ...], FloatLags]:
    """The winner and the `CONTENDERS` largest lags (ties: the lower id) from the lag index,
    with their float lags: an explanation need rank only these, as it would rank every seat.

    Each weight's seats are in lag order already, so their heads are merged, and only the
    seats taken (and the next of each weight) have their lag worked out."""
    approx = FloatLags(rotation)
    seats = rotation.seats
    heap: list[tuple[float, int, int, list[tuple[Any, int]]]] = []
    for group in index.classes.values():
        first_id = group.by_lag[0][1]
        heap.append((-approx[first_id], first_id, 0, group.by_lag))
    heapq.heapify(heap)
    chosen = [winner]
    while heap and len(chosen) <= CONTENDERS:
        _, seat_id, position, order = heapq.heappop(heap)
        if seat_id != winner.id:
            chosen.append(seats[seat_id])
        if position + 1 < len(order):
            next_id = order[position + 1][1]
            heapq.heappush(heap, (-approx[next_id], next_id, position + 1, order))
    return tuple(chosen), approx


def first_in_order(
    rotation: Rotation, index: LagIndex, order: SeatOrder, key: Callable[[Seat], tuple[Any, ...]], reason: str
) -> Choice:
    """`first` over every eligible seat, read from the front of `order` (kept sorted by
    `key`, then id): its first seat is the winner, and a tie, if any, is with its second.

    The explanation ranks by lag whatever the strategy, so its contenders come from the
    lag index (`top_lags`), as the walk's explanation would rank every seat."""
    front = [rotation.seats[seat_id] for seat_id in order.first(2)]
    return with_contenders(rotation, index, first(front, key, reason))


def with_contenders(rotation: Rotation, index: LagIndex, choice: Choice) -> Choice:
    """`choice` with the explanation's contenders taken from the lag index (`top_lags`),
    unless there are few enough seats for an explanation to show them all."""
    if len(index) <= CONTENDERS + 1:  # an explanation shows them all: nothing to spare
        return choice
    contenders, approx = top_lags(rotation, index, choice.seat)
    return Choice(choice.seat, choice.tie_break, choice.lags, approx, contenders)

"""A rotation's eligible seats kept in lag order, so a pick does not walk every seat.

An eligible seat's lag is `lag_base + w * (vtime - vtime_base)`, that is `a + w * vtime`
with `a = lag_base - w * vtime_base`. As `vtime` grows every lag grows by its weight, so
seats of different weights overtake each other, but among seats of one weight the order
by `a` is the order by lag at every `vtime`, and it changes only when a seat's own entry
does (a charge, a credit, a thaw). So the index keeps, per weight, the seats sorted by `a`:

- `by_turn`: (-a, last_seq, id), the order of every strategy's tie-breaks: the first of
  each weight is that weight's most overdue seat, and the quota rule compares only those;
- `by_lag`: (-a, id), the explanation's order (largest lag first, then the lower id).

A queue has few distinct weights, so a pick costs a few exact comparisons however many
seats it has. The rotation keeps the index up to date as it charges, credits, freezes and
thaws seats, and drops it when a change moves many entries at once (a reweight, an
adjustment, a new period).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.routing.fairness.rotation import Seat

TurnKey = tuple[Fraction, int, int]
LagKey = tuple[Fraction, int]


def entry(seat: Seat) -> Fraction:
    """The seat's lag less its weight times the queue clock: fixed while it only accrues."""
    return seat.lag_base - seat.weight * seat.vtime_base


class WeightClass:
    """The eligible seats of one weight, in both orders."""

    __slots__ = ("by_lag", "by_turn", "weight")

    def __init__(self, weight: Fraction) -> None:
        self.weight = weight
        self.by_turn: list[TurnKey] = []
        self.by_lag: list[LagKey] = []


class LagIndex:
    def __init__(self, seats: Iterable[Seat] = ()) -> None:
        self.classes: dict[Fraction, WeightClass] = {}
        self._keys: dict[int, tuple[Fraction, TurnKey, LagKey]] = {}  # seat id -> where it is
        for seat in seats:
            self.add(seat)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, seat_id: object) -> bool:
        return seat_id in self._keys

    def add(self, seat: Seat) -> None:
        if seat.id in self._keys:
            self.remove(seat)
        minus_a = -entry(seat)
        turn, lag = (minus_a, seat.last_seq, seat.id), (minus_a, seat.id)
        group = self.classes.get(seat.weight)
        if group is None:
            group = self.classes[seat.weight] = WeightClass(seat.weight)
        bisect.insort(group.by_turn, turn)
        bisect.insort(group.by_lag, lag)
        self._keys[seat.id] = (seat.weight, turn, lag)

    def remove(self, seat: Seat) -> None:
        known = self._keys.pop(seat.id, None)
        if known is None:
            return
        weight, turn, lag = known
        group = self.classes[weight]
        del group.by_turn[bisect.bisect_left(group.by_turn, turn)]
        del group.by_lag[bisect.bisect_left(group.by_lag, lag)]
        if not group.by_turn:
            del self.classes[weight]

    def heads(self) -> Iterator[tuple[WeightClass, int]]:
        """Each weight's most overdue seat id, with its class."""
        for group in self.classes.values():
            yield group, group.by_turn[0][2]

    def largest_lags(self, count: int) -> list[int]:
        """Up to `count` seat ids of each weight with the largest lags, in that order (the
        caller ranks them across weights)."""
        return [key[1] for group in self.classes.values() for key in group.by_lag[:count]]

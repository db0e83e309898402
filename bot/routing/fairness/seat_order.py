"""A rotation's eligible seats kept sorted by a strategy's own key, so a pick reads the front.

`least_recent` and `load_balance` rank every eligible seat by a key the rotation itself
moves: the seat's recency (`last_seq`, changed only by a charge), its open leads and its
capacity. Kept sorted by (key, seat id), the order's first seat is the walk's winner and
its second is all a tie-break needs, whatever the queue's size.

The rotation files a seat here when it thaws, re-files it when a charge, a credit or a
new open-lead count (`Rotation.count_open`) moves it, and takes it out when it freezes.
A key may read only what those moves change: a value written to a seat behind the
rotation's back would leave the order stale.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.routing.fairness.rotation import Seat

SeatKey = Callable[["Seat"], tuple[Any, ...]]


class SeatOrder:
    """The unfrozen seats sorted by `key(seat) + (seat.id,)`."""

    __slots__ = ("_filed", "_key", "_sorted")

    def __init__(self, key: SeatKey, seats: Iterable[Seat] = ()) -> None:
        self._key = key
        self._filed: dict[int, tuple[Any, ...]] = {}  # seat id -> the entry it is filed under
        entries = [(*key(seat), seat.id) for seat in seats]
        entries.sort()
        self._sorted: list[tuple[Any, ...]] = entries
        self._filed = {entry[-1]: entry for entry in entries}

    def __len__(self) -> int:
        return len(self._sorted)

    def __contains__(self, seat_id: object) -> bool:
        return seat_id in self._filed

    def add(self, seat: Seat) -> None:
        """File the seat at its key now (again, if it was filed at an older one)."""
        entry = (*self._key(seat), seat.id)
        old = self._filed.get(seat.id)
        if old == entry:
            return
        if old is not None:
            del self._sorted[bisect.bisect_left(self._sorted, old)]
        bisect.insort(self._sorted, entry)
        self._filed[seat.id] = entry

    def remove(self, seat: Seat) -> None:
        old = self._filed.pop(seat.id, None)
        if old is not None:
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    def first(self, count: int) -> list[int]:
        """The ids of the first `count` seats, in order."""
        return [entry[-1] for entry in self._sorted[:count]]

"""`load_balance`: whoever has the most free capacity (open leads against their cap).

Ties on free capacity go to fewer open leads, then to the least recently assigned, then to
the lowest seat id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from bot.routing.fairness.ranking import Choice, first, first_in_order, with_contenders
from bot.routing.fairness.strategy import Strategy

if TYPE_CHECKING:
    from bot.routing.fairness.lag_index import LagIndex
    from bot.routing.fairness.rotation import Rotation, Seat

REASON = "most free capacity"


def load(seat: Seat) -> tuple[float, int, int]:
    """The order of the pick: the most free capacity first (uncapped: unlimited)."""
    free = float("inf") if seat.capacity is None else float(seat.capacity - seat.open_leads)
    return (-free, seat.open_leads, seat.last_seq)


class LoadBalance(Strategy):
    name = "load_balance"
    ranks_by_open_leads = True
    # Whether every open-lead count the ledger changes in memory reaches the rotation
    # through `Rotation.count_open` (the batch's `_count_open` and the cache's refresh do):
    # only then does the order by load stay true, and the pick reads its front instead of
    # walking every seat. False only for the property test that holds the walk to the order.
    counts_told: ClassVar[bool] = True

    def choose(self, rotation: Rotation, eligible: Sequence[Seat]) -> Choice:
        return first(eligible, load, REASON)

    def choose_ranked(self, rotation: Rotation, index: LagIndex) -> Choice:
        """`choose`, read from the seats kept in load order when the rotation is told of
        every open-lead count; else a walk of the seats for the pick. Either way the
        explanation's contenders come from the lag index, not from ranking every seat."""
        if self.counts_told:
            return first_in_order(rotation, index, rotation.order(self.name, load), load, REASON)
        walked = first([seat for seat in rotation.seats.values() if not seat.frozen], load, REASON)
        return with_contenders(rotation, index, walked)

    def winner_sentence(self, name: str, row: dict[str, Any], eligible: int) -> str:
        return f"{name} had the most free capacity among {eligible} available."

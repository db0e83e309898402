"""`least_recent`: whoever has waited longest since their last lead in this queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.routing.fairness.ranking import Choice, first, first_in_order
from bot.routing.fairness.strategy import Strategy

if TYPE_CHECKING:
    from bot.routing.fairness.lag_index import LagIndex
    from bot.routing.fairness.rotation import Rotation, Seat

REASON = "waited longest"


def recency(seat: Seat) -> tuple[int]:
    """The order of the pick: the lead they got longest ago (0: none yet) first."""
    return (seat.last_seq,)


class LeastRecent(Strategy):
    name = "least_recent"

    def choose(self, rotation: Rotation, eligible: Sequence[Seat]) -> Choice:
        return first(eligible, recency, REASON)

    def choose_ranked(self, rotation: Rotation, index: LagIndex) -> Choice:
        """`choose` from the seats kept in recency order (only a charge moves a seat there)."""
        return first_in_order(rotation, index, rotation.order(self.name, recency), recency, REASON)

    def winner_sentence(self, name: str, row: dict[str, Any], eligible: int) -> str:
        return f"{name} had waited longest since their last lead among {eligible} available."

"""`least_recent`: whoever has waited longest since their last lead in this queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.routing.fairness.ranking import Choice, first
from bot.routing.fairness.strategy import Strategy

if TYPE_CHECKING:
    from bot.routing.fairness.rotation import Rotation, Seat


class LeastRecent(Strategy):
    name = "least_recent"

    def choose(self, rotation: Rotation, eligible: Sequence[Seat]) -> Choice:
        return first(eligible, lambda s: (s.last_seq,), "waited longest")

    def winner_sentence(self, name: str, row: dict[str, Any], eligible: int) -> str:
        return f"{name} had waited longest since their last lead among {eligible} available."

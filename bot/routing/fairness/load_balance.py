"""`load_balance`: whoever has the most free capacity (open leads against their cap)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.routing.fairness.ranking import Choice, first
from bot.routing.fairness.strategy import Strategy

if TYPE_CHECKING:
    from bot.routing.fairness.rotation import Rotation, Seat


class LoadBalance(Strategy):
    name = "load_balance"

    def choose(self, rotation: Rotation, eligible: Sequence[Seat]) -> Choice:
        return first(eligible, lambda s: (-_free(s), s.open_leads, s.last_seq), "most free capacity")

    def winner_sentence(self, name: str, row: dict[str, Any], eligible: int) -> str:
        return f"{name} had the most free capacity among {eligible} available."


def _free(seat: Seat) -> float:
    if seat.capacity is None:
        return float("inf")
    return float(seat.capacity - seat.open_leads)

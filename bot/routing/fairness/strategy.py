"""What a strategy is: how it picks a seat, and the sentence that explains its pick.

Both are abstract, so a strategy missing either cannot even be made: a new one is a module
in this folder with one subclass, and one line in `registry.py` (the config's strategy names
and the explanation read the registry; the README's config reference lists them by hand).
`choose` must depend on the rotation alone: previews and standings replay it to say who is
next, so a strategy with chance in it must draw from the rotation's own state (its `seq`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from bot.routing.fairness.lag_index import LagIndex
    from bot.routing.fairness.ranking import Choice
    from bot.routing.fairness.rotation import Rotation, Seat


class Strategy(ABC):
    name: ClassVar[str]  # as the config writes it: `strategy: fair`
    # Whether the pick reads every seat's open-lead count. Those counts move with every
    # lead and accept in any queue without moving this queue's version, so the ledger
    # cache reads them all again in each transaction for such a strategy (and only the
    # capped members' otherwise): a strategy that ranks by load and forgets to say so
    # would pick on stale counts.
    ranks_by_open_leads: ClassVar[bool] = False

    @abstractmethod
    def choose(self, rotation: Rotation, eligible: Sequence[Seat]) -> Choice:
        """The seat that gets the lead, among `eligible` (never empty)."""

    def choose_ranked(self, rotation: Rotation, index: LagIndex) -> Choice | None:
        """The same pick as `choose` over every seat in `index` (every eligible one), made
        from the index in time that does not grow with the queue; None when this strategy
        cannot, and `choose` walks the seats instead."""
        return None

    @abstractmethod
    def winner_sentence(self, name: str, row: dict[str, Any], eligible: int) -> str:
        """Why `name` got it, from their candidate row of the explanation."""

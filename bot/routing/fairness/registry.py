"""Every strategy a queue can name, by the name the config uses."""

from __future__ import annotations

from bot.routing.fairness.fair import Fair
from bot.routing.fairness.least_recent import LeastRecent
from bot.routing.fairness.load_balance import LoadBalance
from bot.routing.fairness.strategy import Strategy

STRATEGIES: dict[str, Strategy] = {s.name: s for s in (Fair(), LeastRecent(), LoadBalance())}


def strategy_named(name: str) -> Strategy:
    """The strategy `name`; KeyError for one the config check would have refused."""
    return STRATEGIES[name]

"""Fairness: which eligible seat of a queue gets the next lead, and why.

- `rotation.py`: a queue's exact ledger in memory (seats, lags, the queue clock);
- `strategy.py`: what a strategy is (a pick and its sentence, both required);
- `fair.py`, `least_recent.py`, `load_balance.py`: one module per strategy;
- `registry.py`: every strategy by its config name; `ranking.py`: what picks share;
- `lag_index.py` and `seat_order.py`: the eligible seats kept in the orders the picks read
  (by lag, by a strategy's key), so a pick costs the same for 10 seats or 1,000;
- `weights.py`: weights and shares as the config writes them, read exactly.
"""

from bot.routing.fairness.ranking import Choice
from bot.routing.fairness.registry import STRATEGIES, strategy_named
from bot.routing.fairness.rotation import Rotation, Seat
from bot.routing.fairness.strategy import Strategy

__all__ = ["STRATEGIES", "Choice", "Rotation", "Seat", "Strategy", "strategy_named"]

"""Every registered strategy's name fits the column that stores it, on every backend.

SQLite does not enforce a VARCHAR's length and PostgreSQL does: a strategy named one
character too long would pass `config check` and the SQLite suite, then fail to apply on
PostgreSQL. This catches it when the strategy is added.
"""

from __future__ import annotations

from sqlalchemy import String

from bot.routing.fairness import STRATEGIES
from bot.store.models import Queue, table_of


def test_every_strategy_name_fits_the_queue_column() -> None:
    column = table_of(Queue).c.strategy.type
    assert isinstance(column, String) and column.length is not None
    length = column.length
    too_long = [name for name in STRATEGIES if len(name) > length]
    assert not too_long, f"strategy names over {length} characters: {too_long}; widen queues.strategy"

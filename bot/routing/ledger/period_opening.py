"""A new period in every queue whose period has ended (the month turned, say)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from bot.routing.ledger.periods import period_key
from bot.routing.ledger.queues import open_queue, save
from bot.routing.team import TeamSettings
from bot.store.models import Queue


def open_due_periods(connection: Connection, team: TeamSettings, now: datetime) -> list[str]:
    """Open the current period in each queue still on an older one; the names opened.

    Safe to run any number of times, on any replica: a queue already on the current period
    is left alone. The caller holds every queue's lock (`assignment.locks.lock_all_queues`).
    """
    current = period_key(now, team.timezone, team.period)
    names = connection.execute(select(Queue.name, Queue.period_key).where(Queue.in_config.is_(True))).all()
    started = []
    for name, key in names:
        if key != current:
            opened = open_queue(connection, name, team, now)
            if opened is not None:
                save(connection, opened, now)
                started.append(name)
    return started

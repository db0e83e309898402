"""Who would get the next N leads of a queue, optionally with a change applied.

Computed inside a transaction that is always rolled back, on a copy of the ledger, so
a manager sees the effect of +5 before making it and nothing is ever committed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from bot.routing.admin.calibration import apply_calibration
from bot.routing.errors import NotFound
from bot.routing.ledger.queues import OpenQueue, eligible_seats, open_queue
from bot.routing.results import Calibration, PreviewPick
from bot.routing.team import TeamSettings


def preview(
    connection: Connection,
    team: TeamSettings,
    queue: str,
    now: datetime,
    *,
    count: int = 10,
    change: Calibration | None = None,
) -> list[PreviewPick]:
    if change is not None:
        opened = apply_calibration(connection, team, change, now, actor="preview")
    else:
        found = open_queue(connection, queue, team, now, lock=False)
        if found is None:
            raise NotFound(f"There is no queue named {queue!r}.")
        opened = found
    return simulate(opened, now, count)


def simulate(opened: OpenQueue, now: datetime, count: int) -> list[PreviewPick]:
    """Play the next `count` leads on the in-memory ledger, everyone staying as they are now."""
    eligible, _ = eligible_seats(opened, now)
    if not eligible:
        return []
    rotation = opened.rotation
    rotation.set_eligibility(s.seat.id for s in eligible)
    seats = [s.seat for s in eligible]
    names = {s.seat.id: (s.slack_id, s.name) for s in eligible}
    picks = []
    for position in range(1, count + 1):
        rotation.accrue(seats)
        winner = rotation.choose(seats, opened.info.strategy).seat
        rotation.charge(winner)
        slack_id, name = names[winner.id]
        picks.append(PreviewPick(position, slack_id, name))
    return picks

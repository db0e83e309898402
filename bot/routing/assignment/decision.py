"""A placement decided for one lead: what its transaction's `Batch` writes at the end.

A new lead and a re-offer (pass, SLA, waiting, reassign) are the same act, so they are the
same record: only `reoffer` tells the batch to update the lead's row rather than insert it,
and `cause` and `hop` say which offer of the lead this is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.routing.ledger.queues import OpenQueue, SeatInfo
from bot.routing.results import MemberRef, RouteOutcome


@dataclass(slots=True)
class Decision:
    """A lead's decision; its assignment id is known once the batch has finished."""

    lead_id: str
    fields: dict[str, Any]
    status: str
    queue: str | None
    rule: str | None
    winner: SeatInfo | None
    opened: OpenQueue | None
    explanation: dict[str, Any]
    reason: str | None = None  # why nobody took it (a lead left waiting)
    account_key: str | None = None  # the lead's account in its queue (sticky ownership)
    assignment: dict[str, Any] | None = None
    assignment_id: int | None = None
    cause: str = "new"
    hop: int = 0
    reoffer: bool = False  # the lead's row exists: it is offered again
    repeat_of: Decision | None = None  # the same id twice in one batch: the first decides

    @property
    def repeat(self) -> bool:
        return self.repeat_of is not None

    def outcome(self) -> RouteOutcome:
        winner = self.winner
        return RouteOutcome(
            lead_id=self.lead_id,
            created=not self.repeat,
            status=self.status,
            queue=self.queue,
            rule=self.rule,
            assignee=MemberRef(winner.slack_id, winner.name) if winner else None,
            explanation=self.explanation,
            assignment_id=(self.repeat_of or self).assignment_id,
        )

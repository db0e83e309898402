"""Reading back what was decided for a lead (a repeated id never routes twice)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from bot.routing.errors import NotFound
from bot.routing.results import MemberRef, RouteOutcome
from bot.store.models import Assignment, Lead, Member


def stored_outcome(connection: Connection, lead_id: str) -> RouteOutcome | None:
    """The decision already stored for this id (a repeat never routes twice)."""
    lead = (
        connection.execute(
            select(Lead.status, Lead.queue, Lead.rule, Lead.explanation).where(Lead.id == lead_id)
        )
    ).first()
    if lead is None:
        return None
    latest = current_assignment(connection, lead_id)
    assignee = None
    if lead.status == "assigned" and latest is not None:
        assignee = MemberRef(latest["slack_id"], latest["name"])
    return RouteOutcome(
        lead_id=lead_id,
        created=False,
        status=lead.status,
        queue=lead.queue,
        rule=lead.rule,
        assignee=assignee,
        explanation=lead.explanation or {},
        assignment_id=latest["id"] if latest else None,
    )


def current_assignment(connection: Connection, lead_id: str) -> dict[str, Any] | None:

    row = (
        connection.execute(
            select(Assignment.id, Assignment.state, Member.slack_id, Member.name)
            .join(Member, Member.id == Assignment.member_id)
            .where(Assignment.lead_id == lead_id)
            .order_by(Assignment.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else dict(row._mapping)


def require_lead(connection: Connection, lead_id: str) -> Any:
    lead = (connection.execute(select(Lead.__table__).where(Lead.id == lead_id))).mappings().first()
    if lead is None:
        raise NotFound(f"There is no lead with id {lead_id}.")
    return lead

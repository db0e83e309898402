"""Reading back what was decided for a lead (a repeated id never routes twice).

A decision's explanation (a few KB) is stored once: on the assignment it made, or on the
lead when no one was assigned. The lead's own column is empty while its latest assignment
carries the explanation (rows written before this rule hold both; they are equal).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from bot.routing.errors import NotFound
from bot.routing.results import LeadRecord, MemberRef, RouteOutcome
from bot.routing.rules.lead_fields import storable
from bot.store.models import Assignment, Lead, Member, Queue, table_of

# An assignment row with who holds it and in which queue: what a click and `GET /leads` read.
ASSIGNMENT_WITH_NAMES = (
    select(table_of(Assignment), Member.slack_id, Member.name, Queue.name.label("queue"))
    .join(Member, Member.id == Assignment.member_id)
    .join(Queue, Queue.id == Assignment.queue_id)
)


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
        explanation=stored_explanation(lead.explanation, latest and latest["explanation"]),
        assignment_id=latest["id"] if latest else None,
    )


def lead_explanation(explanation: dict[str, Any], *, assigned: bool) -> dict[str, Any] | None:
    """What the lead's own column stores: nothing when the new assignment carries it."""
    return None if assigned else explanation


def stored_explanation(on_lead: dict[str, Any] | None, on_latest_assignment: dict[str, Any] | None,
                       ) -> dict[str, Any]:
    """The explanation of a lead's latest decision, wherever it was stored."""
    if on_lead is not None:
        return on_lead
    return on_latest_assignment or {}


def current_assignment(connection: Connection, lead_id: str) -> dict[str, Any] | None:
    row = (
        connection.execute(
            select(Assignment.id, Assignment.state, Member.slack_id, Member.name, Assignment.explanation)
            .join(Member, Member.id == Assignment.member_id)
            .where(Assignment.lead_id == lead_id)
            .order_by(Assignment.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else dict(row._mapping)


def lead_record(connection: Connection, lead_id: str) -> LeadRecord:
    """A lead as stored, with every offer made for it, oldest first (GET /leads/{id}, `why`)."""
    lead = connection.execute(select(table_of(Lead)).where(Lead.id == lead_id)).first()
    if lead is None:
        raise NotFound(f"There is no lead with id {lead_id}.")
    rows = connection.execute(
        ASSIGNMENT_WITH_NAMES.where(Assignment.lead_id == lead_id).order_by(Assignment.id)).all()
    return LeadRecord(
        lead_id=lead.id,
        fields=lead.fields,
        received_at=lead.received_at,
        status=lead.status,
        queue=lead.queue,
        rule=lead.rule,
        reason=lead.reason,
        source=lead.source,
        explanation=stored_explanation(lead.explanation, rows[-1].explanation if rows else None),
        assignments=[_assignment_json(row) for row in rows],
    )


def _assignment_json(row: Any) -> dict[str, Any]:
    return {
        "assignment_id": row.id,
        "queue": row.queue,
        "assignee": {"slack_id": row.slack_id, "name": row.name},
        "state": row.state,
        "cause": row.cause,
        "hop": row.hop,
        "assigned_at": row.assigned_at.isoformat(),
        "accepted_at": row.accepted_at.isoformat() if row.accepted_at else None,
        "explanation": row.explanation,
    }


def was_offered_to(connection: Connection, lead_id: str, slack_id: str) -> bool:
    """Whether the lead was ever offered to this member (what lets a member ask `why` about it).

    An id no database can hold (a NUL, half a surrogate) names no lead: False, not an error.
    """
    if not storable(lead_id) or not storable(slack_id):
        return False
    found = connection.execute(
        select(Assignment.id)
        .join(Member, Member.id == Assignment.member_id)
        .where(Assignment.lead_id == lead_id, Member.slack_id == slack_id)
        .limit(1)
    ).first()
    return found is not None

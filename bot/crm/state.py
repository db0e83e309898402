"""What the database says about a `crm` message when it is sent (one read, no write).

The routing config's `crm:`, the lead's latest assignment (a later one replaces this
message), the record id (the lead's `record_id_field`, names compared ignoring case as
everywhere; `id` is the lead's own id) and the member's email and `crm_owner_id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, func, select

from bot.crm.config import CrmConfig
from bot.crm.errors import CrmError
from bot.crm.message import OwnerMessage, text
from bot.routing.team import load_team
from bot.store.db import Database
from bot.store.models import Assignment, Lead, Member


@dataclass(frozen=True, slots=True)
class OwedState:
    config: CrmConfig
    latest_assignment: int | None
    record_id: str | None
    slack_id: str | None
    email: str | None
    crm_owner_id: str | None


async def read_state(db: Database, owed: OwnerMessage) -> OwedState:
    return await db.run(_read, owed, commit=False)


def _read(connection: Connection, owed: OwnerMessage) -> OwedState:
    section = load_team(connection).settings.get("crm")
    if not section:
        raise CrmError("the routing config has no crm: section (it was removed after this owner was owed), "
                       "so no CRM is written to", permanent=True)
    try:
        config = CrmConfig.model_validate(section)
    except ValidationError:
        raise CrmError("the routing config's crm: section in the database cannot be read; apply the config "
                       "again", permanent=True) from None
    latest = connection.execute(
        select(func.max(Assignment.id)).where(Assignment.lead_id == owed.lead_id)).scalar()
    member = _member(connection, owed)
    fields = connection.execute(select(Lead.fields).where(Lead.id == owed.lead_id)).scalar()
    record = owed.record_id or record_id(owed.lead_id, fields or {}, config.record_id_field)
    return OwedState(config, latest, record, member.get("slack_id") or owed.slack_id,
                     owed.email or member.get("email"), owed.crm_owner_id or member.get("crm_owner_id"))


def _member(connection: Connection, owed: OwnerMessage) -> dict[str, Any]:
    query = select(Member.slack_id, Member.email, Member.crm_owner_id)
    if owed.assignment_id is not None:
        query = query.join(Assignment, Assignment.member_id == Member.id).where(
            Assignment.id == owed.assignment_id)
    elif owed.slack_id:
        query = query.where(Member.slack_id == owed.slack_id)
    else:
        return {}
    row = connection.execute(query).first()
    if row is None and owed.slack_id:  # an assignment id we do not know: the member by Slack id
        row = connection.execute(select(Member.slack_id, Member.email, Member.crm_owner_id)
                                 .where(Member.slack_id == owed.slack_id)).first()
    return dict(row._mapping) if row is not None else {}


def record_id(lead_id: str, fields: dict[str, Any], field: str) -> str | None:
    """The CRM record id a lead holds in `field` (ignoring case); `id` is the lead's own id."""
    wanted = field.lower()
    for name, value in fields.items():
        if name.lower() == wanted and text(value):
            return text(value)
    return lead_id if wanted == "id" else None

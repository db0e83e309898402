"""The outbox's `crm` message, as the core owes it on every assignment and reassignment.

`{"event": "crm_owner", "assignment_id", "lead_id", "slack_id"}` (see
`bot.routing.events.CrmOwner`): set the lead's CRM record to the owner of the member of that
assignment. The record id, the member's email and `crm_owner_id` are read from the database
when the message is sent (`bot.crm.transport`), so a config applied meanwhile (a fixed email,
an owner id given) is what counts; a payload that carries `record_id`, `email` or
`crm_owner_id` itself is taken at its word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.crm.errors import CrmError

EVENT = "crm_owner"
KIND = "crm"


@dataclass(frozen=True, slots=True)
class OwnerMessage:
    lead_id: str
    slack_id: str | None
    assignment_id: int | None
    record_id: str | None = None
    email: str | None = None
    crm_owner_id: str | None = None

    @classmethod
    def read(cls, payload: dict[str, Any], lead_id: str | None) -> OwnerMessage:
        """The message in `payload`, or a CrmError (permanent) saying what it lacks."""
        if payload.get("event") != EVENT:
            event = str(payload.get("event"))[:40]
            raise CrmError(f"not a CRM owner message (event {event!r})", permanent=True)
        lead = text(payload.get("lead_id")) or lead_id
        if not lead:
            raise CrmError("a CRM owner message without a lead", permanent=True)
        assignment = payload.get("assignment_id")
        if isinstance(assignment, bool) or not isinstance(assignment, int):
            assignment = None
        return cls(lead, text(payload.get("slack_id")), assignment, text(payload.get("record_id")),
                   text(payload.get("email")), text(payload.get("crm_owner_id")))


def text(value: Any) -> str | None:
    """A string or a whole number as trimmed text; anything else (or blank) None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():  # 501.0 from a JSON sender is 501
        value = int(value)
    if isinstance(value, int | str):
        return str(value).strip() or None
    return None


def failure_text(payload: dict[str, Any], lead_id: str | None, attempts: int, error: str) -> str:
    """The managers' channel note for a `crm` message given up on."""
    who = text(payload.get("slack_id"))
    to = f" to <@{who}>" if who else ""
    lead = text(payload.get("lead_id")) or lead_id or "?"
    return (f"The CRM owner of lead {lead} could not be set{to} after {attempts} attempt(s): {error}. "
            "The lead is assigned in the rotation; set its owner in the CRM by hand.")

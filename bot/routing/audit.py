"""The audit trail: who changed what, when, and why, one row an act.

Every change a person (or a job) makes to the rotation is recorded here, in the same
transaction as the change itself, so the trail is exactly as true as the ledger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from bot.store.models import AuditEvent


def record(
    connection: Connection,
    now: datetime,
    actor: str,
    action: str,
    *,
    member_id: int | None = None,
    queue_id: int | None = None,
    period_key: str | None = None,
    delta: int | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One act: `actor` (a Slack user id, "sla", "calendar", "system", "cli"…) did `action`."""
    connection.execute(
        insert(AuditEvent).values(
            at=now,
            actor=actor,
            action=action,
            member_id=member_id,
            queue_id=queue_id,
            period_key=period_key,
            delta=delta,
            note=note,
            details=details or {},
        )
    )

"""Messages owed by a change, written in the same transaction (the transactional outbox).

Payloads are neutral events ("a lead was assigned to U123"); the delivery loop turns
them into Slack messages or webhook posts, so the core never imports Slack.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from bot.store.models import OutboxMessage

OUTBOX = OutboxMessage.__table__

# Lead fields a rep needs to see first; the rest stay in the lead record.
SHOWN_FIELDS = ("name", "company", "email", "phone", "country", "source", "url")


def lead_card(lead_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    card = {"id": lead_id}
    lowered = {key.lower(): value for key, value in fields.items()}
    for key in SHOWN_FIELDS:
        value = lowered.get(key)
        if value not in (None, ""):
            card[key] = value
    return card


class Outbox:
    """Collects the messages a transaction owes and writes them with one statement."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.rows: list[dict[str, Any]] = []

    def add(self, key: str, kind: str, payload: dict[str, Any], lead_id: str | None = None) -> None:
        self.rows.append(
            dict(
                key=key,
                kind=kind,
                payload=payload,
                lead_id=lead_id,
                created_at=self.now,
                available_at=self.now,
                attempts=0,
            )
        )

    def flush(self, connection: Connection) -> None:
        """Insert the rows; a key already owed is skipped (the key is the idempotency key)."""
        if self.rows:
            connection.execute(_insert_ignoring_duplicates(connection.dialect.name), self.rows)
            self.rows = []


def _insert_ignoring_duplicates(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(OUTBOX).on_conflict_do_nothing(index_elements=["key"])
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(OUTBOX).on_conflict_do_nothing(index_elements=["key"])
    return insert(OUTBOX)

"""Which source a lead came from (`leads.source`), written once its lead is committed."""

from __future__ import annotations

from sqlalchemy import Connection, func, select, update

from bot.store.models import Lead, table_of

LEADS = table_of(Lead)


def tag(connection: Connection, source: str, lead_ids: list[str]) -> None:
    """Name the source of leads it has just created (a lead keeps the first source it came from)."""
    if lead_ids:
        connection.execute(update(LEADS).where(LEADS.c.id.in_(lead_ids), LEADS.c.source.is_(None))
                           .values(source=source))


def lead_counts(connection: Connection) -> dict[str, int]:
    rows = connection.execute(select(LEADS.c.source, func.count()).where(LEADS.c.source.is_not(None))
                              .group_by(LEADS.c.source)).all()
    return {source: count for source, count in rows}

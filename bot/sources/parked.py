"""Parked requests: authentic requests (or one payload of a batch) that could not be made into
a lead, kept with the reason so they can be listed and routed again once the mapping is fixed.

`body` is the payload as JSON when the request was split (`split` true), else the body as it
came. A delivery repeated by its sender is parked once (`digest`). Declared on the store's
metadata; the table comes from migration 0002.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, table_of


class ParkedRequest(Base):
    __tablename__ = "parked_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    split: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(200), default="")
    digest: Mapped[str] = mapped_column(String(64))
    replayed_at: Mapped[datetime | None]
    lead_id: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("source", "digest", name="uq_parked_source_digest"),
                      Index("ix_parked_source_open", "source", "replayed_at"))


PARKED = table_of(ParkedRequest)


@dataclass(frozen=True, slots=True)
class Parking:
    """One thing to park: a payload (split) or a whole body."""

    reason: str
    body: bytes
    split: bool
    content_type: str = ""

    @staticmethod
    def payload(reason: str, payload: dict[str, Any]) -> Parking:
        # ASCII JSON: any payload a sender can send is storable on every database
        return Parking(reason, json.dumps(payload, sort_keys=True).encode(), True)


def park(connection: Connection, source: str, kind: str, items: list[Parking], now: datetime) -> list[int]:
    """Store `items`; one already parked for this source (a repeated delivery) is not stored
    again. Returns the ids, in order."""
    ids = []
    for item in items:
        # a header may carry any bytes (aiohttp reads them as latin-1, surrogates included)
        content_type = item.content_type.encode("ascii", "backslashreplace").decode("ascii")
        digest = hashlib.sha256(item.body + content_type.encode()).hexdigest()
        values = dict(source=source, kind=kind, received_at=now, reason=item.reason[:2000], split=item.split,
                      body=item.body, content_type=content_type[:200], digest=digest)
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        connection.execute(dialect.insert(PARKED).values(**values)
                           .on_conflict_do_nothing(index_elements=["source", "digest"]))
        found = connection.execute(select(PARKED.c.id).where(PARKED.c.source == source,
                                                             PARKED.c.digest == digest)).scalar_one()
        ids.append(found)
    return ids


def waiting(connection: Connection, source: str | None = None) -> list[Any]:
    """Parked requests not yet routed, oldest first."""
    query = select(PARKED).where(PARKED.c.replayed_at.is_(None)).order_by(PARKED.c.id)
    if source is not None:
        query = query.where(PARKED.c.source == source)
    return list(connection.execute(query).all())


def by_ids(connection: Connection, ids: list[int]) -> list[Any]:
    return list(connection.execute(select(PARKED).where(PARKED.c.id.in_(ids)).order_by(PARKED.c.id)).all())


def counts(connection: Connection) -> dict[str, tuple[int, int]]:
    """Per source: (parked and waiting, replayed)."""
    rows = connection.execute(select(PARKED.c.source, PARKED.c.replayed_at.is_(None), func.count())
                              .group_by(PARKED.c.source, PARKED.c.replayed_at.is_(None))).all()
    result: dict[str, tuple[int, int]] = {}
    for source, open_, count in rows:
        waiting_, replayed = result.get(source, (0, 0))
        result[source] = (waiting_ + count, replayed) if open_ else (waiting_, replayed + count)
    return result


def replayed(connection: Connection, parked_id: int, lead_id: str, now: datetime) -> None:
    connection.execute(update(PARKED).where(PARKED.c.id == parked_id)
                       .values(replayed_at=now, lead_id=lead_id))


def still_parked(connection: Connection, parked_id: int, reason: str) -> None:
    connection.execute(update(PARKED).where(PARKED.c.id == parked_id).values(reason=reason[:2000]))

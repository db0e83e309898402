"""Messages owed by a change, written in the same transaction (the transactional outbox).

A row is a typed event (`bot.routing.events`: "a lead was assigned to U123") for one
recipient; the delivery loop turns it into a Slack message, a webhook post or a CRM
update, so the core never imports Slack. `Outbox.owe` (or `outbox_row`, for code that
writes one row by itself) is the one way to owe a message.

Handing over: when serve's own delivery loop will take a transaction's messages straight
after the commit (see `RoutingService.hand_over_to`), they are written already claimed by
it (leased until `lease_until`, this attempt counted) and come back from `flush` as `Message`s,
so the loop sends them at once without a claim transaction of its own. If the hand-over
never happens (a crash between commit and hand-over), the lease runs out and any loop
claims them as usual: a delay of at most the lease, never a loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from bot.routing.events import Event, Recipient
from bot.store.models import OutboxMessage, table_of

OUTBOX = table_of(OutboxMessage)
KEY_LENGTH = 200  # the column's size: longer keys are cut (they stay unique by their start)


def outbox_row(key: str, event: Event, to: Recipient, lead_id: str | None, now: datetime,
               *, lease_until: datetime | None = None) -> dict[str, Any]:
    """The row that owes `event` to `to`: due now, or claimed until `lease_until`."""
    return dict(
        key=key[:KEY_LENGTH],
        kind=to.way.value,
        payload=event.payload() | to.address_fields(),
        lead_id=lead_id,
        created_at=now,
        available_at=lease_until or now,
        attempts=0 if lease_until is None else 1,
    )


@dataclass(frozen=True, slots=True)
class Message:
    """One outbox row claimed for sending: by a delivery loop's claim, or written claimed
    for a hand-over. (Here, not in bot.delivery, so the core can hand messages over.)"""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    lead_id: str | None
    attempts: int  # including this one
    created_at: datetime | None = None  # when it was owed: the delivery lag's start
    lease_until: datetime | None = None  # claimed for us until then; after that, anyone may send it


class Outbox:
    """Collects the messages a transaction owes and writes them with one statement.

    With `lease_until`, the rows are written claimed until then (see the module's doc).
    """

    def __init__(self, now: datetime, lease_until: datetime | None = None) -> None:
        self.now = now
        self.lease_until = lease_until
        self.rows: list[dict[str, Any]] = []

    def owe(self, key: str, event: Event, to: Recipient, lead_id: str | None = None) -> None:
        """Owe `event` to `to`; `key` makes it once only (a key already owed is skipped)."""
        self.rows.append(outbox_row(key, event, to, lead_id, self.now, lease_until=self.lease_until))

    def flush(self, connection: Connection) -> list[Message]:
        """Insert the rows; a key already owed is skipped (the key is the idempotency key).

        Leased rows come back as `Message`s, to be handed over after the commit; a skipped key
        does not (it is someone else's, and stays as it was).
        """
        rows, self.rows = self.rows, []
        if not rows:
            return []
        insert_rows = _insert_ignoring_duplicates(connection.dialect.name)
        if self.lease_until is None:
            connection.execute(insert_rows, rows)
            return []
        ids = dict(connection.execute(insert_rows.returning(OUTBOX.c.key, OUTBOX.c.id), rows).all())
        owed = []
        for row in rows:
            if (row_id := ids.pop(row["key"], None)) is not None:  # pop: a key twice is handed once
                owed.append(Message(row_id, row["key"], row["kind"], row["payload"], row["lead_id"], 1,
                                    self.now, self.lease_until))
        return owed


def _insert_ignoring_duplicates(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(OUTBOX).on_conflict_do_nothing(index_elements=["key"])
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(OUTBOX).on_conflict_do_nothing(index_elements=["key"])
    return insert(OUTBOX)

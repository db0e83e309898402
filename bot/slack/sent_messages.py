"""Where the bot's earlier messages about a lead are, read from the outbox's results.

Why the outbox: the delivery loop stores each sent message's `channel` and `ts` in its row
(`bot.delivery.loop.KEPT_RESULT_KEYS`), keyed by what it was (`assignment:{id}:dm`,
`assignment:{id}:channel`, `unassigned:{lead}:{hop}`). So a message that has to stay true
(a DM whose offer the SLA moved, an announcement accepted or passed) is found where it was
sent, with no table of its own, and a follow-up can go in the announcement's thread. A row
not sent yet, or sent before results were kept, is simply not found: the caller then posts
plainly, so a follow-up is never lost for want of a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select

from bot.routing.events import Way
from bot.store.models import OutboxMessage

# Messages that start a lead's story in a channel (its thread root): the announcement of an
# offer, or the post that it waits for someone.
ROOT_PREFIXES = ("assignment:", "unassigned:")


@dataclass(frozen=True, slots=True)
class Posted:
    """A message Slack has: where it is (`channel` as Slack answered it) and its `ts`."""

    channel: str
    ts: str
    key: str

    @property
    def assignment_id(self) -> int | None:
        """The assignment an `assignment:{id}:…` message was about."""
        parts = self.key.split(":")
        return int(parts[1]) if len(parts) == 3 and parts[0] == "assignment" and parts[1].isdigit() else None


def _posted(row: Any) -> Posted | None:
    result = row.result if isinstance(row.result, dict) else {}
    channel, ts = result.get("channel"), result.get("ts")
    if isinstance(channel, str) and channel and isinstance(ts, str) and ts:
        return Posted(channel, ts, row.key)
    return None


def _sent(connection: Connection, lead_id: str, kind: Way, *prefixes: str) -> list[Any]:
    query = (select(OutboxMessage.key, OutboxMessage.payload, OutboxMessage.result)
             .where(OutboxMessage.lead_id == lead_id, OutboxMessage.kind == kind.value,
                    OutboxMessage.sent_at.is_not(None),
                    or_(*(OutboxMessage.key.startswith(prefix, autoescape=True) for prefix in prefixes)))
             .order_by(OutboxMessage.id))
    return list(connection.execute(query).all())


def lead_dm(connection: Connection, lead_id: str, slack_id: str) -> Posted | None:
    """The newest offer DM of `lead_id` sent to `slack_id` (the one whose buttons are live)."""
    for row in reversed(_sent(connection, lead_id, Way.DM, "assignment:")):
        if row.key.endswith(":dm") and (row.payload or {}).get("to") == slack_id:
            posted = _posted(row)
            if posted is not None:
                return posted
    return None


def assignment_dm(connection: Connection, assignment_id: int, lead_id: str) -> Posted | None:
    """The DM that offered this assignment, once sent."""
    key = f"assignment:{assignment_id}:dm"
    for row in _sent(connection, lead_id, Way.DM, key):
        if row.key == key:
            return _posted(row)
    return None


def thread_root(connection: Connection, lead_id: str, channel: str) -> Posted | None:
    """The first message about the lead sent to `channel`: its story's thread."""
    for row in _sent(connection, lead_id, Way.CHANNEL, *ROOT_PREFIXES):
        if (row.payload or {}).get("channel") == channel:
            posted = _posted(row)
            if posted is not None:
                return posted
    return None


def thread_roots(connection: Connection, lead_id: str) -> list[Posted]:
    """Each channel's first message about the lead (a lead may fall back to another queue)."""
    roots: dict[str, Posted] = {}
    for row in _sent(connection, lead_id, Way.CHANNEL, *ROOT_PREFIXES):
        channel = (row.payload or {}).get("channel")
        if isinstance(channel, str) and channel not in roots:
            posted = _posted(row)
            if posted is not None:
                roots[channel] = posted
    return list(roots.values())

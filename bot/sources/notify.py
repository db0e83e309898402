"""Telling the managers' channel that a source parks requests: at most once an hour per source,
owed through the outbox in the transaction that parked them (so it is never lost, and never
sent for something that was rolled back). The words are the sources' own (they name the
`rotation sources` commands that help), so they travel as a `ManagersNote`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from bot.routing.events import ManagersNote, Recipient
from bot.routing.outbox import Outbox
from bot.routing.team import load_team
from bot.store.models import OutboxMessage

QUIET = timedelta(hours=1)


def owe_parked_note(connection: Connection, source: str, parked: int, reason: str, now: datetime) -> bool:
    """Owe the note unless one for `source` was owed within the hour; True when owed."""
    channel = load_team(connection).settings.get("manager_channel")
    if not channel:
        return False
    prefix = f"source-parked:{source}:"
    recent = connection.execute(
        select(OutboxMessage.id).where(OutboxMessage.key.startswith(prefix, autoescape=True),
                                       OutboxMessage.created_at > now - QUIET).limit(1)).first()
    if recent is not None:
        return False
    what = "a request" if parked == 1 else f"{parked} requests"
    text = (f"The {source} source parked {what} it could not make into leads: {reason}. "
            f"`rotation sources parked {source}` lists them; once the mapping is fixed, "
            f"`rotation sources replay --all` routes them.")
    outbox = Outbox(now)
    outbox.owe(f"{prefix}{now:%Y%m%dT%H}", ManagersNote(text), Recipient.channel(channel))
    outbox.flush(connection)
    return True

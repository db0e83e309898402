"""Telling a member something through the outbox (the delivery loop sends it as a DM).

The words are the calling job's own, already worded for the member (a calendar feed that
failed), so they travel as a `MemberNote`; a fact about a lead is a typed event instead
(`bot.routing.events.LeadNote`), worded by each front end."""

from __future__ import annotations

from datetime import datetime

from bot.jobs.leases import insert_ignoring_conflict
from bot.routing.events import MemberNote, Recipient
from bot.routing.outbox import outbox_row
from bot.store.db import Database
from bot.store.models import OutboxMessage


async def note_member(db: Database, slack_id: str, text: str, *, key: str, now: datetime) -> bool:
    """Queue a DM to `slack_id`; a key already used is ignored. True when a row was added."""
    async with db.transaction() as connection:
        added = (await connection.execute(
            insert_ignoring_conflict(connection, OutboxMessage, ["key"]).values(
                **outbox_row(key, MemberNote(text), Recipient.dm(slack_id), None, now))
            .returning(OutboxMessage.id))).first()
    return added is not None

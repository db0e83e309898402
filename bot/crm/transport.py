"""The outbox transport for `crm` messages: the lead's owner, written back to the CRM.

One message per assignment (and reassignment). Before sending, the lead's assignments are
read: a message for an assignment that a later one replaced is skipped (recorded as sent,
with `skipped`), so a retry of an earlier message can never overtake a later one and leave
the CRM showing the rep the lead was taken from. Messages for one lead are sent one at a
time in this process, so the check and the write are not separated by another's write.
Setting the same owner twice is harmless (every CRM treats it as a no-op update), so a
message repeated after a crash does no harm either.

What to write is read from the database when the message is sent (`bot.crm.state`): the
routing config's `crm:` (so `rotation config apply` reaches a running loop), the record id
and the member's email and `crm_owner_id`; the credentials come from the settings. The owner
id is the member's `crm_owner_id`, else found by their email (`bot.crm.owners`, cached).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.config.settings import Settings
from bot.crm.clients import CrmClient, client_for
from bot.crm.config import CrmConfig
from bot.crm.errors import CrmError
from bot.crm.http import CrmHttp
from bot.crm.ids import checked_id
from bot.crm.message import OwnerMessage
from bot.crm.owners import OwnerDirectory
from bot.crm.state import OwedState, read_state
from bot.routing.outbox import Message
from bot.store.db import Database

log = logging.getLogger("bot.crm")


class CrmTransport:
    def __init__(self, settings: Settings, db: Database, *, directory: OwnerDirectory | None = None,
                 http: CrmHttp | None = None) -> None:
        self.settings = settings
        self.db = db
        self.directory = directory or OwnerDirectory()
        self.http = http or CrmHttp()
        self._clients: dict[str, CrmClient] = {}
        self._leads: dict[str, tuple[asyncio.Lock, int]] = {}  # lead id -> (its lock, users)

    async def send(self, message: Message) -> dict[str, Any]:
        owed = OwnerMessage.read(message.payload, message.lead_id)
        async with self._one_at_a_time(owed.lead_id):
            state = await read_state(self.db, owed)
            if (owed.assignment_id is not None and state.latest_assignment is not None
                    and state.latest_assignment > owed.assignment_id):
                log.info("lead %s: CRM owner for assignment %s skipped, assignment %s came later",
                         owed.lead_id, owed.assignment_id, state.latest_assignment)
                return {"ok": True, "skipped": f"assignment {state.latest_assignment} came later"}
            config = state.config
            if not state.record_id:
                raise CrmError(f"lead {owed.lead_id} has no {config.record_id_field} field (the "
                               f"config's crm.record_id_field), so there is no {config.vendor} record to set "
                               "the owner of", permanent=True)
            client = self._client(config)
            record = checked_id(config.kind, state.record_id, f"lead {owed.lead_id}'s record id")
            owner, looked_up = await self._owner(client, state)
            try:
                result = await client.set_owner(config.object, record, owner)
            except CrmError as error:
                if looked_up and state.email and error.permanent:
                    self.directory.forget(client.kind, state.email)  # perhaps no longer an owner
                raise
            return result | {"crm_owner_id": owner}

    async def close(self) -> None:
        await self.http.close()

    async def _owner(self, client: CrmClient, state: OwedState) -> tuple[str, bool]:
        """The owner id to set, and whether it was looked up by email."""
        who = f"<@{state.slack_id}>" if state.slack_id else "the assignee"
        if state.crm_owner_id:
            return checked_id(client.kind, state.crm_owner_id, f"{who}'s crm_owner_id"), False
        if not state.email:
            raise CrmError(f"{who} has no email and no crm_owner_id in the routing config, so their "
                           f"{client.vendor} owner cannot be found: give either", permanent=True)
        owner = await self.directory.owner_id(client, state.email)
        if owner is None:
            raise CrmError(f"no {client.vendor} owner has the email {state.email} ({who}'s): add them to "
                           f"{client.vendor} with that email, or give their crm_owner_id in the routing "
                           "config", permanent=True)
        return checked_id(client.kind, owner, f"the {client.vendor} owner id of {state.email}"), True

    def _client(self, config: CrmConfig) -> CrmClient:
        key = f"{config.kind} {config.salesforce_version}"  # a config applied meanwhile may change it
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = client_for(config, self.settings, self.http)
        return client

    @asynccontextmanager
    async def _one_at_a_time(self, lead_id: str) -> AsyncIterator[None]:
        lock, users = self._leads.get(lead_id) or (asyncio.Lock(), 0)
        self._leads[lead_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._leads[lead_id]
            if users <= 1:
                del self._leads[lead_id]
            else:
                self._leads[lead_id] = (lock, users - 1)

"""Owner ids found by a member's email through the CRM, kept in memory for a while.

Each lead's write-back needs its assignee's owner id; asking the CRM each time would cost a
call per lead (and HubSpot lists every owner at once). So what a lookup learns is kept per
process: an id for `FOUND_FOR` seconds (people rarely change their CRM login), "no owner
has this email" for `MISSING_FOR` (short: someone may be adding that user right now). One
lookup runs at a time, so a burst of leads for the same rep makes one call, not one each.
A CRM that lists every owner at once (`lists_all`, HubSpot) answers for every email: one
its listing lacks has no owner until that listing is `MISSING_FOR` old.
An id the CRM later refuses is forgotten (`forget`), so the next lead looks it up again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bot.crm.clients import CrmClient

FOUND_FOR = 3600.0
MISSING_FOR = 300.0


class OwnerDirectory:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._known: dict[tuple[str, str], tuple[str | None, float]] = {}  # (kind, email) -> (id, until)
        self._listed_until: dict[str, float] = {}  # kind -> until when its whole listing holds
        self._lock = asyncio.Lock()
        self.lookups = 0  # calls made to a CRM (for tests and the log)

    async def owner_id(self, client: CrmClient, email: str) -> str | None:
        """The owner id of `email` in `client`'s CRM, or None when no owner has that email."""
        key = (client.kind, email.strip().lower())
        known = self._cached(key)
        if known is not None:
            return known[0]
        async with self._lock:
            known = self._cached(key)  # found while we waited
            if known is not None:
                return known[0]
            self.lookups += 1
            learned = await client.find_owners(key[1])
            now = self.clock()
            for address, owner in learned.items():
                self._known[(client.kind, address)] = (owner, now + (FOUND_FOR if owner else MISSING_FOR))
            if getattr(client, "lists_all", False):
                self._listed_until[client.kind] = now + MISSING_FOR
            return learned.get(key[1])

    def forget(self, kind: str, email: str) -> None:
        self._known.pop((kind, email.strip().lower()), None)
        self._listed_until.pop(kind, None)

    def _cached(self, key: tuple[str, str]) -> tuple[str | None] | None:
        entry = self._known.get(key)
        if entry is None:
            listed = self._listed_until.get(key[0])
            return (None,) if listed is not None and listed > self.clock() else None
        if entry[1] <= self.clock():
            del self._known[key]
            return None
        return (entry[0],)

"""HubSpot: the owner of a contact or deal is its `hubspot_owner_id` property.

- Set: `PATCH /crm/v3/objects/{object}/{id}` with `{"properties": {"hubspot_owner_id": …}}`
  (200 and the object). Scopes: `crm.objects.contacts.write` / `crm.objects.deals.write`.
- Owners: `GET /crm/v3/owners?limit=500&archived=false`, paged by `paging.next.after`; an
  owner's `id` is what a record takes (its `userId` is the user's, and HubSpot refuses it as
  an owner). Scope `crm.objects.owners.read`. One listing answers every member's email, so
  it is read once for all of them (see `bot.crm.owners`).
- Errors are `{"status": "error", "message": …, "category": …, "correlationId": …}`; a rate
  limit is a 429 (`"errorType": "RATE_LIMIT"`, `policyName` SECONDLY or DAILY).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.crm.errors import CrmError
from bot.crm.http import CrmHttp, failure

VENDOR = "HubSpot"
OWNERS_PAGE = 500  # the most HubSpot lists per page
MAX_OWNER_PAGES = 100


class HubSpot:
    kind = "hubspot"
    vendor = VENDOR
    lists_all = True  # find_owners answers for every owner at once

    def __init__(self, http: CrmHttp, base_url: str, token: str) -> None:
        self.http = http
        self.base = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}

    async def set_owner(self, obj: str, record_id: str, owner_id: str) -> dict[str, Any]:
        url = f"{self.base}/crm/v3/objects/{obj}/{quote(record_id, safe='')}"
        body = {"properties": {"hubspot_owner_id": owner_id}}
        answer = await self.http.request(VENDOR, "PATCH", url, json_body=body, headers=self.headers)
        if not answer.ok:
            raise failure(VENDOR, f"setting the owner of {obj} {record_id}", answer, words)
        return {"ok": True, "status": answer.status}

    async def find_owners(self, email: str) -> dict[str, str | None]:
        """Every active owner's email (lower case) and id; `email` maps to None when no owner has it."""
        found: dict[str, str | None] = {}
        after: str | None = None
        for _ in range(MAX_OWNER_PAGES):
            params = {"limit": str(OWNERS_PAGE), "archived": "false"} | ({"after": after} if after else {})
            answer = await self.http.request(VENDOR, "GET", f"{self.base}/crm/v3/owners", params=params,
                                             headers=self.headers)
            if not answer.ok:
                raise failure(VENDOR, "listing owners", answer, words)
            body = answer.body if isinstance(answer.body, dict) else {}
            for owner in body.get("results") or []:
                if isinstance(owner, dict) and isinstance(owner.get("email"), str) and owner.get("id"):
                    found.setdefault(owner["email"].strip().lower(), str(owner["id"]))
            after = _next_after(body)
            if after is None:
                break
        else:
            raise CrmError(f"{VENDOR} listed more than {MAX_OWNER_PAGES * OWNERS_PAGE} owners; "
                           "give members crm_owner_id in the config instead", permanent=True)
        found.setdefault(email.lower(), None)
        return found


def _next_after(body: dict[str, Any]) -> str | None:
    paging = body.get("paging")
    nxt = paging.get("next") if isinstance(paging, dict) else None
    after = nxt.get("after") if isinstance(nxt, dict) else None
    return str(after) if after not in (None, "") else None


def words(body: Any) -> str | None:
    """What a HubSpot error body says: its message, with its category."""
    if not isinstance(body, dict):
        return None
    message = body.get("message")
    category = body.get("category") or body.get("errorType")
    if message and category:
        return f"{message} ({category})"
    return str(message) if message else None

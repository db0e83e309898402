"""Pipedrive: the owner of a person is its `owner_id`, of a deal its `user_id` (API v1).

- Set: `PUT /api/v1/persons/{id}` with `{"owner_id": N}`, `PUT /api/v1/deals/{id}` with
  `{"user_id": N}` (v1 names a deal's owner `user_id`); 200 `{"success": true, "data": …}`.
- Owners: `GET /api/v1/users/find?term=EMAIL&search_by_email=1`, whose `data` is a list of
  users (or null when none matched); only an exact, active match counts.
- Every call carries `api_token` in the query (the personal API token). Errors are
  `{"success": false, "error": …, "error_info": …}`; a rate limit is a 429 with
  `Retry-After` (or `x-ratelimit-reset`, the seconds left in the window).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.crm.http import CrmHttp, failure

VENDOR = "Pipedrive"
OWNER_FIELDS = {"persons": "owner_id", "deals": "user_id"}


class Pipedrive:
    kind = "pipedrive"
    vendor = VENDOR

    def __init__(self, http: CrmHttp, base_url: str, api_token: str) -> None:
        self.http = http
        self.api = f"{base_url.rstrip('/')}/api/v1"
        self.auth = {"api_token": api_token}

    async def set_owner(self, obj: str, record_id: str, owner_id: str) -> dict[str, Any]:
        url = f"{self.api}/{obj}/{quote(record_id, safe='')}"
        body = {OWNER_FIELDS[obj]: int(owner_id)}
        answer = await self.http.request(VENDOR, "PUT", url, params=self.auth, json_body=body)
        if not answer.ok:
            raise failure(VENDOR, f"setting the owner of {obj} {record_id}", answer, words,
                          retry_after_header="x-ratelimit-reset")
        return {"ok": True, "status": answer.status}

    async def find_owners(self, email: str) -> dict[str, str | None]:
        params = {"term": email, "search_by_email": "1", **self.auth}
        answer = await self.http.request(VENDOR, "GET", f"{self.api}/users/find", params=params)
        if not answer.ok:
            raise failure(VENDOR, "the search for users by email", answer, words,
                          retry_after_header="x-ratelimit-reset")
        users = answer.body.get("data") if isinstance(answer.body, dict) else None
        wanted = email.lower()
        for user in users if isinstance(users, list) else []:
            if (isinstance(user, dict) and str(user.get("email", "")).strip().lower() == wanted
                    and user.get("active_flag", True) is not False and user.get("id") is not None):
                return {wanted: str(user["id"])}
        return {wanted: None}


def words(body: Any) -> str | None:
    """What a Pipedrive error body says: its `error`, and `error_info` when it adds something."""
    if not isinstance(body, dict) or not body.get("error"):
        return None
    return str(body["error"])

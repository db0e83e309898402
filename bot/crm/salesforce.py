"""Salesforce: the owner of a Lead or Contact is its `OwnerId`, a User's id.

- Set: `PATCH /services/data/vXX.X/sobjects/{Lead|Contact}/{id}` with `{"OwnerId": …}` and
  `Sforce-Auto-Assign: FALSE`, so the org's assignment rules do not reassign the record at
  once (Salesforce applies them to API updates of Leads unless told not to). 204 on success.
- Owners: a SOQL query on User, `SELECT Id FROM User WHERE Email = '…' AND IsActive = true`,
  at `GET /services/data/vXX.X/query?q=…` (`{"totalSize", "done", "records": [{"Id": …}]}`).
- Errors are a JSON list `[{"message": …, "errorCode": …, "fields": […]}]`. 401
  `INVALID_SESSION_ID` gets a new token (see `salesforce_auth`); 403 `REQUEST_LIMIT_EXCEEDED`
  (the org's daily API calls are used up) is tried again later, like a 429 or a 5xx.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.crm.errors import CrmError
from bot.crm.http import Answer, CrmHttp, failure
from bot.crm.salesforce_auth import SalesforceAuth

VENDOR = "Salesforce"


class Salesforce:
    kind = "salesforce"
    vendor = VENDOR

    def __init__(self, http: CrmHttp, auth: SalesforceAuth, version: str) -> None:
        self.http = http
        self.auth = auth
        self.api = f"{auth.instance_url}/services/data/{version}"

    async def set_owner(self, obj: str, record_id: str, owner_id: str) -> dict[str, Any]:
        url = f"{self.api}/sobjects/{obj}/{quote(record_id, safe='')}"
        answer = await self._call("PATCH", url, f"setting the owner of {obj} {record_id}",
                                  json_body={"OwnerId": owner_id}, headers={"Sforce-Auto-Assign": "FALSE"})
        return {"ok": True, "status": answer.status}

    async def find_owners(self, email: str) -> dict[str, str | None]:
        soql = (f"SELECT Id FROM User WHERE Email = '{soql_text(email)}' AND IsActive = true "
                "ORDER BY CreatedDate LIMIT 1")
        answer = await self._call("GET", f"{self.api}/query", "the query for users by email",
                                  params={"q": soql})
        records = answer.body.get("records") if isinstance(answer.body, dict) else None
        first = records[0] if isinstance(records, list) and records else None
        owner = first.get("Id") if isinstance(first, dict) else None
        return {email.lower(): str(owner) if owner else None}

    async def _call(self, method: str, url: str, what: str, **options: Any) -> Answer:
        token = await self.auth.token()
        answer = await self._send(method, url, token, **options)
        if answer.status == 401 and "INVALID_SESSION_ID" in error_codes(answer.body):
            answer = await self._send(method, url, await self.auth.refreshed(token), **options)
        if answer.ok:
            return answer
        error = failure(VENDOR, what, answer, words)
        if answer.status == 403 and "REQUEST_LIMIT_EXCEEDED" in error_codes(answer.body):
            raise CrmError(f"{error} (the org's API limit: tried again later)", retry_after=error.retry_after)
        raise error

    async def _send(self, method: str, url: str, token: str, *, headers: dict[str, str] | None = None,
                    **options: Any) -> Answer:
        return await self.http.request(VENDOR, method, url,
                                       headers={"Authorization": f"Bearer {token}", **(headers or {})},
                                       **options)


def soql_text(value: str) -> str:
    """`value` inside a SOQL string literal: backslashes and quotes escaped."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def error_codes(body: Any) -> list[str]:
    if isinstance(body, list):
        return [str(item.get("errorCode")) for item in body if isinstance(item, dict)]
    return []


def words(body: Any) -> str | None:
    """What a Salesforce error list says: each `errorCode: message`."""
    if not isinstance(body, list):
        return None
    said = [f"{item.get('errorCode')}: {item.get('message')}" for item in body if isinstance(item, dict)]
    return "; ".join(said) or None

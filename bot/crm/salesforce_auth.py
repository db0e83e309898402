"""Salesforce's access token: the OAuth 2.0 client-credentials flow, or a token given.

With `SALESFORCE_CLIENT_ID` and `SALESFORCE_CLIENT_SECRET`, a token is asked for at
`POST {SALESFORCE_INSTANCE_URL}/services/oauth2/token` (form `grant_type=client_credentials`,
`client_id`, `client_secret`; the answer's `access_token`), when first needed and again
whenever Salesforce answers 401 `INVALID_SESSION_ID` (the session expired or was revoked):
the call is then made once more with the new token. Concurrent calls that meet the same
expired token share one refresh. With only `SALESFORCE_TOKEN`, that token is used as it is,
and a 401 is for good: the error says to give a fresh token or the client credentials.

Calls go to SALESFORCE_INSTANCE_URL, the operator's setting, never to the `instance_url` a
token answer names.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.crm.errors import CrmError
from bot.crm.http import CrmHttp, failure

VENDOR = "Salesforce"


class SalesforceAuth:
    def __init__(self, http: CrmHttp, instance_url: str, *, client_id: str | None = None,
                 client_secret: str | None = None, token: str | None = None) -> None:
        self.http = http
        self.instance_url = instance_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self._token = token
        self._lock = asyncio.Lock()
        self.tokens_fetched = 0

    @property
    def can_refresh(self) -> bool:
        return bool(self.client_id and self.client_secret)

    async def token(self) -> str:
        if self._token is None:
            return await self.refreshed(None)
        return self._token

    async def refreshed(self, stale: str | None) -> str:
        """A token other than `stale` (a fresh one, unless another call refreshed it meanwhile)."""
        if not self.can_refresh:
            raise CrmError("Salesforce refused SALESFORCE_TOKEN (INVALID_SESSION_ID: the session expired "
                           "or was revoked): set a fresh token, or SALESFORCE_CLIENT_ID and "
                           "SALESFORCE_CLIENT_SECRET so the bot gets its own", permanent=True)
        async with self._lock:
            if self._token is not None and self._token != stale:
                return self._token
            self._token = await self._fetch()
            return self._token

    async def _fetch(self) -> str:
        assert self.client_id and self.client_secret
        form = {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self.client_secret}
        answer = await self.http.request(VENDOR, "POST", f"{self.instance_url}/services/oauth2/token",
                                         form=form, headers={"Accept": "application/json"})
        if not answer.ok:
            raise failure(VENDOR, "the client-credentials token request", answer, token_words)
        token = answer.body.get("access_token") if isinstance(answer.body, dict) else None
        if not isinstance(token, str) or not token:
            raise CrmError("Salesforce answered the token request without an access_token")
        self.tokens_fetched += 1
        return token


def token_words(body: Any) -> str | None:
    """OAuth's error body: `{"error": "invalid_client", "error_description": "…"}`."""
    if not isinstance(body, dict) or not body.get("error"):
        return None
    description = body.get("error_description")
    return f"{body['error']} ({description})" if description else str(body["error"])

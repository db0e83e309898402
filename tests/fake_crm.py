"""Fake HubSpot, Salesforce and Pipedrive REST APIs for tests, served over real HTTP.

Why servers and not mocks: the write-back's bugs live in the layer a mock would skip: the
verb and path, where the owner goes in the body, the `Sforce-Auto-Assign` header, a token in
the query string, paging cursors, a 204 with no body, the error bodies each vendor writes,
`Retry-After` on a 429, an expired OAuth session. Each fake answers as its vendor documents:

- HubSpot: `GET /crm/v3/owners` (paged by `after`, `{"results", "paging": {"next": {"after",
  "link"}}}`), `PATCH /crm/v3/objects/{object}/{id}` with `properties.hubspot_owner_id`
  (200 and the object; an unknown owner id is a 400 VALIDATION_ERROR, as when a `userId` is
  sent instead of an owner's `id`). Errors `{"status": "error", "message", "correlationId",
  "category"}`; bearer token required (401 INVALID_AUTHENTICATION).
- Salesforce: `POST /services/oauth2/token` (client credentials; `invalid_client` for wrong
  ones), `GET /services/data/vXX.X/query?q=SELECT Id FROM User WHERE Email = '…' …`,
  `PATCH /services/data/vXX.X/sobjects/{Lead|Contact}/{id}` with `OwnerId` (204). Errors are
  lists `[{"message", "errorCode", "fields"}]`; `expire_sessions()` makes every token issued
  so far answer 401 INVALID_SESSION_ID, as a session timeout does.
- Pipedrive: `GET /api/v1/users/find?term=…&search_by_email=1` (`data` a list, or null when
  nothing matched), `PUT /api/v1/persons/{id}` with `owner_id`, `PUT /api/v1/deals/{id}` with
  `user_id`; `api_token` in the query (401 otherwise); errors `{"success": false, "error",
  "error_info"}`; a 429 carries `Retry-After` and the `x-ratelimit-*` headers.

Every request is recorded in `.calls` (faults included, so retries show), with what was
answered. `fail_next(route, status, retry_after=…)` queues a fault for a route (`"owners"`,
`"update"`, `"token"`, `"query"`, `"users_find"`) with that vendor's error body.

Usage::

    async with FakeHubSpot() as hubspot:
        hubspot.add_owner("alice@example.com", owner_id="101", user_id=9001)
        hubspot.add_record("contacts", "501")
        ...  # HUBSPOT_API_URL=hubspot.url, HUBSPOT_TOKEN=hubspot.token
        [call] = hubspot.calls_to("update")
        assert call.body == {"properties": {"hubspot_owner_id": "101"}}
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import socket
import uuid
from abc import ABC, abstractmethod
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import web

Handler = Callable[[web.Request, Any], Awaitable[tuple[int, Any, dict[str, str]]]]


@dataclass(frozen=True)
class CrmCall:
    """One request a fake received, and what it answered."""

    route: str
    verb: str
    path: str
    query: dict[str, str]
    body: Any  # JSON, or the form's fields
    headers: Mapping[str, str]
    status: int
    response: Any


@dataclass(frozen=True)
class _Fault:
    status: int
    retry_after: str | None
    body: Any


class _FakeCrm(ABC):
    """The server, the record of calls and the faults; vendors add routes and bodies."""

    def __init__(self) -> None:
        self.calls: list[CrmCall] = []
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @abstractmethod
    def routes(self, app: web.Application) -> None:
        """Add this vendor's endpoints to `app`."""

    @abstractmethod
    def fault_body(self, status: int) -> Any:
        """The error body this vendor sends with `status`."""

    def fault_headers(self, status: int) -> dict[str, str]:
        return {}

    async def start(self) -> None:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("the fake CRM is not started")
        return f"http://127.0.0.1:{self._port}"

    def fail_next(self, route: str, status: int, *, retry_after: str | None = None, body: Any = None,
                  times: int = 1) -> None:
        """The next `times` requests to `route` answer `status` (with the vendor's error body)."""
        for _ in range(times):
            self._faults[route].append(_Fault(status, retry_after, body))

    def calls_to(self, route: str) -> list[CrmCall]:
        return [call for call in self.calls if call.route == route]

    def served(self, route: str) -> list[CrmCall]:
        """The calls to `route` that succeeded."""
        return [call for call in self.calls_to(route) if 200 <= call.status < 300]

    async def wait_for(self, route: str, count: int = 1, timeout: float = 10.0) -> list[CrmCall]:
        """Wait until `count` successful calls to `route` arrived (for background delivery)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.served(route)) < count:
            if asyncio.get_running_loop().time() >= deadline:
                raise AssertionError(f"waited {timeout}s for {count} served call(s) to {route}; calls: "
                                     + ", ".join(f"{c.route} {c.status}" for c in self.calls))
            await asyncio.sleep(0.01)
        return self.served(route)

    def handle(self, route: str, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(request: web.Request) -> web.StreamResponse:
            raw = await request.read()
            body = _body(request.content_type, raw)
            headers: dict[str, str] = {}
            if self._faults[route]:
                fault = self._faults[route].popleft()
                status = fault.status
                answer = fault.body if fault.body is not None else self.fault_body(status)
                headers = self.fault_headers(status)
                if fault.retry_after is not None:
                    headers["Retry-After"] = fault.retry_after
            else:
                status, answer, headers = await handler(request, body)
            self.calls.append(CrmCall(route, request.method, request.path, dict(request.query), body,
                                      dict(request.headers), status, answer))
            if status == 204 or answer is None:
                return web.Response(status=status, headers=headers)
            return web.json_response(answer, status=status, headers=headers)

        return serve


def _body(content_type: str, raw: bytes) -> Any:
    if not raw:
        return None
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode()))
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -- HubSpot -----------------------------------------------------------------------------

class FakeHubSpot(_FakeCrm):
    token = "pat-na1-11111111-2222-3333-4444-555555555555"

    def __init__(self, *, page_size: int | None = None) -> None:
        super().__init__()
        self.owners: list[dict[str, Any]] = []
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.page_size = page_size  # at most this many owners per page, whatever `limit` asks

    def add_owner(self, email: str, *, owner_id: str, user_id: int, archived: bool = False) -> None:
        self.owners.append({"id": owner_id, "email": email, "type": "PERSON",
                            "firstName": email.split("@")[0],
                            "lastName": "Owner", "userId": user_id, "userIdIncludingInactive": user_id,
                            "createdAt": "2026-01-05T13:01:35.228Z", "updatedAt": "2026-06-01T09:00:00.000Z",
                            "archived": archived, "teams": []})

    def add_record(self, obj: str, record_id: str, owner_id: str | None = None) -> None:
        self.records[(obj, record_id)] = {"hubspot_owner_id": owner_id}

    def owner_of(self, obj: str, record_id: str) -> str | None:
        return self.records[(obj, record_id)]["hubspot_owner_id"]

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/crm/v3/owners", self.handle("owners", self._owners))
        app.router.add_get("/crm/v3/owners/", self.handle("owners", self._owners))
        app.router.add_patch("/crm/v3/objects/{object}/{id}", self.handle("update", self._update))

    def fault_body(self, status: int) -> Any:
        if status == 429:
            return {"status": "error", "message": "You have reached your secondly limit.",
                    "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()), "policyName": "SECONDLY"}
        if status == 404:
            return self._error("resource not found", "OBJECT_NOT_FOUND")
        if status >= 500:
            return self._error("internal error", "INTERNAL_ERROR")
        return self._error("error", "ERROR")

    def _error(self, message: str, category: str) -> dict[str, Any]:
        return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
                "category": category}

    def _refused(self, request: web.Request) -> tuple[int, Any, dict[str, str]] | None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, self._error("Authentication credentials not found. This API supports OAuth 2.0 "
                                    "authentication and you can find more details at "
                                    "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                                    "INVALID_AUTHENTICATION"), {}
        return None

    async def _owners(self, request: web.Request, _body: Any) -> tuple[int, Any, dict[str, str]]:
        if refused := self._refused(request):
            return refused
        archived = request.query.get("archived", "false") == "true"
        chosen = [o for o in self.owners if o["archived"] == archived]
        if "email" in request.query:
            chosen = [o for o in chosen if o["email"].lower() == request.query["email"].lower()]
        limit = min(int(request.query.get("limit", "100")), 500, self.page_size or 500)
        start = int(request.query.get("after", "0"))
        page = chosen[start:start + limit]
        answer: dict[str, Any] = {"results": page}
        if start + limit < len(chosen):
            after = str(start + limit)
            answer["paging"] = {"next": {"after": after, "link": f"{self.url}/crm/v3/owners?after={after}"}}
        return 200, answer, {}

    async def _update(self, request: web.Request, body: Any) -> tuple[int, Any, dict[str, str]]:
        if refused := self._refused(request):
            return refused
        key = (request.match_info["object"], request.match_info["id"])
        if key not in self.records:
            return 404, self._error("resource not found", "OBJECT_NOT_FOUND"), {}
        properties = (body or {}).get("properties") if isinstance(body, dict) else None
        if not isinstance(properties, dict):
            return 400, self._error("Invalid input JSON on line 1", "VALIDATION_ERROR"), {}
        owner = properties.get("hubspot_owner_id")
        if owner is not None and owner not in {o["id"] for o in self.owners if not o["archived"]}:
            detail = json.dumps([{"isValid": False, "message": f"{owner} was not one of the allowed options",
                                  "error": "INVALID_OPTION", "name": "hubspot_owner_id"}])
            return 400, {**self._error(f"Property values were not valid: {detail}", "VALIDATION_ERROR"),
                         "errors": [{"message": f"{owner} was not one of the allowed options",
                                     "context": {"propertyName": ["hubspot_owner_id"]}}]}, {}
        self.records[key].update(properties)
        return 200, {"id": key[1], "properties": {**self.records[key], "hs_lastmodifieddate": _now_iso()},
                     "createdAt": "2026-11-01T10:00:00.000Z", "updatedAt": _now_iso(), "archived": False}, {}


# -- Salesforce --------------------------------------------------------------------------

SOQL_EMAIL = re.compile(r"\bFROM\s+User\s+WHERE\s+Email\s*=\s*'((?:[^'\\]|\\.)*)'", re.IGNORECASE)


class FakeSalesforce(_FakeCrm):
    client_id = "3MVG9VwZxxW3bBQjhE6m21CG2nSS4WC.GNbZCtKeQxFH7218ns6xOLCNnJVKnZ"
    client_secret = "8A4BE698BCA216718ECB0B1DCA294C69732EAD9472A1790F8FED38DD2E02B5FA"
    org_id = "00DS7000000oxzoMAA"

    def __init__(self) -> None:
        super().__init__()
        self.users: list[dict[str, Any]] = []
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.valid_tokens: set[str] = set()
        self.issued: list[str] = []
        self._serial = itertools.count(1)

    def add_user(self, email: str, user_id: str, *, active: bool = True) -> None:
        self.users.append({"Id": user_id, "Email": email, "IsActive": active})

    def add_record(self, obj: str, record_id: str, owner_id: str = "005000000000000AAA") -> None:
        self.records[(obj, record_id)] = {"OwnerId": owner_id}

    def owner_of(self, obj: str, record_id: str) -> str:
        return str(self.records[(obj, record_id)]["OwnerId"])

    def give_token(self) -> str:
        """A valid access token, as if the operator had set SALESFORCE_TOKEN."""
        token = f"{self.org_id[:15]}!AR8AQ{next(self._serial):06d}.given"
        self.valid_tokens.add(token)
        return token

    def expire_sessions(self) -> None:
        """Every token issued so far now gets 401 INVALID_SESSION_ID (a session timeout)."""
        self.valid_tokens.clear()

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/services/oauth2/token", self.handle("token", self._token))
        app.router.add_get("/services/data/{version}/query", self.handle("query", self._query))
        app.router.add_get("/services/data/{version}/query/", self.handle("query", self._query))
        app.router.add_patch("/services/data/{version}/sobjects/{object}/{id}",
                             self.handle("update", self._update))

    def fault_body(self, status: int) -> Any:
        if status == 404:
            return [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
        if status == 403:
            return [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        if status == 401:
            return [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        if status == 503:
            return [{"message": "Server Unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
        return [{"message": "An unexpected error occurred. Please include this ErrorId if you contact "
                            "support: 1234567890-12345 (-1234567890)", "errorCode": "UNKNOWN_EXCEPTION"}]

    async def _token(self, request: web.Request, form: Any) -> tuple[int, Any, dict[str, str]]:
        form = form if isinstance(form, dict) else {}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type",
                         "error_description": "grant type not supported"}, {}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}, {}
        token = f"{self.org_id[:15]}!AR8AQ{next(self._serial):06d}.issued"
        self.valid_tokens.add(token)
        self.issued.append(token)
        return 200, {"access_token": token, "signature": "nUFHwtfIGLKDTHcLWmDBG8frv0t+HQGl/iCZFIQUarE=",
                     "token_format": "opaque", "scope": "api", "instance_url": self.url,
                     "id": f"https://login.salesforce.com/id/{self.org_id}/005S7000000Run4sAA",
                     "token_type": "Bearer", "issued_at": str(int(datetime.now(UTC).timestamp() * 1000))}, {}

    def _refused(self, request: web.Request) -> tuple[int, Any, dict[str, str]] | None:
        given = request.headers.get("Authorization", "")
        if not given.startswith("Bearer ") or given.removeprefix("Bearer ") not in self.valid_tokens:
            return 401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], {}
        return None

    async def _query(self, request: web.Request, _body: Any) -> tuple[int, Any, dict[str, str]]:
        if refused := self._refused(request):
            return refused
        soql = request.query.get("q", "")
        match = SOQL_EMAIL.search(soql)
        if match is None:
            return 400, [{"message": f"\n{soql[:80]}\n^\nERROR at Row:1:Column:1\nunexpected token",
                          "errorCode": "MALFORMED_QUERY"}], {}
        email = re.sub(r"\\(.)", r"\1", match.group(1)).lower()
        active_only = re.search(r"IsActive\s*=\s*true", soql, re.IGNORECASE) is not None
        found = [u for u in self.users if u["Email"].lower() == email and (u["IsActive"] or not active_only)]
        version = request.match_info["version"]
        records = [{"attributes": {"type": "User",
                                   "url": f"/services/data/{version}/sobjects/User/{u['Id']}"},
                    "Id": u["Id"]} for u in found[:1]]
        return 200, {"totalSize": len(records), "done": True, "records": records}, {}

    async def _update(self, request: web.Request, body: Any) -> tuple[int, Any, dict[str, str]]:
        if refused := self._refused(request):
            return refused
        key = (request.match_info["object"], request.match_info["id"])
        if key not in self.records:
            return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], {}
        if not isinstance(body, dict):
            return 400, [{"message": "The JSON body is malformed", "errorCode": "JSON_PARSER_ERROR"}], {}
        owner = body.get("OwnerId")
        if owner is not None and owner not in {u["Id"] for u in self.users if u["IsActive"]}:
            return 400, [{"message": "Owner ID: id value of incorrect type: " + str(owner),
                          "errorCode": "FIELD_INTEGRITY_EXCEPTION", "fields": ["OwnerId"]}], {}
        self.records[key].update(body)
        return 204, None, {}


# -- Pipedrive ---------------------------------------------------------------------------

PIPEDRIVE_INFO = "Please check developers.pipedrive.com for more information about Pipedrive API."


class FakePipedrive(_FakeCrm):
    api_token = "6d1b0c7f5e2a4b3c9d8e7f6a5b4c3d2e1f0a9b8c"

    def __init__(self) -> None:
        super().__init__()
        self.users: list[dict[str, Any]] = []
        self.records: dict[tuple[str, str], dict[str, Any]] = {}

    def add_user(self, email: str, user_id: int, *, active: bool = True) -> None:
        self.users.append({"id": user_id, "name": email.split("@")[0].title(), "email": email,
                           "active_flag": active, "is_admin": 0, "lang": 1, "locale": "en_US",
                           "timezone_name": "Europe/Berlin", "role_id": 1})

    def add_record(self, obj: str, record_id: str, owner_id: int = 1) -> None:
        self.records[(obj, record_id)] = {"owner_id" if obj == "persons" else "user_id": owner_id}

    def owner_of(self, obj: str, record_id: str) -> int:
        return int(self.records[(obj, record_id)]["owner_id" if obj == "persons" else "user_id"])

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v1/users/find", self.handle("users_find", self._find))
        app.router.add_put("/api/v1/{object}/{id}", self.handle("update", self._update))

    def fault_body(self, status: int) -> Any:
        if status == 429:
            return {"success": False, "error": "Request over limit", "errorCode": 429,
                    "error_info": PIPEDRIVE_INFO}
        if status == 404:
            return {"success": False, "error": "Person not found", "error_info": PIPEDRIVE_INFO, "data": None,
                    "additional_data": None}
        return {"success": False, "error": "Internal server error", "errorCode": status,
                "error_info": PIPEDRIVE_INFO}

    def fault_headers(self, status: int) -> dict[str, str]:
        if status == 429:
            return {"x-ratelimit-limit": "20", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2"}
        return {}

    def _refused(self, request: web.Request) -> tuple[int, Any, dict[str, str]] | None:
        if request.query.get("api_token") != self.api_token:
            return 401, {"success": False, "error": "You need to be authorized to make this request.",
                         "errorCode": 401, "error_info": PIPEDRIVE_INFO}, {}
        return None

    async def _find(self, request: web.Request, _body: Any) -> tuple[int, Any, dict[str, str]]:
        if refused := self._refused(request):
            return refused
        term = request.query.get("term", "").lower()
        if len(term) < 2:
            return 400, {"success": False, "error": "term must be at least 2 characters long",
                         "error_info": PIPEDRIVE_INFO}, {}
        by_email = request.query.get("search_by_email") in ("1", "true")
        found = [u for u in self.users if term in (u["email"] if by_email else u["name"]).lower()]
        return 200, {"success": True, "data": found or None}, {}

    async def _update(self, request: web.Request, body: Any) -> tuple[int, Any, dict[str, str]]:
        if refused := self._refused(request):
            return refused
        obj = request.match_info["object"]
        key = (obj, request.match_info["id"])
        if obj not in ("persons", "deals"):
            return 404, {"success": False, "error": "Unknown method .", "error_info": PIPEDRIVE_INFO}, {}
        if key not in self.records:
            what = "Person" if obj == "persons" else "Deal"
            return 404, {"success": False, "error": f"{what} not found", "error_info": PIPEDRIVE_INFO,
                         "data": None, "additional_data": None}, {}
        field = "owner_id" if obj == "persons" else "user_id"
        owner = (body or {}).get(field) if isinstance(body, dict) else None
        if owner is not None and owner not in {u["id"] for u in self.users if u["active_flag"]}:
            return 400, {"success": False, "error": "User not found", "error_info": PIPEDRIVE_INFO,
                         "data": None, "additional_data": None}, {}
        if isinstance(body, dict):
            self.records[key].update({k: v for k, v in body.items() if k == field})
        user = next((u for u in self.users if u["id"] == self.records[key][field]), None)
        owner_id = self.records[key][field]
        data = {"id": int(key[1]), field: {"id": owner_id, "name": user["name"] if user else "",
                                           "email": user["email"] if user else "", "value": owner_id},
                "update_time": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")}
        return 200, {"success": True, "data": data, "additional_data": None}, {}

"""A fake Slack Web API for tests, served over real HTTP.

Why a real server instead of mocking ``AsyncWebClient``: the bot talks to Slack
through slack_sdk, and the parts that break in production live exactly in the
layer a mock would skip: which methods slack_sdk sends as JSON, which as a form
and which as GET query parameters; how the ``Retry-After`` header of a 429 is
read; that a non-200 status raises ``SlackApiError``. Pointing the real client
at this server (``base_url=slack.api_url``) keeps all of that under test.

It also speaks Socket Mode (``apps.connections.open`` and a websocket), so the
real Bolt ``AsyncSocketModeHandler`` can connect; see ``socket_send``.

Usage::

    async with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        await client.chat_postMessage(channel="U01ALICE", text="hi")
        [call] = slack.calls_to("chat.postMessage")
        assert call.body["text"] == "hi"

Every request is recorded in ``.calls`` (faults included, so retries are
visible). ``RecordedCall.body`` merges the query string, a form body and a JSON
body, because slack_sdk uses all three: ``users.info`` is a GET with query
parameters, ``auth.test`` and ``conversations.open`` are POSTs whose arguments
are in the query string, ``chat.postMessage`` and ``views.*`` send JSON.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import WSCloseCode, WSMsgType, web
from multidict import CIMultiDict, CIMultiDictProxy

JsonDict = dict[str, Any]

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0TEAM"
TEAM_NAME = "Test Team"
APP_ID = "A0ROTATION"
# What a POST of a file's bytes to its upload URL is recorded as in ``.calls`` (it is not a
# Web API method), so a test can read the external upload flow's steps in order.
UPLOAD_POST = "(upload_url)"

# Keys that slack_sdk (or hand-written form calls) send as JSON text inside a form.
_JSON_FORM_KEYS = frozenset({"blocks", "attachments", "view", "metadata"})
# users.info fields that live under ``profile`` rather than on the user itself.
_PROFILE_KEYS = frozenset(
    {
        "status_text",
        "status_emoji",
        "status_expiration",
        "email",
        "display_name",
        "title",
        "first_name",
        "last_name",
        "phone",
    }
)


@dataclass(frozen=True)
class RecordedCall:
    """One request the fake received.

    ``headers`` is case-insensitive (``call.headers["authorization"]`` works).
    ``status`` and ``response`` are what the fake answered, so a test can see a
    429 followed by the retried 200, or read the ``ts`` a message got.
    """

    method: str
    body: JsonDict
    headers: Mapping[str, str]
    http_verb: str = "POST"
    status: int = 200
    response: JsonDict = field(default_factory=dict)

    @property
    def token(self) -> str | None:
        """The bearer token the call carried (header or ``token`` argument)."""
        return _token(self.headers, self.body)


@dataclass
class Upload:
    """One file of Slack's external upload flow, as the fake saw it.

    ``filename``, ``length`` and ``alt_txt`` are what ``files.getUploadURLExternal`` was
    asked for; ``data`` the bytes POSTed to its ``upload_url`` (None until then); ``title``
    and ``channel_id`` what ``files.completeUploadExternal`` shared it with (None until then).
    """

    file_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    data: bytes | None = None
    content_type: str | None = None
    title: str | None = None
    channel_id: str | None = None
    initial_comment: str | None = None


@dataclass(frozen=True)
class _Fault:
    status: int
    retry_after: int | None
    error: str


class FakeSlack:
    """An aiohttp server on 127.0.0.1 that answers like the Slack Web API."""

    def __init__(self) -> None:
        self.calls: list[RecordedCall] = []
        # Bodies POSTed to response URLs (what Bolt's ``respond()`` sent), in order.
        self.responses: list[JsonDict] = []
        self.responses_by_name: dict[str, list[JsonDict]] = defaultdict(list)
        # Latest view published to each user's App Home (views.publish).
        self.home_views: dict[str, JsonDict] = {}
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._users: dict[str, JsonDict] = {}
        self._usergroups: dict[str, list[str]] = {}
        self._counter = itertools.count(1)
        self._ts_base = int(time.time())
        self._runner: web.AppRunner | None = None
        # Socket Mode: tickets issued by apps.connections.open, open websockets (newest
        # last), every JSON frame the client sent (its acks), and how many sockets closed.
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self.socket_messages: list[JsonDict] = []
        self.sockets_closed = 0
        self._closing = False
        self._port: int | None = None
        # Slack's external upload flow (files_upload_v2), by file id, in the order asked for;
        # and every POST to an upload URL, in order (the file id it was for).
        self.uploads: dict[str, Upload] = {}
        self.upload_posts: list[str] = []
        # Workflow steps finished with functions.completeSuccess / completeError, in order.
        self.function_results: list[JsonDict] = []
        self._handlers: dict[str, Callable[[JsonDict], JsonDict]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": self._view,
            "views.push": self._view,
            "views.update": self._view,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.open": self._conversations_open,
            "usergroups.users.list": self._usergroups_users_list,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "functions.completeSuccess": self._functions_complete_success,
            "functions.completeError": self._functions_complete_error,
        }

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Bind a free port on 127.0.0.1 and start serving."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{name}", self._handle_response_url)
        app.router.add_get("/link/", self._handle_socket)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        # Binding the socket ourselves gives the port without private attributes.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        """Stop serving; safe to call twice."""
        # Close the sockets, else cleanup waits on their handlers; a client that
        # reconnects when its socket closes (slack_sdk does) is turned away.
        self._closing = True
        for ws in list(self._sockets):  # not `while`: a closed one leaves the list only later
            await ws.close(code=WSCloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return self._port

    @property
    def api_url(self) -> str:
        """Base URL for ``AsyncWebClient(base_url=...)``; ends with a slash."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A URL on this server to use as a slash command's ``response_url``."""
        return f"http://127.0.0.1:{self.port}/response/{name}"

    # -- inspection ----------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Every recorded call of one API method, in order."""
        return [c for c in self.calls if c.method == method]

    def clear(self) -> None:
        """Forget recorded calls, responses and socket frames (users, groups and faults stay)."""
        self.calls.clear()
        self.responses.clear()
        self.responses_by_name.clear()
        self.socket_messages.clear()
        self.uploads.clear()
        self.upload_posts.clear()
        self.function_results.clear()

    async def wait_for(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedCall]:
        """Wait until ``count`` calls of ``method`` arrived; return them all.

        For work the bot does in the background (outbox senders, lazy
        listeners), where the test cannot await the call itself.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            if asyncio.get_running_loop().time() >= deadline:
                seen = ", ".join(c.method for c in self.calls) or "none"
                raise AssertionError(
                    f"waited {timeout}s for {count} call(s) to {method}, got {len(found)}; "
                    f"calls seen: {seen}"
                )
            await asyncio.sleep(0.01)

    async def wait_for_responses(self, count: int = 1, timeout: float = 5.0) -> list[JsonDict]:
        """Wait until ``count`` bodies were POSTed to response URLs."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.responses) < count:
            if asyncio.get_running_loop().time() >= deadline:
                raise AssertionError(
                    f"waited {timeout}s for {count} response_url post(s), "
                    f"got {len(self.responses)}: {self.responses!r}"
                )
            await asyncio.sleep(0.01)
        return list(self.responses)

    # -- Socket Mode ---------------------------------------------------------
    #
    # Why: with SLACK_APP_TOKEN the bot takes no HTTP requests from Slack at all;
    # Slack pushes every command, interaction and event as an envelope over a
    # websocket and waits for an ack carrying the same ``envelope_id``. Serving
    # that protocol here lets tests drive the real Socket Mode handler.

    @property
    def sockets_open(self) -> int:
        """How many Socket Mode connections are open now."""
        return len(self._sockets)

    async def socket_send(self, envelope: JsonDict, timeout: float = 5.0) -> None:
        """Push one envelope (``{"envelope_id", "type", "payload", ...}``) to the client.

        Goes to the newest connection, waiting up to ``timeout`` for one to be open.
        """
        await _wait_until(lambda: bool(self._sockets), timeout, lambda: "an open Socket Mode connection")
        await self._sockets[-1].send_json(envelope)

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> JsonDict:
        """Wait for the client's ack of ``envelope_id``; return it (``payload`` included)."""

        def ack() -> JsonDict | None:
            return next((m for m in self.socket_messages if m.get("envelope_id") == envelope_id), None)

        await _wait_until(
            lambda: ack() is not None, timeout,
            lambda: f"the ack of envelope {envelope_id!r}; frames seen: {self.socket_messages!r}")
        return ack() or {}

    async def wait_for_socket_open(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``count`` Socket Mode connections are open at once."""
        await _wait_until(lambda: self.sockets_open >= count, timeout,
                          lambda: f"{count} open Socket Mode connection(s), {self.sockets_open} now")

    async def wait_for_socket_closed(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``count`` Socket Mode connections in all were closed."""
        await _wait_until(lambda: self.sockets_closed >= count, timeout,
                          lambda: f"{count} closed Socket Mode connection(s), {self.sockets_closed} so far")

    # -- scripting -----------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        error: str | None = None,
    ) -> None:
        """Queue a fault for the next call of ``method`` (each is used once).

        ``status=429`` answers ``{"ok": false, "error": "ratelimited"}`` with a
        ``Retry-After`` header; any other status answers ``{"ok": false,
        "error": error}`` with that status, so ``status=200,
        error="channel_not_found"`` is a Slack-style logical failure.
        """
        default_error = "ratelimited" if status == 429 else "internal_error"
        self._faults[method].append(
            _Fault(
                status=status,
                retry_after=retry_after if status == 429 else None,
                error=error or default_error,
            )
        )

    def set_user(self, user_id: str, **fields: Any) -> JsonDict:
        """Register or update what ``users.info`` says about a user.

        Profile fields (``status_text``, ``status_emoji``, ``status_expiration``,
        ``email``, ``display_name``...) go under ``profile``; others (``name``,
        ``real_name``, ``tz``, ``deleted``, ``is_bot``...) on the user. A
        ``profile={...}`` argument is merged too.
        """
        user = self._users.setdefault(user_id, _default_user(user_id))
        profile = user["profile"]
        profile.update(fields.pop("profile", {}))
        for key, value in fields.items():
            (profile if key in _PROFILE_KEYS else user)[key] = value
        if "real_name" in fields:
            profile["real_name"] = fields["real_name"]
        return user

    def set_usergroup(self, group_id: str, user_ids: list[str]) -> None:
        """Set the members ``usergroups.users.list`` reports for a user group."""
        self._usergroups[group_id] = list(user_ids)

    # -- HTTP ----------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await _read_body(request)
        headers: Mapping[str, str] = CIMultiDictProxy(CIMultiDict(request.headers))
        status, payload, extra_headers = self._answer(method, body, headers)
        self.calls.append(RecordedCall(method, body, headers, request.method, status, payload))
        return web.json_response(payload, status=status, headers=extra_headers)

    def _answer(
        self, method: str, body: JsonDict, headers: Mapping[str, str]
    ) -> tuple[int, JsonDict, dict[str, str]]:
        queue = self._faults.get(method)
        if queue:
            fault = queue.popleft()
            extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            return fault.status, {"ok": False, "error": fault.error}, extra
        if not headers.get("Authorization") and not body.get("token"):
            return 200, {"ok": False, "error": "not_authed"}, {}
        if method == "apps.connections.open":  # the one answer that depends on the token
            return 200, self._apps_connections_open(_token(headers, body) or ""), {}
        handler = self._handlers.get(method)
        return 200, handler(body) if handler else {"ok": True}, {}

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        body = await _read_body(request)
        self.responses.append(body)
        self.responses_by_name[request.match_info["name"]].append(body)
        # Slack's response URLs answer a plain-text "ok".
        return web.Response(text="ok")

    async def _handle_upload(self, request: web.Request) -> web.Response:
        """An upload URL: Slack takes the raw bytes or a multipart form with the file, and
        answers 200 with a plain-text "OK - <bytes>"; an id it never issued is a 404."""
        file_id = request.match_info["file_id"]
        upload = self.uploads.get(file_id)
        self.upload_posts.append(file_id)
        headers: Mapping[str, str] = CIMultiDictProxy(CIMultiDict(request.headers))
        if request.content_type == "multipart/form-data":
            form = await request.post()
            part = next((v for v in form.values() if isinstance(v, web.FileField)), None)
            data = part.file.read() if part is not None else b""
        else:
            data = await request.read()
        status, text = (404, "Not Found") if upload is None else (200, f"OK - {len(data)}")
        self.calls.append(RecordedCall(UPLOAD_POST, {"file_id": file_id, "bytes": len(data)}, headers,
                                       "POST", status, {"text": text}))
        if upload is not None:
            upload.data, upload.content_type = data, request.content_type
        return web.Response(status=status, text=text)

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        """A Socket Mode connection: ``hello`` first, as Slack does, then record every frame."""
        if request.query.get("ticket") not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if self._closing:
            await ws.close(code=WSCloseCode.GOING_AWAY)
            return ws
        self._sockets.append(ws)
        try:
            await ws.send_json({
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            })
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self.socket_messages.append(json.loads(message.data))
        finally:
            self._sockets.remove(ws)
            self.sockets_closed += 1
        return ws

    # -- method answers ------------------------------------------------------

    def _apps_connections_open(self, token: str) -> JsonDict:
        # Slack opens sockets only for app-level tokens; a bot or user token is refused.
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        ticket = f"{self._ts_base:x}{next(self._counter):06x}"
        self._tickets.add(ticket)
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={APP_ID}"}

    def _next_ts(self) -> str:
        return f"{self._ts_base}.{next(self._counter):06d}"

    def _auth_test(self, _body: JsonDict) -> JsonDict:
        return {
            "ok": True,
            "url": "https://test-team.slack.com/",
            "team": TEAM_NAME,
            "user": "rotation",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _message(self, body: JsonDict, ts: str) -> JsonDict:
        message: JsonDict = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": body.get("text", ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if key in body:
                message[key] = body[key]
        return message

    def _chat_post_message(self, body: JsonDict) -> JsonDict:
        ts = self._next_ts()
        return {
            "ok": True,
            "channel": _dm_channel(str(body.get("channel", ""))),
            "ts": ts,
            "message": self._message(body, ts),
        }

    def _chat_update(self, body: JsonDict) -> JsonDict:
        ts = str(body.get("ts", ""))
        return {
            "ok": True,
            "channel": _dm_channel(str(body.get("channel", ""))),
            "ts": ts,
            "text": body.get("text", ""),
            "message": self._message(body, ts),
        }

    def _chat_post_ephemeral(self, _body: JsonDict) -> JsonDict:
        return {"ok": True, "message_ts": self._next_ts()}

    def _view(self, body: JsonDict) -> JsonDict:
        submitted = body.get("view")
        view: JsonDict = dict(submitted) if isinstance(submitted, dict) else {}
        view_id = str(body.get("view_id") or f"V{next(self._counter):08d}")
        view.update(
            {
                "id": view_id,
                "team_id": TEAM_ID,
                "state": {"values": {}},
                "hash": f"{self._ts_base}.{view_id}",
                "root_view_id": view_id,
                "app_id": APP_ID,
                "bot_id": BOT_ID,
            }
        )
        view.setdefault("private_metadata", "")
        view.setdefault("callback_id", "")
        return {"ok": True, "view": view}

    def _views_publish(self, body: JsonDict) -> JsonDict:
        answer = self._view(body)
        self.home_views[str(body.get("user_id", ""))] = answer["view"]
        return answer

    def _users_info(self, body: JsonDict) -> JsonDict:
        user_id = str(body.get("user", ""))
        return {"ok": True, "user": self._users.get(user_id) or _default_user(user_id)}

    def _users_lookup_by_email(self, body: JsonDict) -> JsonDict:
        email = str(body.get("email", "")).lower()
        for user in self._users.values():
            if str(user["profile"].get("email", "")).lower() == email:
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}

    def _conversations_open(self, body: JsonDict) -> JsonDict:
        if body.get("channel"):
            return {"ok": True, "channel": {"id": str(body["channel"])}}
        users = [u for u in str(body.get("users", "")).split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        channel_id = "D" + users[0] if len(users) == 1 else "G" + "".join(sorted(users))
        return {"ok": True, "channel": {"id": channel_id}}

    def _usergroups_users_list(self, body: JsonDict) -> JsonDict:
        group_id = str(body.get("usergroup", ""))
        if group_id not in self._usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self._usergroups[group_id])}


    # -- files (the external upload flow) and workflow functions -------------

    def _files_get_upload_url_external(self, body: JsonDict) -> JsonDict:
        filename = str(body.get("filename") or "")
        try:
            length = int(str(body.get("length", "")))
        except ValueError:
            length = -1
        if not filename or length < 0:
            return {"ok": False, "error": "invalid_arguments"}
        alt_txt = body.get("alt_txt")
        if alt_txt is not None and len(str(alt_txt)) > 1000:
            return {"ok": False, "error": "alt_txt_too_large"}
        file_id = f"F{next(self._counter):010d}"
        self.uploads[file_id] = Upload(file_id, filename, length,
                                       None if alt_txt is None else str(alt_txt))
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/v1/{file_id}",
                "file_id": file_id}

    def _files_complete_upload_external(self, body: JsonDict) -> JsonDict:
        raw = body.get("files")
        try:
            wanted = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(wanted, list) or not wanted:
            return {"ok": False, "error": "invalid_arguments"}
        found = []
        for item in wanted:
            upload = self.uploads.get(str(item.get("id", ""))) if isinstance(item, dict) else None
            if upload is None or upload.data is None or upload.title is not None:
                return {"ok": False, "error": "file_not_found"}  # unknown, never uploaded, or done
            found.append((upload, item.get("title")))
        files = []
        for upload, title in found:
            upload.title = str(title) if title is not None else upload.filename
            upload.channel_id = str(body["channel_id"]) if body.get("channel_id") else None
            upload.initial_comment = body.get("initial_comment")
            files.append({"id": upload.file_id, "title": upload.title})
        return {"ok": True, "files": files}

    def _functions_complete_success(self, body: JsonDict) -> JsonDict:
        return self._function_result(body, "outputs", "success")

    def _functions_complete_error(self, body: JsonDict) -> JsonDict:
        return self._function_result(body, "error", "error")

    def _function_result(self, body: JsonDict, key: str, outcome: str) -> JsonDict:
        if not body.get("function_execution_id") or key not in body:
            return {"ok": False, "error": "invalid_arguments"}
        value = body[key]
        if key == "outputs" and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return {"ok": False, "error": "invalid_arguments"}
        self.function_results.append({"function_execution_id": str(body["function_execution_id"]),
                                      "outcome": outcome, key: value})
        return {"ok": True}

    def shared_files(self) -> list[Upload]:
        """Uploads that were completed (shared or kept private), in the order asked for."""
        return [u for u in self.uploads.values() if u.title is not None]


def _token(headers: Mapping[str, str], body: JsonDict) -> str | None:
    """The bearer token a request carried (``Authorization`` header or ``token`` argument)."""
    auth = headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth.removeprefix("Bearer ")
    token = body.get("token")
    return str(token) if token is not None else None


async def _wait_until(done: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
    """Poll ``done`` until it holds; after ``timeout`` seconds fail, saying ``what()`` was awaited."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not done():
        if asyncio.get_running_loop().time() >= deadline:
            raise AssertionError(f"waited {timeout}s for {what()}")
        await asyncio.sleep(0.01)


def _dm_channel(channel: str) -> str:
    """Posting to a user ID lands in the bot's DM with them: Slack answers its D-ID."""
    return "D" + channel if channel[:1] in ("U", "W") else channel


def _default_user(user_id: str) -> JsonDict:
    """A person, as users.info shows one; Slackbot (USLACKBOT) as Slack shows it: is_bot false."""
    name = "slackbot" if user_id == "USLACKBOT" else user_id.lower()
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "real_name": name.title(),
        "deleted": False,
        "is_bot": False,
        "tz": "America/New_York",
        "tz_label": "Eastern Standard Time",
        "tz_offset": -18000,
        "profile": {
            "real_name": name.title(),
            "display_name": name,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
        },
    }


async def _read_body(request: web.Request) -> JsonDict:
    """Merge query parameters with a JSON or form body (the body wins)."""
    body: JsonDict = dict(request.query)
    if request.content_type == "application/json":
        raw = await request.text()
        if raw:
            parsed = json.loads(raw)
            body.update(parsed if isinstance(parsed, dict) else {"_json": parsed})
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                body[key] = value.filename
            else:
                body[key] = _maybe_json(key, value if isinstance(value, str) else bytes(value).decode())
    return body


def _maybe_json(key: str, value: str) -> Any:
    """Decode ``blocks``/``view``... sent as JSON text inside a form."""
    if key in _JSON_FORM_KEYS and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value

"""The Slack side of the process: one Bolt app, one Web API client, HTTP and Socket Mode.

Why one client with one aiohttp session and retry handlers: without a session slack_sdk
opens a connection pool per call, and without the rate-limit/server-error handlers a
429 from Slack would drop a lead's DM instead of waiting `Retry-After` and trying again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config.settings import Settings
from bot.delivery.slack_rate_limit import BoundedRateLimitRetryHandler
from bot.routing.service import RoutingService
from bot.slack import dedupe, gate, listeners
from bot.slack import deps as slack_deps
from bot.slack.messages import render

log = logging.getLogger(__name__)

__all__ = ["SlackAppTokenRefused", "SlackRuntime", "render", "retry_handlers"]

UNHANDLED = '{"error": "unhandled request"}'  # Bolt's answer when no listener takes a request
TICKET_TIMEOUT = 10.0  # seconds to wait for Slack's first Socket Mode ticket before going on
# Slack's answers to apps.connections.open that retrying cannot mend: the token is wrong.
TOKEN_REFUSALS = frozenset({"invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked",
                            "token_expired", "account_inactive", "missing_scope"})


class SlackAppTokenRefused(Exception):
    """Slack said no to SLACK_APP_TOKEN: a configuration mistake that retrying cannot mend."""


def retry_handlers() -> list[Any]:
    # One quick retry each; the outbox delivery loop owns longer backoff, so one
    # rate-limited message never holds up the others for long.
    return [AsyncConnectionErrorRetryHandler(max_retry_count=1),
            BoundedRateLimitRetryHandler(max_retry_count=1),
            AsyncServerErrorRetryHandler(max_retry_count=1)]


class SlackRuntime:
    """Owns the Bolt app and the client; `handle` serves HTTP, `start` Socket Mode, `deliver` the outbox."""

    def __init__(self, settings: Settings, service: RoutingService, client: AsyncWebClient) -> None:
        self.settings = settings
        self.service = service
        self.client = client
        self.app = AsyncApp(
            client=client,
            signing_secret=settings.slack_signing_secret or "",
            # bot.slack.gate verifies every HTTP request before Bolt sees it (Bolt's own check logged
            # a refused body whole); Socket Mode needs no signature
            request_verification_enabled=False,
            # with a client (token) and no OAuth, Bolt authorizes lazily: auth.test on the first request
            logger=_bolt_logger(),
        )
        slack_deps.install(self.app, slack_deps.SlackDeps(service, settings.manager_group))
        dedupe.install(self.app, service.db)
        listeners.register(self.app)
        self._socket: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Task[None] | None = None
        self.socket_ping_interval = 10.0  # seconds; also how long slack_sdk waits between connection tries

    @classmethod
    def from_settings(cls, settings: Settings, service: RoutingService) -> SlackRuntime | None:
        """The runtime, or None when no SLACK_BOT_TOKEN is set (messages then go to the log)."""
        if not settings.slack_bot_token:
            return None
        client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url,
                                retry_handlers=retry_handlers())
        if not settings.slack_signing_secret and not settings.slack_app_token:
            log.warning("SLACK_SIGNING_SECRET is not set: every request to /slack/events will get 401")
        runtime = cls(settings, service, client)
        runtime._ensure_session()
        return runtime

    def _ensure_session(self) -> None:
        """Attach the shared aiohttp session; it needs a running loop, so it may come later."""
        if self.client.session is not None and not self.client.session.closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self.client.session = aiohttp.ClientSession()

    async def handle(self, request: web.Request) -> web.Response:
        """POST /slack/events: the gate first (401 unsigned, bad or stale; 400 malformed), then Bolt.

        A refusal is one bounded, escaped log line (bot.slack.gate). A well-formed payload no
        listener takes is answered 200: Slack would retry an event it sees refused.
        """
        try:
            body = await self._admit(request)
        except gate.Refused as refused:
            if refused.status == 200:  # Slack's SSL check: answered, nothing to say
                return web.Response(status=200)
            log.warning("%s", gate.log_line(refused, request.remote))
            return web.json_response({"error": refused.words}, status=refused.status)
        self._ensure_session()
        try:
            bolt_request = AsyncBoltRequest(body=body, query=request.query_string,
                                            headers=dict(request.headers))
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            # a shape the gate let through that Bolt's context builders cannot read
            unreadable = gate.Refused(400, f"{gate.CANNOT_READ}: a field is not of the kind Slack sends.")
            log.warning("%s", gate.log_line(unreadable, request.remote))
            return web.json_response({"error": unreadable.words}, status=400)
        bolt_response = await self.app.async_dispatch(bolt_request)
        if bolt_response.status == 404 and bolt_response.body == UNHANDLED:
            return web.Response(status=200)
        return await to_aiohttp_response(bolt_response)

    async def _admit(self, request: web.Request) -> str:
        """The body Bolt may read, once the request is Slack's and well formed (`gate.Refused`)."""
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        try:
            gate.check_headers(timestamp, signature)
            raw = await request.read()
            gate.verify(self.settings.slack_signing_secret or "", str(timestamp), str(signature), raw)
        except gate.Refused:
            small = request.content_length is not None and request.content_length <= gate.SSL_CHECK_BYTES
            if small and gate.is_ssl_check(await request.read()):
                raise gate.Refused(200, "Slack's SSL check, answered 200") from None
            raise
        return gate.read_body(raw, request.headers.get("Content-Type"))

    async def start(self) -> None:
        """Socket Mode when SLACK_APP_TOKEN is set: check the token now, connect in the background.

        Why the split: slack_sdk retries a failed connection every few seconds forever, so
        awaiting the connection would keep the HTTP port shut (and SIGTERM unanswered)
        whenever Slack is out of reach. The first ticket (`apps.connections.open`) is asked
        for here, bounded: a token Slack refuses raises SlackAppTokenRefused in plain
        words; an unreachable Slack is logged and left to the background retries.
        """
        self._ensure_session()
        if not self.settings.slack_app_token or self._socket is not None:
            return
        handler = AsyncSocketModeHandler(self.app, self.settings.slack_app_token, web_client=self.client,
                                         ping_interval=self.socket_ping_interval)
        try:
            handler.client.wss_uri = await asyncio.wait_for(handler.client.issue_new_wss_url(),
                                                            TICKET_TIMEOUT)
        except SlackApiError as refused:
            error = refused.response.get("error")
            if error not in TOKEN_REFUSALS:  # Slack is having a bad moment: retry later
                log.warning("Slack could not open Socket Mode yet (HTTP %d, %s); "
                            "still trying in the background", refused.response.status_code, error)
            else:
                await handler.client.close()
                raise SlackAppTokenRefused(
                    f"Slack refused SLACK_APP_TOKEN ({error}): "
                    "Socket Mode needs the app-level token (it starts with xapp-) "
                    "with the connections:write scope, from the app's Basic Information page") from None
        except (aiohttp.ClientError, OSError, TimeoutError) as unreachable:
            log.warning("cannot reach Slack for Socket Mode (%s); still trying in the background",
                        str(unreachable) or type(unreachable).__name__)
        self._socket = handler
        self._connecting = asyncio.create_task(self._connect(handler), name="slack-socket-mode")

    @staticmethod
    async def _connect(handler: AsyncSocketModeHandler) -> None:
        await handler.connect_async()  # returns once connected; retries until then
        log.info("connected to Slack in Socket Mode")

    async def close(self) -> None:
        """Stop connecting, disconnect Socket Mode and close the shared session; safe to call twice."""
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
            self._connecting = None
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self.client.session is not None and not self.client.session.closed:
            await self.client.session.close()

    async def deliver(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one outbox message; raises SlackApiError on failure (the caller retries)."""
        self._ensure_session()
        message = render(kind, payload)
        response = await self.client.chat_postMessage(
            channel=message["channel"], text=message["text"], blocks=message["blocks"],
            unfurl_links=False, unfurl_media=False)
        return {"channel": response.get("channel"), "ts": response.get("ts")}


class _SameTokenWarning(logging.Filter):
    """Drops Bolt's "`token` will be unused" warning: Bolt reads SLACK_BOT_TOKEN from the
    environment itself, finds our client too, and warns, though both hold the same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


class _OneBoundedLine(logging.Filter):
    """Every Bolt record as one escaped line of at most 300 characters: Bolt puts request
    bodies in some of its messages (an unhandled request's), and those are the client's."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = gate.one_line(record.getMessage(), 300), None
        return True


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("bot.slack.bolt")
    if not any(isinstance(f, _SameTokenWarning) for f in logger.filters):
        logger.addFilter(_SameTokenWarning())
    if not any(isinstance(f, _OneBoundedLine) for f in logger.filters):
        logger.addFilter(_OneBoundedLine())
    return logger

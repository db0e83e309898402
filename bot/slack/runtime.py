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
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config.settings import Settings
from bot.routing.service import RoutingService
from bot.slack import dedupe, listeners
from bot.slack import deps as slack_deps
from bot.slack.messages import render

log = logging.getLogger(__name__)

__all__ = ["SlackAppTokenRefused", "SlackRuntime", "render", "retry_handlers"]

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
            AsyncRateLimitErrorRetryHandler(max_retry_count=1),
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
            request_verification_enabled=True,  # unsigned, bad or stale (>5 min) requests: 401
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
        """POST /slack/events: verify the signature (401 if bad or stale) and dispatch."""
        if not _is_timestamp(request.headers.get("X-Slack-Request-Timestamp")):
            # slack_sdk's verifier would raise on a non-numeric timestamp, and Bolt answer 500
            return web.json_response({"error": "invalid request"}, status=401)
        self._ensure_session()
        bolt_response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

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


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("bot.slack.bolt")
    if not any(isinstance(f, _SameTokenWarning) for f in logger.filters):
        logger.addFilter(_SameTokenWarning())
    return logger


def _is_timestamp(value: str | None) -> bool:
    """Whether a Slack request timestamp header holds whole seconds, as Slack sends them."""
    return value is not None and value.strip().isdigit()

"""The Slack side of the process: one Bolt app, one Web API client, HTTP and Socket Mode.

Why one client with one aiohttp session and retry handlers: without a session slack_sdk
opens a connection pool per call, and without the rate-limit/server-error handlers a
429 from Slack would drop a lead's DM instead of waiting `Retry-After` and trying again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
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
from bot.routing.events import UnknownEvent, Way, event_of
from bot.routing.service import RoutingService
from bot.slack import dedupe, delivery_plan, gate, listeners, messages
from bot.slack import deps as slack_deps
from bot.slack.block_json import blocks_json
from bot.slack.messages import Extras
from bot.slack.sent_messages import Posted

log = logging.getLogger(__name__)

__all__ = ["SlackAppTokenRefused", "SlackRuntime", "retry_handlers"]

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
        self._remembered = delivery_plan.Remembered()  # lead_url and zones, for a burst's messages
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
        """Send one outbox message; raises SlackApiError on failure (the caller retries).

        A message about a lead is planned first (`bot.slack.delivery_plan`): a follow-up goes
        in the thread of the lead's first post in that channel, and the thread's first post is
        then updated to say where the lead is now; a note to a rep whose offer ended updates
        that offer's DM (its buttons replaced by what happened) before it is sent. Updates
        are idempotent and best effort; a thread that cannot be found or used means a plain
        post, so a follow-up is never lost. What is returned (and stored) is the post's.
        """
        self._ensure_session()
        plan = await self._plan(kind, payload)
        now = self.service.clock.now()
        extras = Extras(lead_url=plan.lead_url, in_thread=plan.thread is not None, now=now, zone=plan.zone)
        message = messages.render(kind, plan.payload, extras)
        if plan.dm_to_update is not None:
            await self._close_offer(plan, message["text"], extras)
        response = await self._post(message, plan, kind)
        if plan.thread is not None and kind == Way.CHANNEL and plan.lead_id:
            await self._refresh_root(plan.thread, plan.lead_id, extras)
        return {"channel": response.get("channel"), "ts": response.get("ts")}

    async def _plan(self, kind: str, payload: dict[str, Any]) -> delivery_plan.Plan:
        try:
            event = event_of(payload)
        except UnknownEvent:
            return delivery_plan.Plan(payload)  # render() refuses it in words
        if not delivery_plan.needs_plan(event):
            return delivery_plan.Plan(payload)
        at_once = delivery_plan.plan_at_once(payload, event, self._remembered)
        if at_once is not None:  # a burst's new leads: no transaction per message
            return at_once
        try:
            return await self.service.db.read(  # never behind routing's write lock
                lambda connection: delivery_plan.plan(connection, kind, payload, event, self._remembered))
        except Exception as error:  # a lookup must not hold the message up: post it plainly
            log.warning("could not look up where to send a %s message (%s); posting it plainly",
                        kind, gate.one_line(str(error), 200))
            return delivery_plan.Plan(payload)

    async def _post(self, message: dict[str, Any], plan: delivery_plan.Plan, kind: str) -> Any:
        thread = plan.thread
        threaded: dict[str, Any] = {}
        if thread is not None:
            threaded = {"thread_ts": thread.ts}
            if kind == Way.CHANNEL and message["blocks"] is not None:
                threaded["reply_broadcast"] = True  # a waiting lead's buttons stay in sight
        try:
            return await self.client.chat_postMessage(
                channel=message["channel"], text=message["text"], blocks=message["blocks"],
                unfurl_links=False, unfurl_media=False, **threaded)
        except SlackApiError as refused:
            if not threaded or refused.response.get("error") not in THREAD_GONE:
                raise
        log.info("the thread of a %s message is gone; posting it on its own", kind)
        message = messages.render(kind, plan.payload, Extras(lead_url=plan.lead_url, zone=plan.zone,
                                                              now=self.service.clock.now()))
        return await self.client.chat_postMessage(
            channel=message["channel"], text=message["text"], blocks=message["blocks"],
            unfurl_links=False, unfurl_media=False)

    async def _close_offer(self, plan: delivery_plan.Plan, words: str, extras: Extras) -> None:
        """The offer DM, its buttons replaced by the note (the offer moved on without them)."""
        dm, lead = plan.dm_to_update, plan.payload.get("lead")
        if dm is None or not isinstance(lead, dict):
            return
        text, blocks = messages.closed_offer(lead, words, extras)
        await self._update(dm.channel, dm.ts, text, blocks_json(blocks))

    async def _refresh_root(self, root: Posted, lead_id: str, extras: Extras) -> None:
        """The lead's first post in a channel, as it reads now (offered, accepted, waiting)."""
        try:
            record = await self.service.assignment.lead(lead_id)
        except Exception as error:
            log.warning("could not read lead %s to update its announcement: %s",
                        gate.one_line(lead_id, 200), gate.one_line(str(error), 200))
            return
        text, blocks = messages.announcement_now(record, replace(extras, in_thread=False))
        await self._update(root.channel, root.ts, text, blocks_json(blocks))

    async def _update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> bool:
        """chat.update, best effort: a message deleted or too old to edit stays as it is."""
        try:
            await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as refused:
            log.warning("could not update message %s in %s: %s", ts, channel, refused.response.get("error"))
            return False
        return True


THREAD_GONE = frozenset({"thread_not_found", "message_not_found", "invalid_thread_ts",
                         "cant_reply_to_message", "cannot_reply_to_message"})


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

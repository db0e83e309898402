"""Where an outbox message goes: Slack (dm/channel), the log (no Slack token), or a webhook.

A transport's `send(message)` returns what to store as the message's result, or raises
`DeliveryError` (with `retry_after` when the other side said when to come back, `rate_limited`
when the answer was a rate limit saying so, a 429 with Retry-After: not a failed attempt, see
`bot.delivery.retry_after`; and `permanent` when trying again cannot help).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import aiohttp
from yarl import URL

from bot.delivery.retry_after import bounded_delay, retry_after_seconds
from bot.delivery.slack_rate_limit import header
from bot.note_words import note_words
from bot.routing.events import (
    CrmOwner,
    LeadAssigned,
    LeadMoved,
    LeadReassigned,
    LeadUnassigned,
    ManagersNote,
    MemberNote,
    SlaExhausted,
    StatusPaused,
    UnknownEvent,
    Way,
    address_of,
    event_of,
)
from bot.routing.outbox import Message

log = logging.getLogger("bot.delivery")
console_log = logging.getLogger("bot.delivery.console")

SIGNATURE_HEADER = "X-Rotation-Signature"
TIMESTAMP_HEADER = "X-Rotation-Timestamp"
DELIVERY_HEADER = "X-Rotation-Delivery"
# Slack errors that the same request will never get past.
PERMANENT_SLACK_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "user_not_found", "user_not_visible",
    "cannot_dm_bot", "invalid_auth", "not_authed", "account_inactive", "token_revoked",
    "missing_scope", "invalid_blocks", "msg_too_long", "no_text", "restricted_action",
})


class DeliveryError(Exception):
    """A failed attempt; `retry_after` (whatever the other side said) is kept bounded.

    `rate_limited`: the other side only said "not now, come back in `retry_after`" (a 429 that
    names a time), so the message waits its turn without spending an attempt; without a
    usable Retry-After it is a failed attempt like any other."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False,
                 rate_limited: bool = False) -> None:
        super().__init__(message)
        self.retry_after = bounded_delay(retry_after)
        self.permanent = permanent
        self.rate_limited = rate_limited and self.retry_after is not None and not permanent


class Transport(Protocol):
    async def send(self, message: Message) -> dict[str, Any]: ...


class SlackDeliverer(Protocol):
    async def deliver(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]: ...


class SlackTransport:
    """dm/channel messages through the Slack runtime (slack_sdk retries a 429 once itself)."""

    def __init__(self, runtime: SlackDeliverer) -> None:
        self.runtime = runtime

    async def send(self, message: Message) -> dict[str, Any]:
        from slack_sdk.errors import SlackApiError

        try:
            return dict(await self.runtime.deliver(message.kind, message.payload) or {})
        except SlackApiError as exc:
            raise slack_error(exc) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"Slack could not be reached: {exc!r}") from None


def slack_error(exc: Any) -> DeliveryError:
    response = exc.response
    status = getattr(response, "status_code", None)
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    what = f"Slack answered {status}" + (f" {code}" if code else "")
    if status == 429:
        headers = getattr(response, "headers", None) or {}
        return DeliveryError(what, retry_after=retry_after_seconds(header(headers, "Retry-After")),
                             rate_limited=True)
    return DeliveryError(what, permanent=status == 200 and code in PERMANENT_SLACK_ERRORS)


class ConsoleTransport:
    """With no Slack token: one readable line per message in the log."""

    async def send(self, message: Message) -> dict[str, Any]:
        console_log.info("%s", one_line(console_line(message.kind, message.payload)))
        return {"console": True}


# Control characters written as escapes: a lead's fields come from outside, and a newline in a
# name must not start what looks like a log line of its own (nor a NUL make the log "binary").
_ESCAPED_CONTROLS = {code: repr(chr(code))[1:-1] for code in (*range(32), 127)}


def one_line(text: str) -> str:
    return text.translate(_ESCAPED_CONTROLS)


def console_line(kind: str, payload: dict[str, Any]) -> str:
    to = address_of(payload) or "?"
    where = f"DM to {to}" if kind == Way.DM else f"#{to}" if kind == Way.CHANNEL else kind
    log_render: Callable[[str, dict[str, Any]], dict[str, Any]] | None
    try:  # the Slack words, with the lead's values as they came (escaped below, as every log line)
        from bot.slack.messages import log_render
    except ImportError:
        log_render = None
    if log_render is not None and kind in (Way.DM, Way.CHANNEL):  # Slack's kinds; the rest plainly
        try:
            text = log_render(kind, payload).get("text")
        except Exception:  # a rendering bug must not stop a message reaching the log
            log.exception("rendering %s failed; logging it plainly", kind)
        else:
            if text:
                return f"[{where}] {text}"
    return f"[{where}] {plain_text(payload)}"


def plain_text(payload: dict[str, Any]) -> str:
    """A message in words without Slack (the log, a console): every event kind has a line."""
    try:
        event = event_of(payload)
    except UnknownEvent:
        return json.dumps(payload, sort_keys=True, default=str)
    lead = getattr(event, "lead", None) or {}
    card = ", ".join(str(lead[k]) for k in ("name", "email", "company") if lead.get(k))
    about = f"lead {lead.get('id', '?')}" + (f" ({card})" if card else "")
    match event:
        case LeadAssigned():
            who = event.assignee.get("name") or event.assignee.get("slack_id")
            return f"New {about} in {event.queue} for {who}. {event.summary or ''}".strip()
        case LeadUnassigned():
            return f"Nobody could take {about} in {event.queue}: {event.reason}."
        case MemberNote() | ManagersNote() | StatusPaused():
            return f"{event.text} ({about})" if lead else event.text
        case LeadMoved() | LeadReassigned() | SlaExhausted():
            return f"{note_words(event)} ({about})"
        case CrmOwner():
            return f"Set the CRM owner of lead {event.lead_id} to {event.slack_id}."
    return json.dumps(payload, sort_keys=True, default=str)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of `<timestamp>.<body>` (so a replayed body fails later)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookTransport:
    """POSTs each webhook event as JSON to ROTATION_WEBHOOK_URL, signed when a secret is set.

    Only a 2xx is a delivery. Redirects are never followed: aiohttp would turn a 301/302/303
    into a GET without the body (the event lost, yet "sent"), and a 307/308 would hand the
    signed body to whatever host the answer names. A 3xx is a failed attempt like a 5xx:
    retried with the loop's backoff, then given up on visibly. Errors name the status and, for
    a redirect, only the host it pointed to; never the answer's body.
    """

    def __init__(self, url: str | None, secret: str | None, *, timeout: float = 10.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def send(self, message: Message) -> dict[str, Any]:
        if not self.url:
            raise DeliveryError("No ROTATION_WEBHOOK_URL is set.", permanent=True)
        body = json.dumps({"delivery_id": message.key, **message.payload}, default=str).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                   DELIVERY_HEADER: message.key, "User-Agent": "rotation-bot"}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, timestamp, body)
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._session.post(self.url, data=body, headers=headers,
                                          allow_redirects=False) as response:
                await _drain(response)
                status = response.status
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                location = response.headers.get("Location")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"The webhook could not be reached: {exc!r}") from None
        if 200 <= status < 300:
            return {"status": status}
        raise webhook_error(status, retry_after, location)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


# Statuses that the same request may get past later; any other 4xx will never.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})
# Bytes of a webhook's answer read (and thrown away) so its connection can be reused.
MAX_ANSWER_BYTES = 64 * 1024


def webhook_error(status: int, retry_after: float | None, location: str | None) -> DeliveryError:
    """The failed attempt a non-2xx answer is: a redirect or a 5xx is retried (a redirect may be
    a moved endpoint the operator will fix); a 4xx other than 408/425/429 is not."""
    if 300 <= status < 400:
        where = redirect_host(location)
        target = f" to {where}" if where else ""
        return DeliveryError(f"The webhook answered {status}, a redirect{target}: not a delivery "
                             f"(redirects are not followed; fix ROTATION_WEBHOOK_URL)",
                             retry_after=retry_after)
    permanent = 400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS
    return DeliveryError(f"The webhook answered {status}", retry_after=retry_after, permanent=permanent,
                         rate_limited=status == 429)


def redirect_host(location: str | None) -> str | None:
    """The host a redirect names (never its path or query, which may hold tokens), or None."""
    if not location:
        return None
    try:
        host = URL(location).host
    except (ValueError, TypeError):
        return None
    if not host:
        return "the same host"  # a relative Location
    return one_line(host[:253])


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read the answer (thrown away) up to MAX_ANSWER_BYTES; beyond, the connection is dropped."""
    read = 0
    while read < MAX_ANSWER_BYTES and (chunk := await response.content.read(16 * 1024)):
        read += len(chunk)


def default_transports(slack: SlackDeliverer | None, webhook_url: str | None,
                       webhook_secret: str | None) -> dict[str, Transport]:
    """Slack for dm/channel when it is configured, else the log; the webhook when a URL is set."""
    chat: Transport = SlackTransport(slack) if slack is not None else ConsoleTransport()
    return {Way.DM: chat, Way.CHANNEL: chat, Way.WEBHOOK: WebhookTransport(webhook_url, webhook_secret)}


async def close_transports(transports: dict[str, Transport]) -> None:
    """Close what holds connections (each transport once, though several kinds share one):
    the webhook's and the CRM's sessions (Slack's runtime is closed by its owner)."""
    for transport in {id(t): t for t in transports.values()}.values():
        close = getattr(transport, "close", None)
        if close is not None and not isinstance(transport, SlackTransport):
            await close()

"""slack_sdk's own retry of a 429, with its `Retry-After` read safely and its wait kept short.

slack_sdk's built-in handler does `int(header)` and sleeps that long inside the call: `1e400`
or an HTTP date raised a ValueError out of the send (a traceback per attempt), and `86400`
held a delivery slot (every DM behind it) for a day. Here the header is read by
`retry_after_seconds` (bounded, never raises), and the client retries by itself only when the
wait is at most `MAX_INLINE_WAIT`; a longer one comes back as the 429 it is, and the outbox
loop retries the message after that delay (bounded too) without holding a slot meanwhile.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from bot.delivery.retry_after import retry_after_seconds

MAX_INLINE_WAIT = 5.0  # seconds the client may wait for a 429 itself


def header(headers: Any, name: str) -> Any:
    """A header's value from slack_sdk's dict of lists (or any mapping), case-insensitively."""
    try:
        items = dict(headers or {}).items()
    except (TypeError, ValueError):
        return None
    for key, value in items:
        if str(key).lower() == name.lower():
            return value[0] if isinstance(value, list | tuple) and value else value
    return None


class BoundedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Retries a 429 in the client only when its Retry-After is short (see the module)."""

    async def _can_retry_async(self, *, state: Any, request: Any, response: Any = None,
                               error: Any = None) -> bool:
        if response is None or response.status_code != 429:
            return False
        delay = retry_after_seconds(header(response.headers, "Retry-After"))
        return delay is None or delay <= MAX_INLINE_WAIT

    async def prepare_for_next_attempt_async(self, *, state: Any, request: Any, response: Any = None,
                                             error: Any = None) -> None:
        if response is None:
            raise error  # as slack_sdk's own handler does
        state.next_attempt_requested = True
        delay = retry_after_seconds(header(response.headers, "Retry-After"))
        await asyncio.sleep(min(MAX_INLINE_WAIT, 1.0 if delay is None else delay) + random.random())
        state.increment_current_attempt()

"""Turning the core's outcomes (and failures) into words for the person who asked.

Why one place: every listener must answer a `RoutingError` with its own plain words
and anything unexpected with the same safe sentence, and log the latter.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from bot.routing.errors import RoutingError

T = TypeVar("T")
log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = "Something went wrong on our side; nothing was changed."


class Refusal(Exception):
    """A request the Slack layer itself refuses (bad syntax, not allowed); str() is the answer."""


async def attempt(work: Awaitable[T]) -> tuple[T | None, str | None]:
    """Run `work`; return (result, None) or (None, the words to show instead)."""
    try:
        return await work, None
    except (RoutingError, Refusal) as error:
        return None, str(error)
    except Exception:
        log.exception("Slack request failed")
        return None, SOMETHING_WENT_WRONG


def escape(text: object) -> str:
    """Escape user-supplied text for mrkdwn (Slack treats &, <, > as control characters)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Fit `text` in a Block Kit length limit, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"

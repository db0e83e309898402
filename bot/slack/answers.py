"""Turning the core's outcomes (and failures) into words for the person who asked.

Why one place: every listener must answer a `RoutingError` with its own plain words, a
database that is away with "try again in a moment" (it is not our bug, and it passes), and
anything unexpected with the same safe sentence, and log the latter.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from slack_bolt.async_app import AsyncAck

from bot.routing.errors import RoutingError
from bot.slack import availability_words
from bot.store.db import DatabaseUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = "Something went wrong on our side; nothing was changed."
DATABASE_AWAY = "The database is away just now, so nothing was changed; please try again in a moment."


class Refusal(Exception):
    """A request the Slack layer itself refuses (bad syntax, not allowed); str() is the answer."""


def failure_words(error: Exception) -> str:
    """What to tell the person for an error `attempt` did not see (a modal's own try)."""
    if isinstance(error, RoutingError | Refusal):
        return str(error)
    if isinstance(error, DatabaseUnavailable):
        log.warning("the database is unavailable answering a Slack request: %s", error)
        return DATABASE_AWAY
    log.error("Slack request failed", exc_info=error)
    return SOMETHING_WENT_WRONG


async def attempt(work: Awaitable[T]) -> tuple[T | None, str | None]:
    """Run `work`; return (result, None) or (None, the words to show instead)."""
    try:
        return await work, None
    except (RoutingError, Refusal) as error:
        return None, availability_words.refusal(error) if isinstance(error, RoutingError) else str(error)
    except DatabaseUnavailable as away:
        log.warning("the database is unavailable answering a Slack request: %s", away)
        return None, DATABASE_AWAY
    except Exception:
        log.exception("Slack request failed")
        return None, SOMETHING_WENT_WRONG


def escape(text: object) -> str:
    """Escape user-supplied text for mrkdwn (Slack treats &, <, > as control characters)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Slack cuts a message's text at 40,000 characters, silently; ours stop short of it, marked.
ANSWER_LIMIT = 39_000  # a command's answer (`why` on a lead with huge fields)
MESSAGE_TEXT_LIMIT = 4_000  # a posted message's text: Slack's advice for what a notification shows


def clip(text: str, limit: int) -> str:
    """Fit `text` in a Block Kit length limit, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def ack_only(ack: AsyncAck) -> None:
    """For a request Slack wants acknowledged and nothing more (a link button's click, picking
    a person in a form whose input has no dispatch)."""
    await ack()

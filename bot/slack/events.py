"""Events other than App Home: a member's Slack profile changed (`user_change`), and someone
wrote to the bot in its Messages tab (`message` in the app's DM).

Why hand the status to the core untouched: whether a status like ":palm_tree: Vacation"
pauses someone is the time-off policy's call (bot/routing), not the Slack layer's. The
profile's `tz` fills a timezone the config left empty (the core decides; it never
overrides a configured one), so working hours and leave follow where the member is.

Why answer the Messages tab: a rep who types to the bot and hears nothing thinks it is
broken. The answer is short (what the bot does, and the slash command to type), never the
whole help; the bot's own messages and edits are not answered, so it never talks to itself.
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.routing.errors import RoutingError
from bot.slack.answers import attempt, clip, escape
from bot.slack.deps import SlackDeps, deps
from bot.store.db import DatabaseUnavailable

log = logging.getLogger(__name__)
PROFILE_ACTOR = "slack-profile"


async def adopt_timezone(d: SlackDeps, slack_id: str, tz: object) -> bool:
    """Offer the profile's timezone to the core; False when it was not taken, for any reason."""
    if not isinstance(tz, str) or not tz.strip():
        return False
    try:
        return await d.service.availability.set_timezone(slack_id, tz.strip(), actor=PROFILE_ACTOR)
    except RoutingError as refused:  # not in the rotation, or a tz name the core can't use
        log.debug("timezone %r for %s not taken: %s", tz[:80], slack_id, refused)
    except DatabaseUnavailable as away:
        log.warning("timezone of %s not taken, the database is unavailable: %s", slack_id, away)
    except Exception:
        log.exception("could not set the timezone of %s", slack_id)
    return False


async def profile_timezone(client: AsyncWebClient, slack_id: str) -> str | None:
    """The user's Slack timezone (users.info), or None if Slack can't say."""
    try:
        answer = await client.users_info(user=slack_id)
    except Exception as error:  # SlackApiError, network: the Home tab must still open
        log.info("users.info %s failed: %s", slack_id, error)
        return None
    tz = (answer.get("user") or {}).get("tz")
    return tz if isinstance(tz, str) and tz else None


def profile_status(profile: dict[str, Any]) -> tuple[str, str, int] | None:
    """(text, emoji, expiration) as Slack sends them, or None for a status of other shapes."""
    text, emoji = profile.get("status_text") or "", profile.get("status_emoji") or ""
    expiration = profile.get("status_expiration") or 0
    if isinstance(expiration, str) and expiration.isascii() and expiration.isdigit() and len(expiration) < 16:
        expiration = int(expiration)
    if not isinstance(text, str) or not isinstance(emoji, str) or not isinstance(expiration, int) \
            or isinstance(expiration, bool):
        return None
    return text, emoji, expiration


async def on_user_change(ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    user = event.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"] \
            or user.get("is_bot"):
        return
    given = user.get("profile")
    profile: dict[str, Any] = given if isinstance(given, dict) else {}
    d = deps(context)
    await adopt_timezone(d, user["id"], user.get("tz"))
    status = profile_status(profile)
    if status is None:
        log.info("status of %s not applied: the profile's status is not in Slack's shape", user["id"])
        return
    text, emoji, expiration = status
    _, failure = await attempt(d.service.availability.apply_slack_status(
        user["id"], text=text, emoji=emoji, expiration=expiration, actor="slack-status"))
    if failure:
        log.info("status of %s not applied: %s", user["id"], failure)


MESSAGES_TAB = "\n".join([
    "Hi! I run the team's lead rotation: each new lead goes to the rep whose turn it is, "
    "and I tell them here with *Accept* and *Pass* buttons.",
    "Everything else is the `/rotation` command, typed anywhere in Slack (here too):",
    "• `/rotation status`: are you active, your leads this period",
    "• `/rotation pause until friday` / `/rotation resume`: no leads for a while, then back level",
    "• `/rotation away 2030-02-03 2030-02-07`: time off",
    "• `/rotation help`: everything else",
])
COMMAND_WORDS = ("help", "status", "pause", "resume", "away", "calendar", "who", "why", "calibrate",
                 "history", "report", "add", "remove", "reassign")


def messages_tab_answer(text: object) -> str:
    """What the bot answers to a message in its DM: a command's word is pointed to its slash
    command; anything else gets the short overview."""
    words = text.split() if isinstance(text, str) else []
    first = words[0].lower().lstrip("/") if words else ""
    close = difflib.get_close_matches(first, COMMAND_WORDS, n=1, cutoff=0.75) if first else []
    if close:
        typed = " ".join([close[0], *words[1:]])
        return clip(f"I only take commands as `/rotation`: try `/rotation {escape(typed)}`. "
                    "(`/rotation help` lists them all.)", 3000)
    return MESSAGES_TAB


def is_a_person_writing(event: dict[str, Any]) -> bool:
    """A new message from a person in the bot's DM: not the bot's own, not an edit or join."""
    return (event.get("channel_type") == "im" and "subtype" not in event and not event.get("bot_id")
            and isinstance(event.get("user"), str) and isinstance(event.get("channel"), str)
            and "thread_ts" not in event)


async def on_message(ack: AsyncAck, event: dict[str, Any], client: AsyncWebClient,
                     context: AsyncBoltContext) -> None:
    await ack()
    if not is_a_person_writing(event) or event.get("user") == context.bot_user_id:
        return
    _, failure = await attempt(client.chat_postMessage(channel=event["channel"],
                                                       text=messages_tab_answer(event.get("text"))))
    if failure:
        log.info("could not answer %s in the Messages tab: %s", event["user"], failure)


async def greet_in_messages_tab(client: AsyncWebClient, user: str, channel: object) -> None:
    """The first time someone opens the Messages tab (the DM is empty), say what the bot does;
    later opens say nothing (Slack sends the event on every open)."""
    if not isinstance(channel, str) or not channel:
        return
    history, failure = await attempt(client.conversations_history(channel=channel, limit=1))
    if failure or history is None or history.get("messages"):
        return
    _, failure = await attempt(client.chat_postMessage(channel=channel, text=MESSAGES_TAB))
    if failure:
        log.info("could not greet %s in the Messages tab: %s", user, failure)

"""Events other than App Home: a member's Slack profile changed (`user_change`).

Why hand the status to the core untouched: whether a status like ":palm_tree: Vacation"
pauses someone is the time-off policy's call (bot/routing), not the Slack layer's. The
profile's `tz` fills a timezone the config left empty (the core decides; it never
overrides a configured one), so working hours and leave follow where the member is.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.routing.errors import RoutingError
from bot.slack.answers import attempt
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


def register(app: AsyncApp) -> None:
    app.event("user_change")(on_user_change)
    # Slack sends both for a status change; applying a status is idempotent, so either may arrive.
    app.event("user_status_changed")(on_user_change)

"""Events other than App Home: a member's Slack status changed (`user_change`).

Why hand it to the core untouched: whether a status like ":palm_tree: Vacation" pauses
someone is the time-off policy's call (bot/routing), not the Slack layer's.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.slack.answers import attempt
from bot.slack.deps import deps

log = logging.getLogger(__name__)


async def on_user_change(ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    user = event.get("user") or {}
    profile = user.get("profile") or {}
    if not user.get("id") or user.get("is_bot"):
        return
    _, failure = await attempt(deps(context).service.apply_slack_status(
        user["id"], text=profile.get("status_text") or "", emoji=profile.get("status_emoji") or "",
        expiration=int(profile.get("status_expiration") or 0), actor="slack-status"))
    if failure:
        log.info("status of %s not applied: %s", user["id"], failure)


def register(app: AsyncApp) -> None:
    app.event("user_change")(on_user_change)

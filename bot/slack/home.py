"""App Home: publish the member's view when they open it, and its Pause/Resume/Calibrate buttons.

Why republish after a button: the Home tab is a snapshot; after pausing or resuming, the
member should see the new state (and the other button) without reopening the tab.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.routing.errors import NotFound
from bot.slack import calibrate_modal, calibrate_view, events, home_view, ids
from bot.slack.answers import attempt
from bot.slack.deps import SlackDeps, deps

log = logging.getLogger(__name__)


async def publish(d: SlackDeps, client: AsyncWebClient, user: str, notice: str | None = None) -> None:
    """Build the user's Home from the core and publish it (views.publish)."""
    try:
        status, not_member = await d.service.member_status(user), None
    except NotFound as missing:
        status, not_member = None, str(missing)
    queues = await d.service.standings() if await d.is_manager(client, user) else None
    view = home_view.build(status, queues, not_member)
    if notice:
        view = home_view.with_notice(view, notice)
    await client.views_publish(user_id=user, view=view)


async def on_home_opened(ack: AsyncAck, event: dict[str, Any], client: AsyncWebClient,
                         context: AsyncBoltContext) -> None:
    await ack()
    if event.get("tab", "home") != "home":
        return
    d = deps(context)
    await events.adopt_timezone(d, event["user"], await events.profile_timezone(client, event["user"]))
    _, failure = await attempt(publish(d, client, event["user"]))
    if failure:
        log.warning("could not publish App Home for %s: %s", event.get("user"), failure)


async def on_pause_resume(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                          client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    d, user = deps(context), body["user"]["id"]
    if action["action_id"] == ids.Action.HOME_PAUSE:
        said, failure = await attempt(d.service.pause(user, actor=user))
    else:
        said, failure = await attempt(d.service.resume(user, actor=user))
    _, problem = await attempt(publish(d, client, user, notice=failure or said))
    if problem:
        log.warning("could not republish App Home for %s: %s", user, problem)


async def on_calibrate(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                       client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    d, user = deps(context), body["user"]["id"]
    if not await d.is_manager(client, user):
        await attempt(publish(d, client, user, notice="Calibrating is for managers."))
        return
    chosen = json.loads(action.get("value") or "{}")
    state = await calibrate_modal.compose(d, chosen.get("member"), chosen.get("queue"))
    await client.views_open(trigger_id=body["trigger_id"], view=calibrate_view.build(state))


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_home_opened)
    app.action(ids.Action.HOME_PAUSE.value)(on_pause_resume)
    app.action(ids.Action.HOME_RESUME.value)(on_pause_resume)
    app.action(ids.Action.HOME_CALIBRATE.value)(on_calibrate)

"""App Home: publish the member's view when they open it, and its Pause/Resume/Calibrate buttons.

Why republish after a button: the Home tab is a snapshot; after pausing or resuming, the
member should see the new state (and the other button) without reopening the tab.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.routing.errors import NotFound
from bot.slack import availability_words, calibrate_modal, calibrate_view, events, home_view, ids
from bot.slack.answers import Refusal, attempt
from bot.slack.deps import SlackDeps, deps

log = logging.getLogger(__name__)


async def publish(d: SlackDeps, client: AsyncWebClient, user: str, notice: str | None = None) -> None:
    """Build the user's Home from the core and publish it (views.publish)."""
    try:
        status, not_member = await d.service.availability.member_status(user), None
    except NotFound as missing:
        status, not_member = None, str(missing)
    queues = await d.service.ledger.standings() if await d.is_manager(client, user) else None
    view = home_view.build(status, queues, not_member)
    if notice:
        view = home_view.with_notice(view, notice)
    await client.views_publish(user_id=user, view=view)


async def publish_or_say(d: SlackDeps, client: AsyncWebClient, user: str, notice: str | None = None) -> None:
    """Publish the Home; when that fails (the database away), a Home that says so instead of
    the last snapshot, which would look current."""
    _, failure = await attempt(publish(d, client, user, notice=notice))
    if failure:
        log.warning("could not publish App Home for %s: %s", user, failure)
        await attempt(client.views_publish(user_id=user, view=home_view.notice_only(failure)))


async def on_home_opened(ack: AsyncAck, event: dict[str, Any], client: AsyncWebClient,
                         context: AsyncBoltContext) -> None:
    await ack()
    if event.get("tab", "home") != "home":
        return
    d = deps(context)
    user = event.get("user")
    if not isinstance(user, str) or not user:
        return
    await events.adopt_timezone(d, user, await events.profile_timezone(client, user))
    await publish_or_say(d, client, user)


async def on_pause_resume(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                          client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    d, user = deps(context), body["user"]["id"]
    if action["action_id"] == ids.Action.HOME_PAUSE:
        paused, failure = await attempt(d.service.availability.pause(user, actor=user))
        said = availability_words.paused(paused) if paused else None
    else:
        resumed, failure = await attempt(d.service.availability.resume(user, actor=user))
        said = availability_words.resumed(resumed) if resumed else None
    await publish_or_say(d, client, user, notice=failure or said)


async def on_calibrate(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                       client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    d, user = deps(context), body["user"]["id"]
    _, failure = await attempt(open_calibrate(d, client, user, action.get("value"), body.get("trigger_id")))
    if failure:
        await publish_or_say(d, client, user, notice=failure)


async def open_calibrate(d: SlackDeps, client: AsyncWebClient, user: str, value: str | None,
                         trigger_id: str | None) -> None:
    """A standings row's Calibrate button: the modal on that seat, for managers only."""
    if not await d.is_manager(client, user):
        raise Refusal("Calibrating is for managers.")
    member, queue = calibrate_view.read_metadata(value)
    if not trigger_id:
        raise Refusal("Slack sent no trigger to open the calibration window; please try again.")
    state = await calibrate_modal.compose(d, member, queue)
    await client.views_open(trigger_id=trigger_id, view=calibrate_view.build(state))


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_home_opened)
    app.action(ids.Action.HOME_PAUSE.value)(on_pause_resume)
    app.action(ids.Action.HOME_RESUME.value)(on_pause_resume)
    app.action(ids.Action.HOME_CALIBRATE.value)(on_calibrate)

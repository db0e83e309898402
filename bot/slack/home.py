"""App Home: publish the member's view when they open it, and its buttons, picker and pages.

Why republish after a button: the Home tab is a snapshot; after pausing or resuming, the
member should see the new state (and the other button) without reopening the tab. A
manager's place (queue and page) rides in the view's private_metadata, so it is kept.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.routing.errors import NotFound
from bot.slack import availability_words, calibrate_modal, calibrate_view, events, home_view, ids
from bot.slack.answers import Refusal, attempt
from bot.slack.deps import SlackDeps, deps
from bot.slack.paging import START, Place

log = logging.getLogger(__name__)


async def publish(d: SlackDeps, client: AsyncWebClient, user: str, notice: str | None = None,
                  place: Place = START) -> None:
    """Build the user's Home from the core and publish it (views.publish)."""
    try:
        status, not_member = await d.service.availability.member_status(user), None
    except NotFound as missing:
        status, not_member = None, str(missing)
    team = await team_view(d, place) if await d.is_manager(client, user) else None
    view = home_view.build(status, team, not_member, place)
    if notice:
        view = home_view.with_notice(view, notice)
    await client.views_publish(user_id=user, view=view)


async def team_view(d: SlackDeps, place: Place) -> home_view.TeamView:
    """Every queue's standings as the Home opens; only the picked queue's on a page or a pick."""
    names = await d.service.admin.queue_names()
    if place.queue in names:
        return home_view.TeamView(names, await d.service.ledger.standings(place.queue))
    return home_view.TeamView(names, await d.service.ledger.standings())


async def publish_or_say(d: SlackDeps, client: AsyncWebClient, user: str, notice: str | None = None,
                         place: Place = START) -> None:
    """Publish the Home; when that fails (the database away), a Home that says so instead of
    the last snapshot, which would look current."""
    _, failure = await attempt(publish(d, client, user, notice=notice, place=place))
    if failure:
        log.warning("could not publish App Home for %s: %s", user, failure)
        await attempt(client.views_publish(user_id=user, view=home_view.notice_only(failure)))


def place_of(body: dict[str, Any]) -> Place:
    """Where the Home that was clicked was: its view's private_metadata."""
    view = body.get("view")
    return Place.read(view.get("private_metadata")) if isinstance(view, dict) else Place()


async def on_home_opened(ack: AsyncAck, event: dict[str, Any], client: AsyncWebClient,
                         context: AsyncBoltContext) -> None:
    await ack()
    d = deps(context)
    user = event.get("user")
    if not isinstance(user, str) or not user:
        return
    if event.get("tab") == "messages":
        await events.greet_in_messages_tab(client, user, event.get("channel"))
        return
    if event.get("tab", "home") != "home":
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
    await publish_or_say(d, client, user, notice=failure or said, place=place_of(body))


async def on_queue_pick(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                        client: AsyncWebClient, context: AsyncBoltContext) -> None:
    """The manager picked a queue: its first page. (The team part is only built for managers.)"""
    await ack()
    picked = action.get("selected_option")
    queue = picked.get("value") if isinstance(picked, dict) else None
    place = Place(queue, 0) if isinstance(queue, str) else place_of(body)
    await publish_or_say(deps(context), client, body["user"]["id"], place=place)


async def on_page(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                  client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    await publish_or_say(deps(context), client, body["user"]["id"], place=Place.read(action.get("value")))


async def on_queue_options(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                           context: AsyncBoltContext) -> None:
    """The external queue select's options (a team of more than 100 queues), managers only:
    the names are the team's, and a stranger's options request gets none."""
    d, user = deps(context), body["user"]["id"]
    names, failure = await attempt(_queue_names_for_manager(d, client, user))
    if failure:
        log.info("queue options for %s not given: %s", user, failure)
    await ack(options=home_view.matching_queues(names or [], body.get("value")))


async def _queue_names_for_manager(d: SlackDeps, client: AsyncWebClient, user: str) -> list[str]:
    if not await d.is_manager(client, user):
        raise Refusal("queue names are for managers")
    return await d.service.admin.queue_names()


async def on_calibrate(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                       client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    d, user = deps(context), body["user"]["id"]
    _, failure = await attempt(open_calibrate(d, client, user, action.get("value"), body.get("trigger_id")))
    if failure:
        await publish_or_say(d, client, user, notice=failure, place=place_of(body))


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

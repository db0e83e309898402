"""Time off from App Home: open the modal, save the leave, cancel a leave.

Why errors go back on the date field (response_action "errors"): a modal that closes on a
refused leave loses what the member picked; keeping it open with the core's words under
the field lets them fix one date. A saved or cancelled leave republishes the Home tab, so
the list and the member's state are current without reopening it.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.routing.errors import InvalidChange, RoutingError
from bot.slack import away_view, home, ids, replies
from bot.slack.answers import attempt, failure_words
from bot.slack.deps import SlackDeps, deps

log = logging.getLogger(__name__)
LEAVE_NUMBER = re.compile(r"[0-9]{1,12}")  # ASCII: "²".isdigit() is true and int() refuses it


async def republish(d: SlackDeps, client: AsyncWebClient, user: str, notice: str) -> None:
    await home.publish_or_say(d, client, user, notice=notice)


async def open_view(d: SlackDeps, client: AsyncWebClient, user: str, trigger_id: str) -> None:
    status = await d.service.availability.member_status(user)  # NotFound: not in the rotation
    team = await d.service.admin.team()
    today = d.service.clock.now().astimezone(ZoneInfo(status.timezone)).date()
    view = away_view.build(status.leaves, status.timezone, today=today,
                           long_leave_days=team.long_leave_days, pause_days_before=team.pause_days_before)
    await client.views_open(trigger_id=trigger_id, view=view)


async def on_open(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                  context: AsyncBoltContext) -> None:
    """The Home tab's "Schedule time off" button; a refusal is shown on the Home tab."""
    await ack()
    d, user = deps(context), body["user"]["id"]
    _, failure = await attempt(open_view(d, client, user, body["trigger_id"]))
    if failure:
        await republish(d, client, user, failure)


async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient,
                    context: AsyncBoltContext) -> None:
    d, user = deps(context), body["user"]["id"]
    starts, ends, errors = away_view.read(view)
    if errors or starts is None or ends is None:
        await ack(response_action="errors", errors=errors)
        return
    try:
        leave = await d.service.availability.add_leave(user, starts, ends, actor=user)
        timezone = (await d.service.availability.member_status(user)).timezone
    except RoutingError as error:
        field = error.field if isinstance(error, InvalidChange) else None
        await ack(response_action="errors", errors={away_view.error_block(str(error), field): str(error)})
        return
    except Exception as error:
        await ack(response_action="errors", errors={ids.BlockId.AWAY_START.value: failure_words(error)})
        return
    await ack()
    await republish(d, client, user, f"Time off scheduled: {replies.leave_line(leave, timezone)}.")


async def on_cancel(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                    context: AsyncBoltContext) -> None:
    """A leave's Cancel button on the Home tab (the member's own leave only: the core checks)."""
    await ack()
    d, user = deps(context), body["user"]["id"]
    value = str(action.get("value") or "")
    if not LEAVE_NUMBER.fullmatch(value):
        await republish(d, client, user, "That button no longer works; nothing was changed.")
        return
    cancelled, failure = await attempt(d.service.availability.cancel_leave(user, actor=user,
                                                                           leave_id=int(value)))
    spans = ", ".join(f"{c.starts_on.isoformat()} to {c.ends_on.isoformat()}" for c in cancelled or [])
    await republish(d, client, user, failure or f"Cancelled your time off {spans}.")

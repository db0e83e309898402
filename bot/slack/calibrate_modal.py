"""The calibrate modal's flow: open, refresh (member, queue, Preview), add/remove, save.

Why every refresh recomputes from the core: the preview must be what the core would do
(`service.admin.preview(..., change=...)` rolls back), never a guess made in the Slack layer.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.routing.errors import AlreadyDone, InvalidChange, NotFound, RoutingError
from bot.routing.fairness.weights import is_share_words
from bot.routing.results import Calibration
from bot.slack import admin_words, calibrate_form, home_view, ids
from bot.slack.answers import attempt, escape, failure_words
from bot.slack.calibrate_view import CalibrateState, build, read_metadata
from bot.slack.deps import SlackDeps, deps

log = logging.getLogger(__name__)
NOT_MANAGER = "Only managers can calibrate; nothing was changed."


async def compose(d: SlackDeps, member: str | None, queue: str | None,
                  change: Calibration | None = None, notice: str | None = None) -> CalibrateState:
    """Ask the core for the seat's numbers and the preview, with `change` applied if given."""
    service = d.service
    queues = await service.admin.queue_names()
    if member and not queue:
        try:
            seats = (await service.availability.member_status(member)).seats
            queue = seats[0].queue if seats else None
        except NotFound:
            notice = notice or f"<@{member}> is not in the rotation."
    queue = queue or (queues[0] if queues else None)
    if queue is None:
        return CalibrateState(queues=queues, member=member, notice=notice)
    standings = await service.ledger.standings(queue)
    seat = next((s for s in standings[0].seats if s.slack_id == member), None) if standings else None
    now = await service.admin.preview(queue, count=10)
    after = None
    if change is not None and not calibrate_form.is_empty(change):
        after, problem = await attempt(service.admin.preview(queue, count=10, change=change))
        notice = f"Preview not possible: {problem}" if problem else notice
    queue_seats = standings[0].seats if standings else []
    shares = bool(queue_seats) and all(is_share_words(s.weight_text) for s in queue_seats)
    return CalibrateState(queues=queues, member=member, queue=queue, seat=seat, now=now,
                          after=after, notice=notice, shares=shares)


async def open_modal(d: SlackDeps, client: AsyncWebClient, trigger_id: str, manager: str,
                     member: str | None) -> None:
    state = await compose(d, member, None)
    await client.views_open(trigger_id=trigger_id, view=build(state))


async def refresh(body: dict[str, Any], client: AsyncWebClient, d: SlackDeps,
                  notice: str | None = None) -> None:
    """Rebuild the open modal from its current inputs (views.update, guarded by the view hash)."""
    view = body.get("view")
    if not isinstance(view, dict) or not isinstance(view.get("id"), str):
        return  # a modal's button clicked anywhere but in the modal: there is nothing to rebuild
    form = calibrate_form.read(view)
    change, _ = calibrate_form.to_change(form)
    state = await compose(d, form.member, form.queue, change, notice)
    await client.views_update(view_id=view["id"], hash=view.get("hash"), view=build(state))


async def on_refresh(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                     context: AsyncBoltContext) -> None:
    await ack()
    d = deps(context)
    is_manager, _ = await attempt(d.is_manager(client, body["user"]["id"]))
    if not is_manager:
        return  # the window shows the team's numbers: a manager's only (Slack opened it for one)
    _, failure = await attempt(refresh(body, client, d))
    if failure:
        log.warning("calibrate modal refresh failed: %s", failure)


async def on_membership(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                        client: AsyncWebClient, context: AsyncBoltContext) -> None:
    """Add to / remove from the queue right away (the button has a confirm dialog)."""
    await ack()
    d, manager = deps(context), body["user"]["id"]
    is_manager, _ = await attempt(d.is_manager(client, manager))
    if not is_manager:
        return  # as on_refresh: the window's preview is a manager's only (a forged click)
    notice, failure = await attempt(change_membership(d, client, manager, action))
    _, failure = await attempt(refresh(body, client, d, failure or notice))
    if failure:
        log.warning("calibrate modal refresh failed: %s", failure)


async def change_membership(d: SlackDeps, client: AsyncWebClient, manager: str,
                            action: dict[str, Any]) -> str:
    member, queue = read_metadata(action.get("value"))
    if not await d.is_manager(client, manager):
        return NOT_MANAGER
    if not member or not queue:
        return "Pick a member and a queue first."
    if action["action_id"] == ids.Action.CAL_ADD_QUEUE:
        return admin_words.joined_queue(await d.service.admin.add_to_queue(member, queue, actor=manager))
    return admin_words.left_queue(await d.service.admin.remove_from_queue(member, queue, actor=manager))


def _errors_for(error: RoutingError) -> dict[str, str]:
    field = error.field if isinstance(error, InvalidChange) else None
    block = ids.FIELD_BLOCKS.get(field or "", ids.BlockId.CAL_WEIGHT)
    if isinstance(error, NotFound) and "queue" in str(error):
        block = ids.BlockId.CAL_QUEUE
    return {block.value: str(error)}


async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                    client: AsyncWebClient, context: AsyncBoltContext) -> None:
    """Validate, then save with the manager as actor; errors go on the field, nothing saved."""
    d, manager = deps(context), body["user"]["id"]
    change, errors = calibrate_form.to_change(calibrate_form.read(view))
    if change is not None and calibrate_form.is_empty(change):
        errors = {ids.BlockId.CAL_WEIGHT.value: "Nothing to save: set a weight, an adjustment or active."}
    try:
        if not await d.is_manager(client, manager):
            errors = {ids.BlockId.CAL_MEMBER.value: NOT_MANAGER}
        if change is None or errors:
            await ack(response_action="errors", errors=errors)
            return
        saved = await d.service.admin.calibrate(replace(change, request_id=view.get("id")), actor=manager)
    except AlreadyDone:  # Save clicked again while the first was slow: close, say nothing twice
        await ack()
        return
    except RoutingError as error:
        await ack(response_action="errors", errors=_errors_for(error))
        return
    except Exception as error:
        await ack(response_action="errors", errors={ids.BlockId.CAL_WEIGHT.value: failure_words(error)})
        return
    await ack()
    note = f" Note: {escape(change.note)}" if change.note else ""
    said = escape(admin_words.calibrated(saved))
    await client.chat_postMessage(channel=manager, text=f"Calibration saved: {said}{note}")


async def on_queue_options(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                           context: AsyncBoltContext) -> None:
    """The queue select's options when the team has more than 100 queues (an external select):
    the queues whose name holds what the manager typed. Anyone else gets none."""
    d = deps(context)
    is_manager, _ = await attempt(d.is_manager(client, body["user"]["id"]))
    names, failure = await attempt(d.service.admin.queue_names()) if is_manager else ([], None)
    if failure:
        log.warning("calibrate queue options failed: %s", failure)
    await ack(options=home_view.matching_queues(names or [], body.get("value")))

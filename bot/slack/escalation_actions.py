"""The buttons on an escalation ("please step in") and a waiting-lead post, and History.

- Take it (Action.TAKE_LEAD, value: the lead id): the clicker takes the lead. A manager may
  take any lead; a rep in the rotation may take a lead that is waiting for someone (a post
  in their queue's channel), not one offered to a colleague.
- Reassign to… (Action.REASSIGN_TO, a users_select): managers only. A users_select carries
  no value, so the lead id rides in its block's id: `reassign_block_id(lead_id)`, read back
  with `lead_of_block`.
- History (Action.MEMBER_HISTORY, value: the member's user id): the member's history modal,
  for managers and for the member themself.

Each answer goes to the clicker alone (ephemeral); the new rep gets the lead's DM from the
outbox, as every assignment does.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.routing.assignment.reassign import NotWaiting
from bot.routing.errors import NotFound
from bot.slack.answers import Refusal, attempt, escape
from bot.slack.deps import SlackDeps, deps
from bot.slack.people_command import managers_only, open_history, reassigned_words

REASSIGN_BLOCK = "reassign:"  # + the lead id (Slack allows block ids of 255 characters)
MAX_LEAD_ID = 200
TAKE_NOT_WAITING = ("Only managers can take a lead that is offered to someone else; this one is "
                    "not waiting for anyone. Nothing was changed.")
NOT_A_MEMBER = ("You are not in the lead rotation, so you cannot take leads. A manager can add you "
                "(`/rotation add`). Nothing was changed.")


def reassign_block_id(lead_id: str) -> str:
    """The block id of a lead's Reassign to… select (messages.py builds the block with it)."""
    return REASSIGN_BLOCK + lead_id[:MAX_LEAD_ID]


def lead_of_block(block_id: object) -> str | None:
    if not isinstance(block_id, str) or not block_id.startswith(REASSIGN_BLOCK):
        return None
    lead_id = block_id.removeprefix(REASSIGN_BLOCK)
    return lead_id or None


async def take(d: SlackDeps, client: AsyncWebClient, user: str, lead_id: object) -> str:
    if not isinstance(lead_id, str) or not lead_id or len(lead_id) > MAX_LEAD_ID:
        raise Refusal("This button names no lead; nothing was changed.")
    manager = await d.is_manager(client, user)
    if not manager:
        try:
            record = await d.service.assignment.lead(lead_id)
        except NotFound:
            raise Refusal(TAKE_NOT_WAITING) from None  # the same words: a rep learns nothing of others' leads
        if record.status != "unassigned":
            raise Refusal(TAKE_NOT_WAITING)
        try:
            await d.service.availability.member_status(user)
        except NotFound:
            raise Refusal(NOT_A_MEMBER) from None
    try:  # a rep's Take it wins only while the lead still waits, checked in the same transaction
        done = await d.service.assignment.reassign(lead_id, user, actor=user, only_if_waiting=not manager)
    except NotWaiting:
        raise Refusal(TAKE_NOT_WAITING) from None
    return f"Lead `{escape(done.lead_id)}` is yours now: the DM with Accept is on its way." + (
        f" <@{done.previous.slack_id}> no longer has it, and is told." if done.previous else "")


async def reassign_to(d: SlackDeps, client: AsyncWebClient, user: str, action: dict[str, Any]) -> str:
    if not await d.is_manager(client, user):
        return managers_only("Reassigning leads")
    lead_id = lead_of_block(action.get("block_id"))
    member = action.get("selected_user")
    if lead_id is None or not isinstance(member, str) or not member:
        raise Refusal("Pick a person to give the lead to; nothing was changed.")
    return reassigned_words(await d.service.assignment.reassign(lead_id, member, actor=user))


async def _answer(body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, user: str,
                  words: str) -> None:
    """To the clicker alone, in the conversation the button was in."""
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
    if body.get("response_url"):
        await respond(text=words, response_type="ephemeral", replace_original=False)
    elif channel:
        await client.chat_postEphemeral(channel=channel, user=user, text=words)
    else:  # a button in a view (App Home): the DM with the bot
        await client.chat_postMessage(channel=user, text=words)


async def on_take(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                  context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    user = body["user"]["id"]
    said, failure = await attempt(take(deps(context), client, user, action.get("value")))
    await _answer(body, client, respond, user, failure or said or "")


async def on_reassign_to(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                         context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    user = body["user"]["id"]
    said, failure = await attempt(reassign_to(deps(context), client, user, action))
    await _answer(body, client, respond, user, failure or said or "")


async def on_history(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                     context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    user, member, trigger = body["user"]["id"], action.get("value"), body.get("trigger_id")
    if not isinstance(member, str) or not member or not isinstance(trigger, str):
        return
    _, failure = await attempt(open_history(deps(context), client, trigger, user, member[:32]))
    if failure:
        await _answer(body, client, respond, user, failure)

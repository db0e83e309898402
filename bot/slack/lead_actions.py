"""Accept and Pass on a lead's DM: only the assignee may act, and a second click is a no-op.

Why look the assignment up before acting: the button value names the assignment, but the
core's accept/pass do not know who clicked; the Slack layer refuses anyone but the person
the lead was offered to, then lets the core's idempotent calls do the rest.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.routing.errors import NotFound
from bot.routing.events import lead_card
from bot.routing.results import AssignmentChange, LeadRecord
from bot.routing.rules.lead_fields import storable
from bot.slack import ids, messages, sent_messages
from bot.slack.answers import attempt
from bot.slack.block_json import blocks_json
from bot.slack.deps import SlackDeps, deps
from bot.slack.lead_text import literal
from bot.slack.replies import duration

log = logging.getLogger(__name__)
NOT_YOURS = "Only the person this lead was offered to can accept or pass it; nothing was changed."


def assignee_of(record: LeadRecord, assignment_id: int) -> str:
    for step in record.assignments:
        if step["assignment_id"] == assignment_id:
            return str(step["assignee"]["slack_id"])
    raise NotFound(f"There is no assignment {assignment_id} for lead {record.lead_id}.")


def outcome_text(change: AssignmentChange, clicked: str) -> str:
    if change.state == "accepted":
        return f":white_check_mark: Accepted by <@{clicked}> after {duration(change.seconds_to_accept)}."
    nxt = change.next_outcome
    if nxt is not None and nxt.assignee is not None:
        return f":arrow_right: Passed by <@{clicked}>; now offered to {literal(nxt.assignee.name)}."
    return f":arrow_right: Passed by <@{clicked}>; nobody else is available, so it waits for the next rep."


def updated_blocks(record: LeadRecord, outcome: str, template: str | None = None) -> list[Block]:
    """The DM as it should read after the click: the card, the outcome in place of Accept and
    Pass, and Open lead still there (from the team's template)."""
    summary = (record.explanation or {}).get("summary")
    _, blocks = messages.closed_offer(lead_card(record.lead_id, record.fields), outcome,
                                      messages.Extras(lead_url=template), queue=record.queue,
                                      rule=record.rule, summary=summary)
    return blocks


async def lead_url_template(d: SlackDeps) -> str | None:
    template = (await d.service.admin.team()).settings.get("lead_url")
    return template if isinstance(template, str) else None


async def refresh_announcements(d: SlackDeps, client: AsyncWebClient, record: LeadRecord,
                                template: str | None) -> None:
    """Each channel's first post about the lead, updated to say where it is now (best effort:
    a post deleted, or never sent, stays as it is)."""
    roots = await d.service.transactions.read(
        lambda connection: sent_messages.thread_roots(connection, record.lead_id))
    if not roots:
        return
    text, blocks = messages.announcement_now(record, messages.Extras(lead_url=template,
                                                                     now=d.service.clock.now()))
    for root in roots:
        try:
            await client.chat_update(channel=root.channel, ts=root.ts, text=text, blocks=blocks_json(blocks))
        except SlackApiError as refused:
            log.warning("could not update the announcement %s in %s: %s", root.ts, root.channel,
                        refused.response.get("error"))


async def act(d: SlackDeps, action_id: str, value: str, user: str) -> tuple[str, list[Block] | None]:
    """Do the click; return (words, new DM blocks or None when nothing changed).

    Anyone but the assignee gets the same words whether or not the lead exists: a forwarded
    DM must not tell a colleague whose lead it is (the privacy rule of `why`).
    """
    assignment_id, lead_id = messages.parse_action_value(value)
    if not storable(lead_id):
        return NOT_YOURS, None
    try:
        record = await d.service.assignment.lead(lead_id)
        owner = assignee_of(record, assignment_id)
    except NotFound:
        return NOT_YOURS, None
    if owner != user:
        return NOT_YOURS, None
    if action_id == ids.Action.ACCEPT:
        change = await d.service.assignment.accept(assignment_id, actor=user)
    else:
        change = await d.service.assignment.pass_lead(assignment_id, actor=user)
    if not change.changed:
        return f"This lead is already {change.state}; nothing more was changed.", None
    text = outcome_text(change, user)
    record, template = await d.service.assignment.lead(lead_id), await lead_url_template(d)
    return text, updated_blocks(record, text, template)


async def on_lead_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                         client: AsyncWebClient, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    user = body["user"]["id"]
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    value = action.get("value")
    result, failure = await attempt(act(deps(context), action["action_id"], value if isinstance(value, str)
                                        else "", user))
    if result is not None and result[1] is not None:
        text, blocks = result
        if channel and container.get("message_ts"):
            await client.chat_update(channel=channel, ts=container["message_ts"], text=text, blocks=blocks)
        await attempt(_refresh_after(deps(context), client, value if isinstance(value, str) else ""))
        return
    words = failure or (result[0] if result else "")
    if body.get("response_url"):
        await respond(text=words, response_type="ephemeral", replace_original=False)
    elif channel:
        await client.chat_postEphemeral(channel=channel, user=user, text=words)


async def _refresh_after(d: SlackDeps, client: AsyncWebClient, value: str) -> None:
    _, lead_id = messages.parse_action_value(value)
    record = await d.service.assignment.lead(lead_id)
    await refresh_announcements(d, client, record, await lead_url_template(d))

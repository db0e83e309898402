""""Keep receiving leads" on the status-pause DM: the member overrides their own status.

Why only the member: the DM goes to them, but a forwarded or shared message still carries
the button; someone else clicking it must not put a colleague back into the rotation.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import availability_words, status_view
from bot.slack.answers import attempt
from bot.slack.deps import deps

NOT_YOURS = "This button is for <@{owner}>: only they can choose to keep receiving leads."
BROKEN = "This button no longer works; nothing was changed. Clear your status to get leads again."


async def tell(body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, words: str) -> None:
    """An ephemeral answer to the clicker, by response_url when Slack gave one."""
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
    if body.get("response_url"):
        await respond(text=words, response_type="ephemeral", replace_original=False)
    elif channel:
        await client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=words)


async def on_keep_leads(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                        client: AsyncWebClient, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    user = body["user"]["id"]
    parsed = status_view.read_keep_value(action.get("value"))
    if parsed is None:
        await tell(body, client, respond, BROKEN)
        return
    owner, text, emoji = parsed
    if owner != user:
        await tell(body, client, respond, NOT_YOURS.format(owner=owner))
        return
    _, failure = await attempt(deps(context).service.availability.ignore_status(user, text=text, emoji=emoji,
                                                                                actor=user))
    said = None if failure else availability_words.STATUS_KEPT
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    if said is None or not channel or not container.get("message_ts"):
        await tell(body, client, respond, failure or said or BROKEN)
        return
    blocks = status_view.kept_blocks(text, emoji, said)
    await client.chat_update(channel=channel, ts=container["message_ts"], text=said,
                             blocks=[b.to_dict() for b in blocks])

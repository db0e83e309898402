"""The "your Slack status paused you" DM, and how it reads after "Keep receiving leads".

Why the status travels in the button's value: the core ignores one particular status
(its emoji and text), not "any status from now on"; the click must name the status the
DM was about, even if the member has changed it since. Pure: no client, no I/O.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.routing.events import EventKind, StatusPaused, event_of
from bot.slack import ids
from bot.slack.answers import clip, escape
from bot.slack.dates import parse_moment, slack_date

VALUE_LIMIT = 2000  # Slack's limit on a button's value
# The core matches an ignored status by its first 290 characters of "emoji|text";
# keeping 300 of each is exact for that purpose and keeps the value small.
KEEP_CHARS = 300


def keep_value(slack_id: str, text: str, emoji: str) -> str:
    """The button's value: who the DM is for and the status it is about (JSON)."""
    text, emoji = text[:KEEP_CHARS], emoji[:KEEP_CHARS]
    while True:
        value = json.dumps({"u": slack_id, "t": text, "e": emoji}, ensure_ascii=False)
        if len(value) <= VALUE_LIMIT or not text:
            return value[:VALUE_LIMIT]
        text = text[: len(text) // 2]


def read_keep_value(raw: str | None) -> tuple[str, str, str] | None:
    """(slack_id, text, emoji) from a button value, or None when it is not one of ours."""
    try:
        data = json.loads(raw or "")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    user, text, emoji = data.get("u"), data.get("t", ""), data.get("e", "")
    if not isinstance(user, str) or not user or not isinstance(text, str) or not isinstance(emoji, str):
        return None
    return user, text, emoji


def status_label(text: str, emoji: str) -> str:
    """The status as Slack shows it: ':palm_tree: Vacationing' (mrkdwn-escaped)."""
    return " ".join(part for part in (emoji.strip(), escape(text.strip())) if part) or "your status"


def until_text(until: str | None, now: datetime | None = None) -> str:
    """'until <date>' in the reader's own timezone (Slack's date token), or 'until you clear it'."""
    if not until:
        return "until you clear it"
    try:
        moment = parse_moment(until)
    except ValueError:
        return "until it expires"
    return f"until {slack_date(moment, '{date_short_pretty} at {time}', now=now)}"


def paused_dm(event: StatusPaused | dict[str, Any], member: str | None = None) -> tuple[str, list[Block]]:
    """The DM's fallback text and blocks: what paused them, until when, and the button.

    `event` may be the stored payload (its `to` is then the member when none is given)."""
    if not isinstance(event, StatusPaused):
        member = member or str(event.get("to", ""))
        read = event_of({"text": "", **event, "event": EventKind.STATUS_PAUSED.value})
        assert isinstance(read, StatusPaused)
        event = read
    text, emoji = event.status_text, event.status_emoji
    said = escape(event.text or "Your Slack status says you're away, so you're paused.")
    head = clip(f"{said}\n*Status:* {status_label(text, emoji)}, {until_text(event.until)}.", 3000)
    button = ButtonElement(text="Keep receiving leads", action_id=ids.Action.KEEP_LEADS,
                           style="primary", value=keep_value(member or "", text, emoji))
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=head)),
        ContextBlock(elements=[MarkdownTextObject(
            text="Away for real? Do nothing: leads start again when the status ends.")]),
        ActionsBlock(block_id=ids.BlockId.STATUS_ACTIONS, elements=[button]),
    ]
    return said, blocks


def kept_blocks(text: str, emoji: str, said: str) -> list[Block]:
    """The DM after the click: no button, and the answer in place of the question."""
    return [SectionBlock(text=MarkdownTextObject(text=clip(
        f":white_check_mark: {escape(said)} Leads keep coming while your status is "
        f"{status_label(text, emoji)}.", 3000)))]

"""A member's history as a modal: a pure function of one `HistoryPage`.

Why a modal: the same history opens from `/rotation history`, from the History button beside
a member (App Home, escalations), and pages with More (views.update) in place, wherever it
was opened from. One page is at most `PAGE` entries, each one section: far inside a view's
100 blocks, and every text is clipped to a section's 3,000 characters.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.routing.admin.history import HistoryEntry, HistoryPage
from bot.slack import ids
from bot.slack.answers import clip, escape
from bot.slack.dates import slack_date

SECTION_LIMIT = 3000
ACTOR_WORDS = {"sla": "the SLA", "system": "the bot", "calendar": "their calendar",
               "slack": "their Slack status", "cli": "the CLI", "serve": "the config file",
               "status": "their Slack status"}


def actor_words(actor: str) -> str:
    if actor[:1] in ("U", "W") and actor[1:].isalnum():
        return f"<@{actor}>"
    return ACTOR_WORDS.get(actor, escape(actor))


def entry_words(entry: HistoryEntry) -> str:
    """What was done, in a sentence: the act, its numbers and its note or reason."""
    d = entry.details
    queue = f" in *{escape(entry.queue)}*" if entry.queue else ""
    note = f" — “{escape(entry.note)}”" if entry.note else ""
    match entry.action:
        case "calibrate":
            parts = []
            if d.get("weight"):
                parts.append(f"weight set to {escape(d['weight'])}")
            if d.get("active") is not None:
                parts.append("made active" if d["active"] else "made inactive")
            return f"Calibrated{queue}: {', '.join(parts) or 'no change'}{note}"
        case "adjustment":
            return f"Adjusted{queue} by {entry.delta or 0:+d} leads{note}"
        case "pause":
            until = f" until {escape(d['until'][:10])}" if d.get("until") else " until they resume"
            return f"Paused{until}{note}"
        case "resume":
            return "Resumed"
        case "leave_add":
            return f"Leave {escape(d.get('starts_on', '?'))} to {escape(d.get('ends_on', '?'))}" \
                   f" ({escape(d.get('source', 'command'))}){note}"
        case "leave_cancel":
            return "Leave cancelled"
        case "status_pause":
            until = f" until {escape(d['until'][:16].replace('T', ' '))} UTC" if d.get("until") else ""
            return f"Paused by their Slack status{until}{note}"
        case "status_clear":
            return "Status pause ended"
        case "status_ignore":
            return "Chose to keep receiving leads despite their status"
        case "queue_add":
            return f"Added{queue}, level with everyone"
        case "queue_remove":
            return f"Removed{queue}"
        case "person_add":
            queues = ", ".join(escape(q) for q in d.get("queues") or [])
            return f"Added to the rotation (queues: {queues or '-'})"
        case "person_update":
            return "Capacity or working hours changed"
        case "person_remove":
            return "Removed from the rotation (history and past leads kept)"
        case "timezone":
            return f"Timezone set to {escape(d.get('timezone', '?'))}"
        case "calendar_set" | "calendar_clear":
            return "Calendar feed set" if entry.action == "calendar_set" else "Calendar feed removed"
    return escape(entry.action.replace("_", " ").capitalize()) + queue + note


def entry_block(entry: HistoryEntry) -> SectionBlock:
    when = slack_date(entry.at)
    text = f"{entry_words(entry)}\n{when} · by {actor_words(entry.actor)}"
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT)))


def more_value(slack_id: str, before: int) -> str:
    return f"{slack_id}:{before}"


def read_more_value(value: object) -> tuple[str, int] | None:
    """The member and the entry to page from, as `more_value` wrote them; None if not."""
    if not isinstance(value, str) or value.count(":") != 1:
        return None
    slack_id, before = value.split(":")
    return (slack_id, int(before)) if before.isdigit() and len(before) < 19 else None


def history_blocks(page: HistoryPage, *, shown_before: int = 0) -> list[Block]:
    who = f"<@{page.member.slack_id}> ({escape(page.member.name)})"
    heading = f"*History of {who}*, newest first" if not shown_before else \
        f"*History of {who}*, older entries (after the first {shown_before})"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=clip(heading, SECTION_LIMIT)))]
    if not page.entries:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Nothing recorded yet.")]))
    blocks.extend(entry_block(entry) for entry in page.entries)
    if page.older is not None:
        blocks.append(ActionsBlock(elements=[ButtonElement(
            text="More", action_id=ids.Action.HISTORY_MORE.value,
            value=more_value(page.member.slack_id, page.older))]))
    return blocks


def history_modal(page: HistoryPage, *, shown_before: int = 0) -> View:
    return View(type="modal", title="History", close="Close",
                private_metadata=json.dumps({"member": page.member.slack_id, "shown": shown_before
                                             + len(page.entries)}),
                blocks=history_blocks(page, shown_before=shown_before))


def shown_so_far(view: dict[str, Any]) -> int:
    """How many entries the open modal's pages showed before this one (for its heading)."""
    try:
        shown = json.loads(view.get("private_metadata") or "{}").get("shown", 0)
    except (ValueError, AttributeError):
        return 0
    return shown if isinstance(shown, int) else 0

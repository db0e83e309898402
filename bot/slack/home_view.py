"""The App Home tab as a pure function of the member's status and the queues' standings.

Why cap the blocks: Slack rejects a Home view over 100 blocks, and a manager's view grows
with the team; rather than fail to render, the overflow is summarised in one line.
"""

from __future__ import annotations

import json

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.routing.results import MemberStatus, QueueStandings
from bot.slack import away_view, ids, messages, replies
from bot.slack.answers import clip, escape

MAX_BLOCKS = 100


def calibrate_value(slack_id: str, queue: str) -> str:
    return json.dumps({"member": slack_id, "queue": queue})


def status_blocks(status: MemberStatus | None, not_member: str | None) -> list[Block]:
    if status is None:
        words = escape(not_member or "You're not in the rotation.")
        return [SectionBlock(text=MarkdownTextObject(text=words))]
    mine = clip(replies.status_text(status, with_leaves=False), 3000)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=mine))]
    if status.state == "paused":
        button = ButtonElement(text="Resume", action_id=ids.Action.HOME_RESUME, style="primary",
                               value="resume")
    else:
        button = ButtonElement(text="Pause", action_id=ids.Action.HOME_PAUSE, value="pause")
    away = ButtonElement(text="Schedule time off", action_id=ids.Action.HOME_AWAY, value="away")
    blocks.append(ActionsBlock(elements=[button, away]))
    blocks += away_view.home_blocks(status.leaves, status.timezone)
    blocks.append(HeaderBlock(text="Your recent leads"))
    if not status.recent_leads:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="No leads yet.")]))
    for lead in status.recent_leads:
        card = {"id": lead["lead_id"], **{k: v for k, v in (lead.get("fields") or {}).items()
                                          if k in ("name", "company", "email")}}
        when = lead["assigned_at"].strftime("%b %-d %H:%M") if lead.get("assigned_at") else ""
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(
            f"*{escape(messages.lead_line(card))}* — {escape(lead['queue'])}, {escape(lead['state'])}"
            f" {when}", 3000))))
    return blocks


def standings_blocks(queues: list[QueueStandings], room: int) -> list[Block]:
    """Every queue's standings, a Calibrate button per member, within `room` blocks."""
    blocks: list[Block] = [DividerBlock(), HeaderBlock(text="Team standings")]
    left_out = 0
    for queue in queues:
        seat_blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=clip(
            f"*{escape(queue.name)}* — {escape(queue.strategy)}, {queue.total} lead(s) in {queue.period}",
            3000)))]
        for seat in queue.seats:
            seat_blocks.append(SectionBlock(
                text=MarkdownTextObject(text=clip(replies.seat_line(seat), 3000)),
                accessory=ButtonElement(text="Calibrate", action_id=ids.Action.HOME_CALIBRATE,
                                        value=calibrate_value(seat.slack_id, queue.name))))
        if len(blocks) + len(seat_blocks) > room - 1:
            left_out += 1
            continue
        blocks += seat_blocks
    if left_out:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"{left_out} more queue(s) don't fit here; use `/rotation who QUEUE`.")]))
    return blocks


def build(status: MemberStatus | None, queues: list[QueueStandings] | None,
          not_member: str | None = None) -> View:
    blocks = [HeaderBlock(text="Your rotation"), *status_blocks(status, not_member)]
    if queues is not None:
        blocks += standings_blocks(queues, MAX_BLOCKS - len(blocks))
    return View(type="home", blocks=blocks[:MAX_BLOCKS])


def with_notice(view: View, notice: str) -> View:
    """The same view with a one-line notice under the header (what the last click did)."""
    blocks = list(view.blocks)
    note = ContextBlock(elements=[MarkdownTextObject(text=clip(escape(notice), 3000))])
    blocks.insert(1, note)
    return View(type="home", blocks=blocks[:MAX_BLOCKS])


def notice_only(notice: str) -> View:
    """A Home that only says why it cannot show more just now."""
    return View(type="home", blocks=[HeaderBlock(text="Your rotation"),
                                     SectionBlock(text=MarkdownTextObject(text=clip(escape(notice), 3000)))])

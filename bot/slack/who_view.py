"""`/rotation who` as Block Kit pages: a summary first, then one queue at a time.

Why pages: the first `who` was one text of every queue's every member, 35,000 characters at
30 queues and past Slack's 40,000 cut-off at 45. Here page 1 opens with a line per queue
(who is next), and each page holds one queue, or a slice of a big one, with buttons to turn
the page; every page stays well inside Slack's limits (50 blocks, 3,000 characters a section).
A page is found again from its number alone, so a button carries only that (a Place).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.routing.results import QueueStandings
from bot.slack import ids
from bot.slack.answers import MESSAGE_TEXT_LIMIT, clip, escape
from bot.slack.block_json import blocks_json
from bot.slack.paging import Place
from bot.slack.replies import seat_line

SEATS_PER_PAGE = 40
SECTION_TEXT = 3000
LINE = 300  # one member's line; a long name can't crowd the others out
SUMMARY_SECTIONS = 8  # at most; past them the summary says how many more queues there are
# Slack wants each action_id unique in its block: the page buttons are who_page.0, .1, .2.
PAGE_ACTION = re.compile(rf"^{re.escape(ids.Action.WHO_PAGE.value)}(\.[0-9])?$")


@dataclass(frozen=True, slots=True)
class WhoPage:
    text: str  # the fallback (notifications, clients without blocks)
    blocks: list[dict[str, Any]]


def head_line(queue: QueueStandings) -> str:
    nxt = next((s.name for s in queue.seats if s.next_up), None)
    return clip(f"*{escape(queue.name)}* ({escape(queue.strategy)}, period {escape(queue.period)}, "
                f"{queue.total} lead(s)) — next: {escape(nxt) if nxt else 'nobody eligible'}", SECTION_TEXT)


def summary_line(queue: QueueStandings) -> str:
    nxt = next((s.name for s in queue.seats if s.next_up), None)
    return clip(f"• *{escape(queue.name)}*: {len(queue.seats)} member(s), {queue.total} lead(s), "
                f"next {escape(nxt) if nxt else 'nobody eligible'}", LINE)


def sections(lines: list[str], most: int | None = None) -> tuple[list[str], int]:
    """`lines` packed into section texts of at most 3,000 characters; (texts, lines left out)."""
    texts: list[str] = []
    current = ""
    for used, line in enumerate(lines):
        if current and len(current) + 1 + len(line) > SECTION_TEXT:
            if most is not None and len(texts) + 1 >= most:
                texts.append(current)
                return texts, len(lines) - used
            texts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        texts.append(current)
    return texts, 0


def pages_of(queues: list[QueueStandings]) -> list[tuple[int, int]]:
    """Every page as (queue index, first seat): one queue a page, a big one in slices."""
    pages: list[tuple[int, int]] = []
    for index, queue in enumerate(queues):
        pages += [(index, start) for start in range(0, max(len(queue.seats), 1), SEATS_PER_PAGE)]
    return pages


def build(queues: list[QueueStandings], spot: Place) -> WhoPage:
    if not queues:
        text = "There are no queues yet: load a routing config."
        return WhoPage(text, blocks_json([SectionBlock(text=MarkdownTextObject(text=text))]))
    pages = pages_of(queues)
    page = min(spot.page, len(pages) - 1)
    index, start = pages[page]
    queue = queues[index]
    shown = queue.seats[start:start + SEATS_PER_PAGE]
    texts: list[str] = []
    if page == 0 and len(queues) > 1:
        summary, left_out = sections([f"*{len(queues)} queues*, who is next in each:",
                                      *(summary_line(q) for q in queues)], SUMMARY_SECTIONS)
        texts += summary
        if left_out:
            texts.append(f"…and {left_out} more queue(s) on the pages after; "
                         "`/rotation who QUEUE` shows one.")
    head = head_line(queue) if start == 0 else f"{head_line(queue)} _(continued)_"
    member_texts, _ = sections([clip(seat_line(s), LINE) for s in shown] or ["Nobody is in this queue."])
    texts += [head, *member_texts]
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=t)) for t in texts]
    where = (f"members {start + 1}–{start + len(shown)} of {len(queue.seats)} in *{escape(queue.name)}*"
             if shown else f"*{escape(queue.name)}*")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text=clip(f"Page {page + 1} of {len(pages)}: {where}.", SECTION_TEXT))]))
    turns = page_buttons(pages, page, queues, spot.queue)
    if turns:
        blocks.append(ActionsBlock(block_id="who_pages", elements=turns))
    return WhoPage(clip("\n".join(texts), MESSAGE_TEXT_LIMIT), blocks_json(blocks))


def page_buttons(pages: list[tuple[int, int]], page: int, queues: list[QueueStandings],
                 named: str | None) -> list[ButtonElement]:
    """‹ Previous, Next ›, and a jump to the next queue when Next is still this one."""
    def to(where: int, text: str) -> ButtonElement:
        return ButtonElement(text=clip(text, 75), action_id=f"{ids.Action.WHO_PAGE.value}.{len(buttons)}",
                             value=Place(named, where).to_json())

    buttons: list[ButtonElement] = []
    if page > 0:
        buttons.append(to(page - 1, "‹ Previous"))
    if page + 1 < len(pages):
        buttons.append(to(page + 1, "Next ›"))
        here = pages[page][0]
        later = next((i for i in range(page + 1, len(pages)) if pages[i][0] != here), None)
        if later is not None and later != page + 1:
            buttons.append(to(later, f"Next queue: {queues[pages[later][0]].name}"))
    return buttons

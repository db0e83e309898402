"""The App Home tab as a pure function of the member's status and the queues' standings.

Why a picker and pages: Slack rejects a Home view over 100 blocks, and a manager's view grows
with the team. A team that fits is shown whole; a bigger one shows one queue at a time (a
static select of the queues, an external select past Slack's 100 options), a page of its
members at a time, so every queue and every member can be reached, the biggest too.
Which queue and page are shown travels in the view's private_metadata, so a click elsewhere
on the Home (Pause, say) republishes the same place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    ExternalDataSelectElement,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.routing.results import MemberStatus, QueueStandings, SeatStanding
from bot.slack import away_view, ids, messages, replies
from bot.slack.answers import clip, escape
from bot.slack.dates import slack_date
from bot.slack.paging import START, Place

MAX_BLOCKS = 100
MAX_STATIC_OPTIONS = 100  # Slack's limit for a static_select; past it, an external_select
OPTION_TEXT = 75
SEAT_LINE = 600  # a member's line: one long name must not take a whole section's 3,000
BLOCKS_PER_SEAT = 2  # the line, then its Calibrate and History buttons
QUEUE_BLOCK_ID = "home_queue_picker"
# Slack wants each action_id unique in its block: the page buttons are home_page.0 and .1.
PAGE_ACTION = re.compile(rf"^{re.escape(ids.Action.HOME_PAGE.value)}(\.[0-9])?$")




def calibrate_value(slack_id: str, queue: str) -> str:
    return json.dumps({"member": slack_id, "queue": queue})


def recent_lead_line(lead: dict[str, object]) -> str:
    fields = lead.get("fields")
    shown = {k: v for k, v in fields.items() if k in ("name", "company", "email")} \
        if isinstance(fields, dict) else {}
    card = {"id": lead["lead_id"], **shown}
    at = lead.get("assigned_at")
    when = f", {slack_date(at)}" if isinstance(at, datetime) else ""
    return clip(f"*{escape(messages.lead_line(card))}* — {escape(lead['queue'])}, "
                f"{escape(lead['state'])}{when}", 3000)


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
        blocks.append(SectionBlock(text=MarkdownTextObject(text=recent_lead_line(lead))))
    return blocks


def queue_head(queue: QueueStandings) -> SectionBlock:
    nxt = next((escape(s.name) for s in queue.seats if s.next_up), "nobody eligible")
    return SectionBlock(text=MarkdownTextObject(text=clip(
        f"*{escape(queue.name)}* — {escape(queue.strategy)}, {queue.total} lead(s) in "
        f"{escape(queue.period)}, {len(queue.seats)} member(s); next: {nxt}", 3000)))


def seat_blocks(queue: str, seat: SeatStanding) -> list[Block]:
    """A member's line in a queue, with Calibrate (this seat) and History (the person)."""
    return [
        SectionBlock(text=MarkdownTextObject(text=clip(replies.seat_line(seat), SEAT_LINE))),
        ActionsBlock(elements=[
            ButtonElement(text="Calibrate", action_id=ids.Action.HOME_CALIBRATE,
                          value=calibrate_value(seat.slack_id, queue)),
            ButtonElement(text="History", action_id=ids.Action.MEMBER_HISTORY, value=seat.slack_id),
        ]),
    ]


def people_button() -> ButtonElement:
    return ButtonElement(text="People: add or remove", action_id=ids.Action.HOME_PEOPLE, value="people")


def queue_option(name: str) -> Option:
    return Option(value=name, text=clip(name, OPTION_TEXT))


def matching_queues(names: list[str], typed: object) -> list[dict[str, object]]:
    """An options answer for an external queue select: the queues whose name holds what was
    typed (any case), names that start with it first, at most Slack's 100."""
    words = typed.strip().casefold() if isinstance(typed, str) else ""
    found = [n for n in names if words in n.casefold()]
    found.sort(key=lambda n: not n.casefold().startswith(words))
    return [{"text": {"type": "plain_text", "text": clip(n, OPTION_TEXT)}, "value": n}
            for n in found[:MAX_STATIC_OPTIONS]]


def queue_picker(names: list[str], current: str) -> StaticSelectElement | ExternalDataSelectElement:
    """Every queue in a static select; past Slack's 100 options, an external select whose
    options come from the options handler (home.on_queue_options) as the manager types."""
    if len(names) <= MAX_STATIC_OPTIONS:
        return StaticSelectElement(action_id=ids.Action.HOME_QUEUE_PICK, placeholder="Pick a queue",
                                   options=[queue_option(n) for n in names],
                                   initial_option=queue_option(current))
    return ExternalDataSelectElement(action_id=ids.Action.HOME_QUEUE_PICK, placeholder="Type a queue's name",
                                     min_query_length=0, initial_option=queue_option(current))


def whole_team_size(queues: list[QueueStandings]) -> int:
    """How many blocks the whole team takes (counted, not built: 3,000 seats build slowly)."""
    return sum(1 + BLOCKS_PER_SEAT * len(queue.seats) for queue in queues)


def whole_team(queues: list[QueueStandings]) -> list[Block]:
    """Every queue and member on one view: what a team that fits gets."""
    blocks: list[Block] = []
    for queue in queues:
        blocks.append(queue_head(queue))
        for seat in queue.seats:
            blocks += seat_blocks(queue.name, seat)
    return blocks


def one_queue(names: list[str], queues: list[QueueStandings], place: Place, room: int) -> list[Block]:
    """The picker, then a page of one queue's members, within `room` blocks."""
    queue = next((q for q in queues if q.name == place.queue), queues[0])
    fixed = 4  # picker, summary, queue head, page buttons
    per_page = max(1, (room - fixed) // BLOCKS_PER_SEAT)
    pages = max(1, -(-len(queue.seats) // per_page))
    page = min(place.page, pages - 1)
    shown = queue.seats[page * per_page:(page + 1) * per_page]
    where = (f"members {page * per_page + 1}–{page * per_page + len(shown)} of {len(queue.seats)}"
             if shown else "no members")
    blocks: list[Block] = [
        ActionsBlock(block_id=QUEUE_BLOCK_ID, elements=[people_button(), queue_picker(names, queue.name)]),
        ContextBlock(elements=[MarkdownTextObject(text=clip(
            f"{len(names)} queues. Showing *{escape(queue.name)}*, {where} "
            f"(page {page + 1} of {pages}).", 3000))]),
        queue_head(queue),
    ]
    for seat in shown:
        blocks += seat_blocks(queue.name, seat)
    turns = (("‹ Previous", page - 1), ("Next ›", page + 1))
    turn = [ButtonElement(text=text, action_id=f"{ids.Action.HOME_PAGE.value}.{n}",
                          value=Place(queue.name, to).to_json())
            for n, (text, to) in enumerate(turns) if 0 <= to < pages]
    if turn:
        blocks.append(ActionsBlock(block_id="home_pages", elements=turn))
    return blocks


@dataclass(frozen=True, slots=True)
class TeamView:
    """What a manager's Home shows of the team: every queue's name, and the standings of
    every queue (as the Home opens) or of the one picked (a page or a pick: cheaper)."""

    names: list[str]
    queues: list[QueueStandings]


def standings_blocks(team: TeamView, room: int, place: Place = START) -> list[Block]:
    """The team part of a manager's Home, within `room` blocks: whole when it fits (and no
    queue was picked), else the picker and one queue's page."""
    head: list[Block] = [DividerBlock(), HeaderBlock(text="Team standings")]
    if not team.queues:
        return [*head, ActionsBlock(elements=[people_button()]),
                SectionBlock(text=MarkdownTextObject(text="There are no queues yet: load a routing config."))]
    everything = len(team.queues) == len(team.names)
    if place.queue is None and everything and len(head) + 1 + whole_team_size(team.queues) <= room:
        return [*head, ActionsBlock(elements=[people_button()]), *whole_team(team.queues)]
    return [*head, *one_queue(team.names, team.queues, place, room - len(head))]


def build(status: MemberStatus | None, team: TeamView | None,
          not_member: str | None = None, place: Place = START) -> View:
    blocks = [HeaderBlock(text="Your rotation"), *status_blocks(status, not_member)]
    if team is not None:
        blocks += standings_blocks(team, MAX_BLOCKS - 1 - len(blocks), place)  # 1: a notice
    return View(type="home", blocks=blocks[:MAX_BLOCKS - 1], private_metadata=place.to_json())


def with_notice(view: View, notice: str) -> View:
    """The same view with a one-line notice under the header (what the last click did)."""
    blocks = list(view.blocks)
    note = ContextBlock(elements=[MarkdownTextObject(text=clip(escape(notice), 3000))])
    blocks.insert(1, note)
    return View(type="home", blocks=blocks[:MAX_BLOCKS], private_metadata=view.private_metadata)


def notice_only(notice: str) -> View:
    """A Home that only says why it cannot show more just now."""
    return View(type="home", blocks=[HeaderBlock(text="Your rotation"),
                                     SectionBlock(text=MarkdownTextObject(text=clip(escape(notice), 3000)))])

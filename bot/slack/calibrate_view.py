"""The calibrate modal as a pure function of what the core said about one seat.

Why pure: the modal is rebuilt on every member/queue change and every Preview click
(views.update); one builder fed with core results keeps those paths identical. The queue
select is static up to Slack's 100 options; a bigger team gets an external select, its
options answered as the manager types (calibrate_modal.on_queue_options).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.routing.results import PreviewPick, SeatStanding
from bot.slack import ids
from bot.slack.answers import clip, escape
from bot.slack.replies import number

ACTIVE_OPTIONS = {
    ids.ActiveChoice.KEEP: "Leave as it is",
    ids.ActiveChoice.ON: "Active: receives leads in this queue",
    ids.ActiveChoice.OFF: "Inactive: no leads in this queue",
}

# The rules are the routing config's (bot.routing.fairness.weights): what the modal takes, the config takes.
WEIGHT_HINT = ("2 (a weight from 0.001 to 10000, at most 3 decimals), 18% (saved as the weight that "
               "gives that share) or priority 3 (1 lead for every 3, up to priority 1000).")
SHARE_HINT = ("This queue gives each member a share: write one like 18% (at most 4 decimals), and the "
              "others' shares make room so that they add up to 100%.")


@dataclass(frozen=True, slots=True)
class CalibrateState:
    """Everything the modal shows; built by the listener from core calls."""

    queues: list[str]
    member: str | None = None
    queue: str | None = None
    seat: SeatStanding | None = None
    now: list[PreviewPick] = field(default_factory=list)
    after: list[PreviewPick] | None = None
    notice: str | None = None
    shares: bool = False  # the queue gives each member a share ("18%"), not a weight


def metadata(member: str | None, queue: str | None) -> str:
    return json.dumps({"member": member, "queue": queue})


def read_metadata(raw: str | None) -> tuple[str | None, str | None]:
    """(member, queue) from a view's metadata or a button's value; None for what is not ours."""
    try:
        data = json.loads(raw or "{}")
    except (ValueError, TypeError, RecursionError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    member, queue = data.get("member"), data.get("queue")
    return (member if isinstance(member, str) else None), (queue if isinstance(queue, str) else None)


def numbers_text(state: CalibrateState) -> str:
    if not state.member or not state.queue:
        return "Pick a member and a queue to see their numbers."
    seat = state.seat
    if seat is None:
        return f"<@{state.member}> is not in *{escape(state.queue)}*. Add them to calibrate here."
    adjust = f"{seat.adjustment:+d}" if seat.adjustment else "none"
    status = "active" if seat.status == "active" else escape(seat.status)
    return (f"*{escape(seat.name)}* in *{escape(state.queue)}*: weight {escape(seat.weight_text)} "
            f"({number(seat.target_share * 100)}% target), {seat.received} lead(s) this period, "
            f"adjustment {adjust}, lag {number(seat.lag)}, {status}"
            + (", next up" if seat.next_up else "") + ".")


def membership_button(state: CalibrateState) -> ButtonElement | None:
    if not state.member or not state.queue:
        return None
    value = metadata(state.member, state.queue)
    if state.seat is None:
        return ButtonElement(text="Add to queue", action_id=ids.Action.CAL_ADD_QUEUE, value=value,
                             confirm=ConfirmObject(title="Add to queue?", text=(
                                 f"They join {state.queue} now, level with everyone."[:300])))
    return ButtonElement(text="Remove from queue", action_id=ids.Action.CAL_REMOVE_QUEUE, value=value,
                         style="danger", confirm=ConfirmObject(title="Remove from queue?", text=(
                             f"They stop receiving {state.queue} leads now."[:300]), style="danger"))


def picks_text(title: str, picks: list[PreviewPick]) -> str:
    rows = "\n".join(f"{p.position}. {escape(p.name)}" for p in picks) or "nobody is eligible"
    return clip(f"*{title}*\n{rows}", 2000)


def preview_block(state: CalibrateState) -> SectionBlock:
    if not state.queue:
        return SectionBlock(block_id=ids.BlockId.CAL_PREVIEW, text="Pick a queue to preview its next leads.")
    fields = [MarkdownTextObject(text=picks_text("Next 10 now", state.now))]
    if state.after is not None:
        fields.append(MarkdownTextObject(text=picks_text("With this change", state.after)))
    return SectionBlock(block_id=ids.BlockId.CAL_PREVIEW, fields=fields)


def option(value: str, text: str | None = None) -> Option:
    return Option(value=value, text=clip(text or value, 75))


MAX_STATIC_OPTIONS = 100


def queue_select(state: CalibrateState) -> StaticSelectElement | ExternalDataSelectElement:
    initial = option(state.queue) if state.queue in state.queues else None
    if len(state.queues) > MAX_STATIC_OPTIONS:
        return ExternalDataSelectElement(action_id=ids.Action.CAL_QUEUE, placeholder="Type a queue's name",
                                         min_query_length=0, initial_option=initial)
    return StaticSelectElement(action_id=ids.Action.CAL_QUEUE, placeholder="Queue",
                               options=[option(q) for q in state.queues] or [option("-", "no queues")],
                               initial_option=initial)


def build(state: CalibrateState) -> View:
    blocks: list[Block] = [
        InputBlock(block_id=ids.BlockId.CAL_MEMBER, label="Member", dispatch_action=True,
                   element=UserSelectElement(action_id=ids.Action.CAL_MEMBER, placeholder="Member",
                                             initial_user=state.member)),
        InputBlock(block_id=ids.BlockId.CAL_QUEUE, label="Queue", dispatch_action=True,
                   element=queue_select(state)),
        SectionBlock(block_id=ids.BlockId.CAL_NUMBERS, text=MarkdownTextObject(text=numbers_text(state)),
                     accessory=membership_button(state)),
    ]
    if state.notice:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=clip(state.notice, 2000))]))
    blocks += [
        InputBlock(block_id=ids.BlockId.CAL_WEIGHT, label="Share" if state.shares else "Weight",
                   optional=True,
                   hint=SHARE_HINT if state.shares else WEIGHT_HINT,
                   element=PlainTextInputElement(action_id=ids.Action.CAL_WEIGHT,
                                                 placeholder="18%" if state.shares else "2")),
        InputBlock(block_id=ids.BlockId.CAL_ADJUSTMENT, label="Adjustment", optional=True,
                   hint="+5 counts five extra leads against them (they wait longer); -5 moves them closer.",
                   element=PlainTextInputElement(action_id=ids.Action.CAL_ADJUSTMENT, placeholder="+5")),
        InputBlock(block_id=ids.BlockId.CAL_NOTE, label="Note (required with an adjustment)", optional=True,
                   element=PlainTextInputElement(action_id=ids.Action.CAL_NOTE, multiline=True,
                                                 placeholder="Why: it is recorded with your name")),
        InputBlock(block_id=ids.BlockId.CAL_ACTIVE, label="Active in this queue", optional=True,
                   element=RadioButtonsElement(
                       action_id=ids.Action.CAL_ACTIVE,
                       options=[option(k.value, v) for k, v in ACTIVE_OPTIONS.items()],
                       initial_option=option(ids.ActiveChoice.KEEP.value,
                                             ACTIVE_OPTIONS[ids.ActiveChoice.KEEP]))),
        ActionsBlock(elements=[ButtonElement(text="Preview the next 10 leads",
                                             action_id=ids.Action.CAL_PREVIEW, value="preview")]),
        preview_block(state),
    ]
    return View(type="modal", callback_id=ids.Callback.CALIBRATE, title="Calibrate rotation",
                submit="Save", close="Cancel", blocks=blocks,
                private_metadata=metadata(state.member, state.queue))

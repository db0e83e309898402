"""Time off in App Home: the "Schedule time off" modal and the leave list with Cancel buttons.

Why pure builders and a separate form reader: the modal is built from the core's leave
list and the team's policy, and its submission is read back into dates here, so the
listener only asks the core and maps its refusal onto the right date field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.routing.results import LeaveView
from bot.slack import ids, replies
from bot.slack.answers import clip
from bot.slack.dates import iso_day

MAX_LISTED = 20  # leave rows shown (modal and Home); more is unusual and still listed by /rotation away


def policy_text(long_leave_days: int, pause_days_before: int) -> str:
    early = (f"Leave longer than {long_leave_days} days stops new leads {pause_days_before} day(s) "
             "before it starts; shorter leave stops them on its first day.") if pause_days_before else \
        "New leads stop on the first day of your leave."
    return f"{early} They start again the day after the end date, level with everyone."


def leaves_summary(leaves: Sequence[LeaveView], timezone: str) -> str:
    if not leaves:
        return "*Upcoming time off:* none."
    rows = [f"• {replies.leave_line(leave, timezone)}" for leave in leaves[:MAX_LISTED]]
    more = len(leaves) - MAX_LISTED
    return clip("*Upcoming time off:*\n" + "\n".join(rows) + (f"\n…and {more} more" if more > 0 else ""),
                3000)


def build(leaves: Sequence[LeaveView], timezone: str, *, today: date, long_leave_days: int = 5,
          pause_days_before: int = 2) -> View:
    """The modal: start and end date pickers, the policy, and what is already scheduled."""
    blocks: list[Block] = [
        InputBlock(block_id=ids.BlockId.AWAY_START, label="First day off",
                   element=DatePickerElement(action_id=ids.Action.AWAY_START, placeholder="Start",
                                             initial_date=today.isoformat())),
        InputBlock(block_id=ids.BlockId.AWAY_END, label="Last day off",
                   hint="You're back the day after this date.",
                   element=DatePickerElement(action_id=ids.Action.AWAY_END, placeholder="End")),
        ContextBlock(elements=[MarkdownTextObject(text=policy_text(long_leave_days, pause_days_before))]),
        SectionBlock(block_id=ids.BlockId.AWAY_LIST,
                     text=MarkdownTextObject(text=leaves_summary(leaves, timezone))),
    ]
    return View(type="modal", callback_id=ids.Callback.AWAY, title="Schedule time off",
                submit="Schedule", close="Cancel", blocks=blocks)


def _picked(values: dict[str, Any], block: ids.BlockId, action: ids.Action) -> str | None:
    entry = (values.get(block.value) or {}).get(action.value)
    picked = entry.get("selected_date") if isinstance(entry, dict) else None
    return picked if isinstance(picked, str) else None


def read(view: dict[str, Any]) -> tuple[date | None, date | None, dict[str, str]]:
    """(start, end, errors by block id) from a submitted modal; errors mean nothing is asked."""
    values = (view.get("state") or {}).get("values") or {}
    found: dict[ids.BlockId, date | None] = {}
    errors: dict[str, str] = {}
    for block, action, what in ((ids.BlockId.AWAY_START, ids.Action.AWAY_START, "first day"),
                                (ids.BlockId.AWAY_END, ids.Action.AWAY_END, "last day")):
        raw = _picked(values, block, action)
        found[block] = iso_day(raw) if raw else None
        if found[block] is None:
            errors[block.value] = f"Pick the {what} of your time off."
    start, end = found[ids.BlockId.AWAY_START], found[ids.BlockId.AWAY_END]
    if start and end and end < start:
        errors[ids.BlockId.AWAY_END.value] = "The last day is before the first day."
    return start, end, errors


def error_block(message: str, field: str | None) -> str:
    """Which date field shows a refusal from the core (its field, else by what it is about)."""
    if field in ("ends_on", "end"):
        return ids.BlockId.AWAY_END.value
    if field in ("starts_on", "start"):
        return ids.BlockId.AWAY_START.value
    lowered = message.lower()
    about_end = "past" in lowered or "over already" in lowered or "ends" in lowered
    return (ids.BlockId.AWAY_END if about_end else ids.BlockId.AWAY_START).value


def home_blocks(leaves: Sequence[LeaveView], timezone: str) -> list[Block]:
    """The Home tab's time-off part: each upcoming leave with a Cancel button (confirmed)."""
    blocks: list[Block] = [HeaderBlock(text="Your time off")]
    if not leaves:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text="No time off scheduled. Use *Schedule time off* above or `/rotation away START END`.")]))
    for leave in leaves[:MAX_LISTED]:
        source = "" if leave.source == "command" else f" _(from {leave.source})_"
        blocks.append(SectionBlock(
            text=MarkdownTextObject(text=clip(replies.leave_line(leave, timezone) + source, 3000)),
            accessory=ButtonElement(
                text="Cancel", action_id=ids.Action.HOME_CANCEL_LEAVE, value=str(leave.id),
                confirm=ConfirmObject(title="Cancel this time off?", confirm="Cancel it", deny="Keep it",
                                      text=f"{leave.starts_on.isoformat()} to {leave.ends_on.isoformat()}: "
                                           "you'll receive leads on these days."))))
    return blocks

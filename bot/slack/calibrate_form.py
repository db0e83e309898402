"""Reading the calibrate modal's state back into the core's `Calibration`.

Why separate from the listeners: the same reading serves the Preview button (a change
that is only previewed) and the submission (a change that is saved), and shape errors
(not a number, no member) must be caught here, before the core is asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.routing.results import Calibration
from bot.slack import ids
from bot.slack.calibrate_view import read_metadata

ADJUSTMENT = re.compile(r"^[+-]?\s*\d+$")


@dataclass(frozen=True, slots=True)
class Form:
    member: str | None
    queue: str | None
    weight: str | None
    adjustment: str | None
    note: str | None
    active: ids.ActiveChoice


def _entry(values: dict[str, Any], block: ids.BlockId, action: ids.Action) -> dict[str, Any]:
    entry = (values.get(block.value) or {}).get(action.value)
    return entry if isinstance(entry, dict) else {}


def _text(values: dict[str, Any], block: ids.BlockId, action: ids.Action) -> str | None:
    value = _entry(values, block, action).get("value")
    return value.strip() or None if isinstance(value, str) else None


def _selected(values: dict[str, Any], block: ids.BlockId, action: ids.Action) -> str | None:
    option = _entry(values, block, action).get("selected_option")
    return option.get("value") if isinstance(option, dict) else None


def read(view: dict[str, Any]) -> Form:
    """The form as the manager left it; member/queue fall back to the view's metadata."""
    values = (view.get("state") or {}).get("values") or {}
    meta_member, meta_queue = read_metadata(view.get("private_metadata"))
    member_entry = _entry(values, ids.BlockId.CAL_MEMBER, ids.Action.CAL_MEMBER)
    member = member_entry.get("selected_user") if member_entry else meta_member
    queue = _selected(values, ids.BlockId.CAL_QUEUE, ids.Action.CAL_QUEUE) if \
        _entry(values, ids.BlockId.CAL_QUEUE, ids.Action.CAL_QUEUE) else meta_queue
    active = _selected(values, ids.BlockId.CAL_ACTIVE, ids.Action.CAL_ACTIVE) or ids.ActiveChoice.KEEP
    return Form(
        member=member or None, queue=queue or None,
        weight=_text(values, ids.BlockId.CAL_WEIGHT, ids.Action.CAL_WEIGHT),
        adjustment=_text(values, ids.BlockId.CAL_ADJUSTMENT, ids.Action.CAL_ADJUSTMENT),
        note=_text(values, ids.BlockId.CAL_NOTE, ids.Action.CAL_NOTE),
        active=ids.ActiveChoice(active) if active in set(ids.ActiveChoice) else ids.ActiveChoice.KEEP)


def to_change(form: Form) -> tuple[Calibration | None, dict[str, str]]:
    """The change the form asks for, or the errors to show on its fields."""
    errors: dict[str, str] = {}
    if not form.member:
        errors[ids.BlockId.CAL_MEMBER.value] = "Pick the member to calibrate."
    if not form.queue:
        errors[ids.BlockId.CAL_QUEUE.value] = "Pick a queue."
    adjustment = None
    if form.adjustment is not None:
        if ADJUSTMENT.match(form.adjustment):
            adjustment = int(form.adjustment.replace(" ", ""))
        else:
            errors[ids.BlockId.CAL_ADJUSTMENT.value] = "Write a whole number of leads, like +5 or -2."
    active = {ids.ActiveChoice.ON: True, ids.ActiveChoice.OFF: False}.get(form.active)
    if errors or form.member is None or form.queue is None:
        return None, errors
    return Calibration(queue=form.queue, slack_id=form.member, weight=form.weight,
                       adjustment=adjustment or None, note=form.note, active=active), {}


def is_empty(change: Calibration) -> bool:
    return change.weight is None and not change.adjustment and change.active is None

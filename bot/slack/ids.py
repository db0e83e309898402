"""Every action, callback and block ID the app uses, in one place.

Why enums: a handler and the block that triggers it must agree on a string; keeping
both sides on one name makes a typo an AttributeError instead of a silent dead button.
"""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    ROTATION = "/rotation"


class Action(StrEnum):
    ACCEPT = "lead_accept"
    PASS = "lead_pass"
    OPEN_LEAD = "lead_open_url"
    HOME_PAUSE = "home_pause"
    HOME_RESUME = "home_resume"
    HOME_CALIBRATE = "home_calibrate"
    CAL_MEMBER = "calibrate_member"
    CAL_QUEUE = "calibrate_queue"
    CAL_PREVIEW = "calibrate_preview"
    CAL_ADD_QUEUE = "calibrate_add_queue"
    CAL_REMOVE_QUEUE = "calibrate_remove_queue"
    CAL_WEIGHT = "calibrate_weight"
    CAL_ADJUSTMENT = "calibrate_adjustment"
    CAL_NOTE = "calibrate_note"
    CAL_ACTIVE = "calibrate_active"
    KEEP_LEADS = "status_keep_leads"
    HOME_AWAY = "home_schedule_leave"
    HOME_CANCEL_LEAVE = "home_cancel_leave"
    AWAY_START = "away_start"
    AWAY_END = "away_end"
    # escalations and waiting-lead posts (value: the lead id)
    REASSIGN_TO = "lead_reassign_to"
    TAKE_LEAD = "lead_take"
    PASS_CONFIRMED = "lead_pass_confirmed"
    # managers' people and history (App Home and answers)
    HOME_PEOPLE = "home_people"
    PEOPLE_USER = "people_user"
    MEMBER_HISTORY = "member_history"
    HISTORY_MORE = "history_more"
    HOME_QUEUE_PICK = "home_queue_pick"
    HOME_PAGE = "home_page"
    WHO_PAGE = "who_page"


class Callback(StrEnum):
    CALIBRATE = "calibrate_modal"
    AWAY = "away_modal"
    PEOPLE = "people_modal"
    ROUTE_LEAD = "route_lead"  # the Workflow Builder step's callback id (the contract's)


class BlockId(StrEnum):
    """Block IDs that a handler reads back (state values, response_action errors)."""

    LEAD_ACTIONS = "lead_actions"
    CAL_MEMBER = "calibrate_member"
    CAL_QUEUE = "calibrate_queue"
    CAL_NUMBERS = "calibrate_numbers"
    CAL_MEMBERSHIP = "calibrate_membership"
    CAL_WEIGHT = "calibrate_weight"
    CAL_ADJUSTMENT = "calibrate_adjustment"
    CAL_NOTE = "calibrate_note"
    CAL_ACTIVE = "calibrate_active"
    CAL_PREVIEW = "calibrate_preview"
    STATUS_ACTIONS = "status_actions"
    AWAY_START = "away_start"
    AWAY_END = "away_end"
    AWAY_LIST = "away_list"


class ActiveChoice(StrEnum):
    """Values of the calibrate modal's active radio buttons."""

    KEEP = "keep"
    ON = "on"
    OFF = "off"


# The core's InvalidChange.field -> the modal input that shows the error.
FIELD_BLOCKS: dict[str, BlockId] = {
    "weight": BlockId.CAL_WEIGHT,
    "adjustment": BlockId.CAL_ADJUSTMENT,
    "note": BlockId.CAL_NOTE,
    "member": BlockId.CAL_MEMBER,
    "queue": BlockId.CAL_QUEUE,
    "active": BlockId.CAL_ACTIVE,
}

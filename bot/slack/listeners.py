"""The whole Slack surface in one table: which command, action, options request, view,
event and workflow step goes to which handler. Modules hold the handlers; only this file
registers them, so a request's handler is found here first, by its id.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack import (
    answers,
    away_modal,
    calibrate_modal,
    commands,
    escalation_actions,
    events,
    home,
    home_view,
    lead_actions,
    people_command,
    people_modal,
    status_actions,
    who_view,
    workflow_step,
)
from bot.slack.ids import Action, Callback, Command

Handler = Callable[..., Awaitable[None]]

COMMANDS: dict[str, Handler] = {
    Command.ROTATION: commands.on_rotation,  # every subcommand: commands.SUBCOMMANDS
}

# A button, select or page link, by its action_id (a pattern where one handler takes a family).
ACTIONS: dict[str | re.Pattern[str], Handler] = {
    # a lead's DM
    Action.ACCEPT: lead_actions.on_lead_button,
    Action.PASS: lead_actions.on_lead_button,
    Action.OPEN_LEAD: answers.ack_only,  # a link button: Slack opens the URL, we only ack
    # escalations and waiting-lead posts
    Action.TAKE_LEAD: escalation_actions.on_take,
    Action.REASSIGN_TO: escalation_actions.on_reassign_to,
    Action.MEMBER_HISTORY: escalation_actions.on_history,
    Action.HISTORY_MORE: people_command.on_more,
    # App Home
    Action.HOME_PAUSE: home.on_pause_resume,
    Action.HOME_RESUME: home.on_pause_resume,
    Action.HOME_CALIBRATE: home.on_calibrate,
    Action.HOME_QUEUE_PICK: home.on_queue_pick,
    home_view.PAGE_ACTION: home.on_page,
    Action.HOME_AWAY: away_modal.on_open,
    Action.HOME_CANCEL_LEAVE: away_modal.on_cancel,
    Action.HOME_PEOPLE: people_modal.on_open,
    Action.PEOPLE_USER: answers.ack_only,  # picking the person in the people modal
    # the calibrate modal
    Action.CAL_MEMBER: calibrate_modal.on_refresh,
    Action.CAL_QUEUE: calibrate_modal.on_refresh,
    Action.CAL_PREVIEW: calibrate_modal.on_refresh,
    Action.CAL_ADD_QUEUE: calibrate_modal.on_membership,
    Action.CAL_REMOVE_QUEUE: calibrate_modal.on_membership,
    # answers
    who_view.PAGE_ACTION: commands.on_who_page,
    Action.KEEP_LEADS: status_actions.on_keep_leads,
}

# External selects' options, by the select's action_id.
OPTIONS: dict[str, Handler] = {
    Action.HOME_QUEUE_PICK: home.on_queue_options,
    Action.CAL_QUEUE: calibrate_modal.on_queue_options,
    people_modal.Field.QUEUES: people_modal.on_queue_options,
}

# A modal's submission, by its callback_id.
VIEWS: dict[str, Handler] = {
    Callback.CALIBRATE: calibrate_modal.on_submit,
    Callback.AWAY: away_modal.on_submit,
    Callback.PEOPLE: people_modal.on_submit,
}

EVENTS: dict[str, Handler] = {
    "app_home_opened": home.on_home_opened,
    "message": events.on_message,  # the Messages tab
    "user_change": events.on_user_change,
    # Slack sends both for a status change; applying a status is idempotent, so either may arrive.
    "user_status_changed": events.on_user_change,
}

# Workflow Builder custom steps, by callback_id (the manifest's `functions`).
FUNCTIONS: dict[str, Handler] = {
    Callback.ROUTE_LEAD: workflow_step.on_route_lead,
}


def _id(key: Any) -> Any:
    """What Bolt matches: the enum's string, or the pattern itself."""
    return key.value if hasattr(key, "value") else key


def register(app: AsyncApp) -> None:
    for command, handler in COMMANDS.items():
        app.command(_id(command))(handler)
    for action, handler in ACTIONS.items():
        app.action(_id(action))(handler)
    for select, handler in OPTIONS.items():
        app.options(_id(select))(handler)
    for callback, handler in VIEWS.items():
        app.view(_id(callback))(handler)
    for event, handler in EVENTS.items():
        app.event(event)(handler)
    for step, handler in FUNCTIONS.items():
        app.function(_id(step))(handler)

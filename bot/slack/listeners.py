"""Every listener module, registered in one place (the bolt-python starter's layout).

Read this table to see the whole Slack surface: which module answers which request.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack import (
    away_modal,
    calibrate_modal,
    commands,
    escalation_actions,
    events,
    home,
    lead_actions,
    people_command,
    people_modal,
    status_actions,
    workflow_step,
)

MODULES = (commands, calibrate_modal, lead_actions, home, away_modal, status_actions, events,
           people_command, people_modal, escalation_actions, workflow_step)


def register(app: AsyncApp) -> None:
    for module in MODULES:
        module.register(app)

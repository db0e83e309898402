"""The listeners table is the whole Slack surface: every id a view or message of ours can send
back has its handler there, and every handler there is registered with Bolt."""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp

from bot.slack import ids, listeners

# Inputs read from a view's state on submit (or a field's own dispatch Slack never sends): no handler.
READ_ON_SUBMIT = {
    ids.Action.CAL_WEIGHT, ids.Action.CAL_ADJUSTMENT, ids.Action.CAL_NOTE, ids.Action.CAL_ACTIVE,
    ids.Action.AWAY_START, ids.Action.AWAY_END, ids.Action.PASS_CONFIRMED,
}


def handled(action_id: str) -> bool:
    for key in listeners.ACTIONS:
        if isinstance(key, re.Pattern) and key.fullmatch(action_id):
            return True
        if not isinstance(key, re.Pattern) and key == action_id:
            return True
    return action_id in listeners.OPTIONS


def test_every_action_we_send_has_a_handler() -> None:
    missing = [a for a in ids.Action if a not in READ_ON_SUBMIT and not handled(a)]
    assert missing == []


def test_every_modal_and_step_has_a_handler() -> None:
    assert set(ids.Callback) == set(listeners.VIEWS) | set(listeners.FUNCTIONS)


def test_page_buttons_are_handled_by_their_pattern() -> None:
    assert handled(f"{ids.Action.HOME_PAGE.value}.1") and handled(f"{ids.Action.WHO_PAGE.value}.2")
    assert not handled("lead_accept_forged")


def test_register_hands_bolt_every_row() -> None:
    app = AsyncApp(token="xoxb-test", signing_secret="test", request_verification_enabled=False)
    listeners.register(app)
    rows = (len(listeners.COMMANDS) + len(listeners.ACTIONS) + len(listeners.OPTIONS) + len(listeners.VIEWS)
            + len(listeners.EVENTS) + len(listeners.FUNCTIONS))
    assert len(app._async_listeners) == rows  # one Bolt listener per row of the table

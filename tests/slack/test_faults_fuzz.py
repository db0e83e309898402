"""Fuzzing the Slack surface with hypothesis: whatever arrives signed, never a 5xx.

Signed slash commands with any text after `/rotation`, signed interactivity payloads whose
fields are replaced by arbitrary JSON, arbitrary signed form and JSON bodies: each is
answered below 500, logs no error or traceback, answers a person in words (never "something
went wrong"), and changes nothing it should not (garbage pauses nobody).
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_harness import SECRET, Bot, sr

from bot.slack.answers import SOMETHING_WENT_WRONG

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
STRANGER = "U99STRANGER"
READ_ONLY = ("help", "status", "who", "why", "calibrate", "dance", "")
WRITING = ("pause", "resume", "away")
# Text a form can carry: any character but half a surrogate pair (no UTF-8 exists for one).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12)


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.fixture
async def lead(bot: Bot) -> dict[str, Any]:
    """A lead offered to someone, so buttons and `why` have something real to aim at."""
    outcome = await bot.service.assignment.route({"id": "L-1", "name": "Jane Doe", "country": "US"})
    assert outcome.assignee is not None
    return {"assignment_id": outcome.assignment_id, "assignee": outcome.assignee.slack_id}


@FUZZ
@given(sub=st.sampled_from(READ_ONLY + WRITING), tail=TEXT,
       user=st.sampled_from(["U01ALICE", STRANGER]))
async def test_any_text_after_rotation(bot: Bot, lead: dict[str, Any], caplog: pytest.LogCaptureFixture,
                                       sub: str, tail: str, user: str) -> None:
    """`/rotation <subcommand> <anything>` as a rep and as a stranger."""
    before = await bot.state()
    answer = await bot.command(f"{sub} {tail}", user=user)
    assert answer and answer != SOMETHING_WENT_WRONG, (sub, tail)
    assert errors_logged(caplog) == []
    if sub not in WRITING or user == STRANGER:
        assert await bot.state() == before, (sub, tail)


@FUZZ
@given(text=TEXT)
async def test_any_text_at_all(bot: Bot, caplog: pytest.LogCaptureFixture, text: str) -> None:
    """`/rotation <anything>` from someone outside the rotation: words back, nothing changed."""
    before = await bot.state()
    answer = await bot.command(text, user=STRANGER)
    assert answer and answer != SOMETHING_WENT_WRONG, text
    assert errors_logged(caplog) == []
    assert await bot.state() == before


ACTIONS = ["lead_accept", "lead_pass", "home_pause", "home_resume", "home_calibrate", "status_keep_leads",
           "home_schedule_leave", "home_cancel_leave", "calibrate_add_queue", "calibrate_remove_queue",
           "calibrate_member", "calibrate_preview", "lead_open_url"]


def click_payload(action_id: str, value: str, user: str) -> dict[str, Any]:
    body, _ = sr.block_action(SECRET, action_id, value, user_id=user, message={"ts": "1.2"},
                              response_url="http://127.0.0.1:9/unused")
    payload: dict[str, Any] = json.loads(parse_qs(body)["payload"][0])
    return payload


@FUZZ
@given(action_id=st.sampled_from(ACTIONS), field=st.sampled_from(
    ["value", "container", "channel", "message", "view", "trigger_id", "response_url", "team", "extra"]),
    garbage=JSON_VALUES)
async def test_clicks_with_garbage_fields(bot: Bot, lead: dict[str, Any], caplog: pytest.LogCaptureFixture,
                                          action_id: str, field: str, garbage: Any) -> None:
    """A stranger's click on each of our buttons, with one field replaced by arbitrary JSON."""
    payload = click_payload(action_id, f"{lead['assignment_id']}:L-1", STRANGER)
    payload["response_url"] = bot.slack.response_url("fuzz")
    if field == "value":
        payload["actions"][0]["value"] = garbage
    else:
        payload[field] = garbage
    before = await bot.state()
    body = urlencode({"payload": json.dumps(payload)})
    reply = await bot.post((body, {"Content-Type": sr.FORM, **sr.sign(SECRET, body)}))
    assert reply.status < 500, (action_id, field, garbage, reply.text)
    await settle(bot)
    assert errors_logged(caplog) == [], (action_id, field, garbage)
    assert await bot.state() == before, (action_id, field, garbage)
    assert all(r.get("text") != SOMETHING_WENT_WRONG for r in bot.slack.responses)


@FUZZ
@given(callback=st.sampled_from(["calibrate_modal", "away_modal"]), values=JSON_VALUES,
       metadata=TEXT | st.just('{"member": "U01ALICE", "queue": "us-east"}'))
async def test_modal_submissions_with_garbage_state(bot: Bot, caplog: pytest.LogCaptureFixture,
                                                    callback: str, values: Any, metadata: str) -> None:
    """A stranger submits our modals with arbitrary JSON as the form's state."""
    signed = sr.view_submission(SECRET, callback, {}, user_id=STRANGER, private_metadata=metadata)
    payload = json.loads(parse_qs(signed[0])["payload"][0])
    payload["view"]["state"] = {"values": values}
    before = await bot.state()
    body = urlencode({"payload": json.dumps(payload)})
    reply = await bot.post((body, {"Content-Type": sr.FORM, **sr.sign(SECRET, body)}))
    assert reply.status < 500, (callback, values, reply.text)
    assert SOMETHING_WENT_WRONG not in reply.text
    await settle(bot)
    assert errors_logged(caplog) == []
    assert await bot.state() == before


@FUZZ
@given(fields=st.dictionaries(TEXT, TEXT, max_size=6) | st.builds(
    lambda extra: {"command": "/rotation", "user_id": STRANGER, **extra},
    st.dictionaries(TEXT, TEXT, max_size=4)))
async def test_arbitrary_form_bodies(bot: Bot, caplog: pytest.LogCaptureFixture,
                                     fields: dict[str, str]) -> None:
    """Any signed form, a slash command's fields among arbitrary ones."""
    before = await bot.state()
    body = urlencode(fields)
    reply = await bot.post((body, {"Content-Type": sr.FORM, **sr.sign(SECRET, body)}))
    assert reply.status < 500, (fields, reply.text)
    await settle(bot)
    assert errors_logged(caplog) == []
    assert await bot.state() == before


@FUZZ
@given(envelope=JSON_VALUES, event=JSON_VALUES, kind=st.sampled_from(
    ["event_callback", "url_verification", "app_home_opened", "user_change", None]))
async def test_arbitrary_json_bodies(bot: Bot, caplog: pytest.LogCaptureFixture, envelope: Any, event: Any,
                                     kind: str | None) -> None:
    """Any signed JSON body, and Events API envelopes around arbitrary events (from strangers)."""
    if kind in ("app_home_opened", "user_change"):
        inner = event if isinstance(event, dict) else {"garbage": event}
        body_value: Any = {"type": "event_callback", "event_id": json.dumps(event)[:200],
                           "event": {**inner, "type": kind, "user": {"id": STRANGER, "profile": event}
                                     if kind == "user_change" else STRANGER}}
    elif kind is not None and isinstance(envelope, dict):
        body_value = {**envelope, "type": kind}
    else:
        body_value = envelope
    before = await bot.state()
    body = json.dumps(body_value)
    reply = await bot.post((body, {"Content-Type": "application/json", **sr.sign(SECRET, body)}))
    assert reply.status < 500, (body, reply.text)
    await settle(bot)
    assert errors_logged(caplog) == []
    assert await bot.state() == before


async def settle(bot: Bot) -> None:
    """Let listeners that run after the ack finish: a read of the database queues behind them."""
    await bot.service.admin.queue_names()

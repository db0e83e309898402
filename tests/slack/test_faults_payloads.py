"""Attacks with correctly signed but malformed bodies on POST /slack/events.

Anyone holding a request Slack signed, or a bug in a client, can send these; each gets the
right 4xx in words (or 200 for a well-formed Slack payload the app ignores), never a 500,
and nothing is changed: no member, seat, leave, audit entry or message.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, quote, urlencode

import pytest
from slack_harness import SECRET, Bot, sr
from sqlalchemy import select

from bot.store.models import SlackEvent

JSON = "application/json"


def signed(body: bytes, content_type: str = sr.FORM) -> tuple[bytes, dict[str, str]]:
    return body, {"Content-Type": content_type, **sr.sign(SECRET, body)}


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def click(**overrides: object) -> dict[str, object]:
    """A real Accept click's payload, with some fields replaced."""
    body, _ = sr.block_action(SECRET, "lead_accept", "1:L-1")
    payload: dict[str, object] = json.loads(parse_qs(body)["payload"][0])
    payload.update(overrides)
    return payload


NESTED = "[" * 5000 + "]" * 5000
DEEPER_THAN_PYTHON = "[" * 150_000 + "]" * 150_000  # 900 KB encoded: under the 1 MiB body limit

MALFORMED = {
    "payload is not JSON": (form(payload="{not json"), sr.FORM, "not JSON"),
    "payload is a list": (form(payload="[]"), sr.FORM, "not an object"),
    "payload is null": (form(payload="null"), sr.FORM, "not an object"),
    "payload is a number": (form(payload="1e999"), sr.FORM, "not an object"),
    "payload without a type": (form(payload=json.dumps({"user": {"id": "U01ALICE"}})), sr.FORM, "no `type`"),
    "block_actions without actions": (
        form(payload=json.dumps(click(actions=[]))), sr.FORM, "without actions"),
    "block_actions with actions missing": (
        form(payload=json.dumps({k: v for k, v in click().items() if k != "actions"})), sr.FORM,
        "without actions"),
    "actions that are not objects": (
        form(payload=json.dumps(click(actions=[1, "lead_accept", None]))), sr.FORM, "not an object"),
    "an action without an action_id": (
        form(payload=json.dumps(click(actions=[{"value": "1:L-1"}]))), sr.FORM, "action_id"),
    "an action value that is a list": (
        form(payload=json.dumps(click(actions=[{"action_id": "lead_accept", "value": ["1:L-1"]}]))),
        sr.FORM, "`value` is not a string"),
    "a click by nobody": (form(payload=json.dumps(click(user=None))), sr.FORM, "who acted"),
    "a click by a user id that is not one": (
        form(payload=json.dumps(click(user={"id": "U01ALICE\n"}))), sr.FORM, "who acted"),
    "a container that is a list": (form(payload=json.dumps(click(container=[]))), sr.FORM, "not an object"),
    "a view_submission without a view": (
        form(payload=json.dumps({"type": "view_submission", "user": {"id": "U01ALICE"}})), sr.FORM,
        "without its view"),
    "two payload fields": (
        b"payload=" + quote(json.dumps(click())).encode()
        + b"&payload=" + quote(json.dumps(click())).encode(), sr.FORM, "given twice"),
    "payload nested 5000 deep": (form(payload=NESTED), sr.FORM, "nested"),
    "payload object nested 5000 deep": (
        form(payload=json.dumps(click(extra=None)).replace("null", NESTED)), sr.FORM, "nested"),
    "payload nested deeper than Python recurses": (
        form(payload=DEEPER_THAN_PYTHON), sr.FORM, "nested too deeply"),
    "payload that is not UTF-8": (b"payload=%FF%FE" + quote(json.dumps(click())).encode(), sr.FORM,
                                  "neither JSON nor a form"),
    "a form body that is not UTF-8": (b"command=%2Frotation&user_id=U01ALICE&text=\xff\xfe", sr.FORM,
                                      "not UTF-8"),
    "a slash command by nobody": (form(command="/rotation", text="pause"), sr.FORM, "who typed it"),
    "a slash command with nowhere to answer": (form(command="/rotation", user_id="U01ALICE", text="pause"),
                                               sr.FORM, "response_url"),
    "a click answered at a file path": (form(payload=json.dumps(click(response_url="file:///etc/passwd"))),
                                        sr.FORM, "not a web address"),
    "a slash command field given twice": (
        form(command="/rotation", user_id="U01ALICE", text="status") + b"&text=pause", sr.FORM,
        "given twice"),
    "events body that is not JSON": (b'{"type": "event_callback",', JSON, "not JSON"),
    "events body that is a list": (b'[{"type": "event_callback"}]', JSON, "not an object"),
    "events body without a type": (b'{"event": {"type": "app_home_opened"}}', JSON, "no `type`"),
    "events body nested 5000 deep": (('{"type": "event_callback", "x": ' + NESTED + "}").encode(), JSON,
                                     "nested"),
    "events body that is not UTF-8": (b'{"type": "event_callback", "x": "\xc3\x28"}', JSON, "not UTF-8"),
    "events body with a key given twice": (b'{"type": "x", "type": "event_callback"}', JSON, "twice"),
    "url_verification without a challenge": (b'{"type": "url_verification"}', JSON, "challenge"),
    "url_verification with a numeric challenge": (b'{"type": "url_verification", "challenge": 7}', JSON,
                                                  "challenge"),
    "url_verification with a challenge of 100 KB, to be echoed": (
        b'{"type": "url_verification", "challenge": "' + b"A" * 100_000 + b'"}', JSON, "challenge"),
    "event_callback without an event": (b'{"type": "event_callback", "event_id": "Ev1"}', JSON,
                                        "without an event"),
    "event_callback whose event is a string": (
        b'{"type": "event_callback", "event_id": "Ev1", "event": "app_home_opened"}', JSON,
        "without an event"),
    "an event_id that is a number": (
        b'{"type": "event_callback", "event_id": 7, "event": {"type": "app_home_opened"}}', JSON,
        "not a string"),
    "authorizations that are not objects": (
        b'{"type": "event_callback", "event": {"type": "x"}, "authorizations": [1]}', JSON, "authorizations"),
    "an empty body": (b"", sr.FORM, "empty"),
    "a form with a bare word": (b"hello", sr.FORM, "neither JSON nor a form"),
}


@pytest.mark.parametrize("attack", list(MALFORMED))
async def test_malformed_signed_body_is_400_and_changes_nothing(bot: Bot, attack: str) -> None:
    """One malformed body per case above, correctly signed."""
    body, content_type, words = MALFORMED[attack]
    before = await bot.state()
    reply = await bot.post_raw(*signed(body, content_type))
    assert reply.status == 400, (attack, reply.status, reply.text)
    error = reply.json()["error"]
    assert error.startswith("Slack's request could not be read") and words in error, (attack, error)
    assert await bot.state() == before
    assert bot.slack.calls == [] and bot.slack.responses == []


IGNORED = {
    "an unknown action": form(payload=json.dumps(click(actions=[{"action_id": "no_such_button"}]))),
    "a global shortcut": form(payload=json.dumps({"type": "shortcut", "callback_id": "x",
                                                  "user": {"id": "U01ALICE"}, "trigger_id": "1.2.3"})),
    "a view_closed": form(payload=json.dumps({"type": "view_closed", "user": {"id": "U01ALICE"},
                                              "view": {"id": "V1", "callback_id": "calibrate_modal"}})),
    "an event nobody listens to": json.dumps({
        "type": "event_callback", "event_id": "Ev9",
        "event": {"type": "reaction_added", "user": "U01ALICE"}}).encode(),
    "a type Slack may add one day": json.dumps({
        "type": "app_rate_limited", "minute_rate_limited": 1}).encode(),
    "another slash command": form(command="/other", user_id="U01ALICE", text="pause",
                                  response_url=sr.DEFAULT_RESPONSE_URL),
}


@pytest.mark.parametrize("payload", list(IGNORED))
async def test_well_formed_payload_nobody_handles_is_200(bot: Bot, payload: str) -> None:
    """A Slack payload the app has no listener for: 200 (Slack retries refused events), nothing done."""
    body = IGNORED[payload]
    before = await bot.state()
    reply = await bot.post_raw(*signed(body, JSON if body.startswith(b"{") else sr.FORM))
    assert reply.status == 200, (payload, reply.text)
    assert await bot.state() == before
    assert bot.slack.responses == [] and bot.slack.calls_to("chat.postMessage") == []


async def test_url_verification_still_answers_its_challenge(bot: Bot) -> None:
    """The handshake itself keeps working behind the gate."""
    reply = await bot.post(sr.url_verification(SECRET, "abc123"))
    assert reply.status == 200 and reply.json() == {"challenge": "abc123"}


async def test_command_text_with_the_word_payload_is_answered(bot: Bot) -> None:
    """Bolt read any form containing "payload" as an interaction and dropped the command."""
    answer = await bot.command("pause payload day")
    assert "paused" in answer
    status = await bot.service.availability.member_status("U01ALICE")
    assert status.state == "paused" and status.reason == "payload day"


async def test_event_id_over_100_characters_is_handled_once(backend_bot: Bot) -> None:
    """An event_id longer than the key column (PostgreSQL refused it: a 500), delivered twice."""
    bot = backend_bot
    event = {"type": "app_home_opened", "user": "U01ALICE", "channel": "DU01ALICE", "tab": "home",
             "event_ts": "1700000000.000100"}
    long_id = "Ev" + "X" * 300
    for retry in (None, 1):
        reply = await bot.post(sr.event_callback(SECRET, event, event_id=long_id, retry_num=retry))
        assert reply.status == 200, reply.text
    other = await bot.post(sr.event_callback(SECRET, event, event_id="Ev" + "X" * 299 + "Y"))
    assert other.status == 200
    async with bot.service.db.transaction() as connection:
        stored = (await connection.execute(select(SlackEvent.event_id))).scalars().all()
    assert len(stored) == 2 and all(len(key) <= 100 for key in stored)
    published = await bot.slack.wait_for("views.publish", 2)  # the redelivery never reached a listener
    assert len(published) == 2 and all(call.body["user_id"] == "U01ALICE" for call in published)


async def test_bolt_logs_a_payload_nobody_handles_in_one_bounded_line(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """A signed click on a button we never made, its id 100 KB long with a forged log line in it."""
    caplog.set_level(logging.DEBUG)
    forged = "x" * 100_000 + "\n2026-01-01 CRITICAL FAKE LOG LINE"
    reply = await bot.post_raw(*signed(form(payload=json.dumps(click(actions=[{"action_id": forged}])))))
    assert reply.status == 200
    ours = [r for r in caplog.records if r.name.startswith(("bot", "slack_bolt"))]
    assert ours and all(len(r.getMessage()) <= 300 and "\n" not in r.getMessage() for r in ours)
    assert not any("FAKE LOG LINE" in r.getMessage() for r in ours)

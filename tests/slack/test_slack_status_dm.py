"""The status-pause DM: rendered from the outbox, and its "Keep receiving leads" button."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from slack_harness import SECRET, Bot, sr

from bot.slack.messages import render
from bot.slack.status_view import VALUE_LIMIT, keep_value, read_keep_value

VACATION = {"status_text": "Vacationing", "status_emoji": ":palm_tree:"}


async def status_dm(bot: Bot, user: str = "U01ALICE", expires: int = 0) -> dict[str, Any]:
    """Set an away status by a user_change event; return the DM row the core owes."""
    event = sr.user_change_event(user, status_expiration=expires, **VACATION)
    assert (await bot.post(sr.event_callback(SECRET, event, event_id=f"Ev{user}{expires}"))).status == 200
    for _ in range(500):
        owed = [p for kind, p in await bot.outbox() if kind == "dm" and p["event"] == "status_paused"]
        if owed:
            return owed[-1]
        await asyncio.sleep(0.01)
    raise AssertionError("no status_paused DM in the outbox")


def keep_button(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    [actions] = [b for b in blocks if b["type"] == "actions"]
    [button] = actions["elements"]
    return button


async def click_keep(bot: Bot, value: str, user: str = "U01ALICE", name: str = "k") -> None:
    reply = await bot.post(sr.block_action(
        SECRET, "status_keep_leads", value, user_id=user, channel_id=f"D{user}",
        message={"ts": "1700000000.000300", "text": "paused"}, response_url=bot.slack.response_url(name),
        block_id="status_actions"))
    assert reply.status == 200


async def test_status_pause_dm_renders_and_keep_button_resumes(bot: Bot) -> None:
    expires = int(time.time()) + 3 * 86400
    payload = await status_dm(bot, expires=expires)
    assert (await bot.service.availability.member_status("U01ALICE")).state.startswith("away")
    await bot.runtime.deliver("dm", payload)
    [sent] = bot.slack.calls_to("chat.postMessage")
    assert sent.body["channel"] == "U01ALICE" and "paused" in sent.body["text"]
    text = str(sent.body["blocks"])
    assert ":palm_tree: Vacationing" in text and f"<!date^{expires}^" in text
    button = keep_button(sent.body["blocks"])
    assert button["action_id"] == "status_keep_leads" and button["text"]["text"] == "Keep receiving leads"
    assert json.loads(button["value"]) == {"u": "U01ALICE", "t": "Vacationing", "e": ":palm_tree:"}

    await click_keep(bot, button["value"])
    [update] = await bot.slack.wait_for("chat.update")
    assert update.body["channel"] == "DU01ALICE" and update.body["ts"] == "1700000000.000300"
    assert "keep receiving leads" in update.body["text"]
    assert "Leads keep coming" in str(update.body["blocks"])
    assert not any(b["type"] == "actions" for b in update.body["blocks"])
    assert (await bot.service.availability.member_status("U01ALICE")).state == "active"


async def test_keep_button_is_only_for_the_member(bot: Bot) -> None:
    payload = await status_dm(bot)
    button = keep_button(render("dm", payload)["blocks"])
    await click_keep(bot, button["value"], user="U02BOB")
    [answer] = await bot.slack.wait_for_responses()
    assert "only they can" in answer["text"] and "<@U01ALICE>" in answer["text"]
    assert answer["response_type"] == "ephemeral"
    assert bot.slack.calls_to("chat.update") == []
    assert (await bot.service.availability.member_status("U01ALICE")).state.startswith("away")


async def test_keep_button_with_a_broken_value_or_a_stranger(bot: Bot) -> None:
    await click_keep(bot, "not json")
    await click_keep(bot, keep_value("U99STRANGER", "OOO", ""), user="U99STRANGER", name="s")
    answers = [answer["text"] for answer in await bot.slack.wait_for_responses(2)]  # in either order
    broken, stranger = (next(t for t in answers if "no longer works" in t),
                        next(t for t in answers if "not in the lead rotation" in t))
    assert broken != stranger
    assert bot.slack.calls_to("chat.update") == []


def test_render_status_paused_without_expiry_and_member_notes() -> None:
    message = render("dm", {"event": "status_paused", "to": "U01ALICE", "status_text": "OOO <back soon>",
                            "status_emoji": "", "until": None, "text": "You're paused."})
    assert message["channel"] == "U01ALICE" and message["text"] == "You're paused."
    head = message["blocks"][0]["text"]["text"]
    assert "OOO &lt;back soon&gt;" in head and "until you clear it" in head
    note = {"event": "member_note", "to": "U01ALICE", "text": "Your calendar feed <x> failed"}
    assert render("dm", note) == {"channel": "U01ALICE", "blocks": None,
                                  "text": "Your calendar feed &lt;x&gt; failed"}
    assert render("channel", {**note, "channel": "C0EMEA"})["channel"] == "C0EMEA"


def test_keep_value_fits_slacks_limit() -> None:
    value = keep_value("U01ALICE", "ü" * 5000, ":x:" * 100)
    assert len(value) <= VALUE_LIMIT
    user, text, emoji = read_keep_value(value) or ("", "", "")
    assert user == "U01ALICE" and text == "ü" * 300 and emoji.startswith(":x:")
    assert read_keep_value('["U1"]') is None and read_keep_value('{"u": 5}') is None

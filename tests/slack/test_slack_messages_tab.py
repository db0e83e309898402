"""The Messages tab: someone writes to the bot, or opens the tab, and the bot answers briefly."""

from __future__ import annotations

from typing import Any

from slack_harness import SECRET, Bot, sr

from bot.slack import replies


def dm(text: str, user: str = "U01ALICE", **more: Any) -> dict[str, Any]:
    return {"type": "message", "channel": f"D{user}", "channel_type": "im", "user": user, "text": text,
            "ts": "1700000000.000200", "event_ts": "1700000000.000200", **more}


async def send(bot: Bot, event: dict[str, Any], event_id: str, retry_num: int | None = None) -> None:
    reply = await bot.post(sr.event_callback(SECRET, event, event_id=event_id, retry_num=retry_num))
    assert reply.status == 200


async def answers(bot: Bot, count: int) -> list[dict[str, Any]]:
    return [call.body for call in await bot.slack.wait_for("chat.postMessage", count)]


async def test_a_message_gets_a_short_answer_of_what_the_bot_does(bot: Bot) -> None:
    await send(bot, dm("hello? is this thing on"), "EvDm1")
    [answer] = await answers(bot, 1)
    assert answer["channel"] == "DU01ALICE"
    assert "lead rotation" in answer["text"] and "`/rotation status`" in answer["text"]
    assert "`/rotation help`" in answer["text"] and answer["text"] != replies.HELP
    assert len(answer["text"]) < 1000


async def test_a_command_word_is_pointed_to_its_slash_command(bot: Bot) -> None:
    await send(bot, dm("status"), "EvDm2")
    await send(bot, dm("paus until friday", user="U02BOB"), "EvDm3")
    found = {a["channel"]: a["text"] for a in await answers(bot, 2)}
    assert "`/rotation status`" in found["DU01ALICE"]
    assert "`/rotation pause until friday`" in found["DU02BOB"]
    assert (await bot.service.availability.member_status("U02BOB")).state == "active"  # only words


async def test_the_bot_answers_people_only_and_each_message_once(bot: Bot) -> None:
    await send(bot, dm("I am the bot", bot_id="BBOT"), "EvBot")
    await send(bot, dm("edited", subtype="message_changed"), "EvEdit")
    await send(bot, dm("in a thread", thread_ts="1700000000.000100"), "EvThread")
    await send(bot, {**dm("in a channel"), "channel_type": "channel", "channel": "C0GENERAL"}, "EvChan")
    await send(bot, dm("hi"), "EvOnce")
    await send(bot, dm("hi"), "EvOnce", retry_num=1)  # Slack's redelivery of the same event
    await send(bot, dm("hi again", user="U02BOB"), "EvLast")
    posted = await answers(bot, 2)
    assert sorted(a["channel"] for a in posted) == ["DU01ALICE", "DU02BOB"]
    assert len(bot.slack.calls_to("chat.postMessage")) == 2


async def test_opening_an_empty_messages_tab_greets_once_slack_says_it_is_empty(bot: Bot) -> None:
    opened = {"type": "app_home_opened", "user": "U01ALICE", "channel": "DU01ALICE", "tab": "messages",
              "event_ts": "1700000000.000100"}
    await send(bot, opened, "EvTab1")
    [greeting] = await answers(bot, 1)
    assert greeting["channel"] == "DU01ALICE" and "`/rotation help`" in greeting["text"]
    [asked] = bot.slack.calls_to("conversations.history")
    assert asked.body["channel"] == "DU01ALICE"
    assert bot.slack.calls_to("views.publish") == []  # the Messages tab is not the Home tab
    bot.slack.fail_next("conversations.history", status=200, error="missing_scope")
    await send(bot, {**opened, "user": "U02BOB", "channel": "DU02BOB"}, "EvTab2")
    await bot.slack.wait_for("conversations.history", 2)
    await send(bot, dm("hi", user="U03CAROL"), "EvTab3")  # one more answer, to know Bob's was not one
    posted = await answers(bot, 2)
    assert [a["channel"] for a in posted] == ["DU01ALICE", "DU03CAROL"]

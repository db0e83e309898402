"""The Slack profile's timezone fills a member's empty one (user_change, App Home), and `status` shows it."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_harness import SECRET, Bot, sr
from sqlalchemy import select, update

from bot.store.models import Member


async def stored_tz(bot: Bot, slack_id: str) -> str | None:
    async with bot.service.db.transaction() as connection:
        return (await connection.execute(select(Member.timezone).where(Member.slack_id == slack_id))).scalar()


async def clear_tz(bot: Bot, slack_id: str) -> None:
    async with bot.service.db.transaction() as connection:
        await connection.execute(update(Member).where(Member.slack_id == slack_id).values(timezone=None))


async def settle(bot: Bot, slack_id: str, want: str | None) -> str | None:
    for _ in range(300):
        found = await stored_tz(bot, slack_id)
        if found == want:
            return found
        await asyncio.sleep(0.01)
    return await stored_tz(bot, slack_id)


async def open_home(bot: Bot, user: str, event_id: str) -> dict[str, Any]:
    count = len(bot.slack.calls_to("views.publish")) + 1
    event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"}
    assert (await bot.post(sr.event_callback(SECRET, event, event_id=event_id))).status == 200
    *_, call = await bot.slack.wait_for("views.publish", count)
    return call.body["view"]


async def test_user_change_fills_an_empty_timezone_only(bot: Bot) -> None:
    await clear_tz(bot, "U02BOB")
    event = sr.user_change_event("U02BOB", tz="Europe/Lisbon")
    await bot.post(sr.event_callback(SECRET, event, event_id="EvTz1"))
    assert await settle(bot, "U02BOB", "Europe/Lisbon") == "Europe/Lisbon"
    moved = sr.user_change_event("U02BOB", tz="Asia/Tokyo")
    await bot.post(sr.event_callback(SECRET, moved, event_id="EvTz2"))
    await bot.post(sr.event_callback(SECRET, sr.user_change_event("U01ALICE", tz="Asia/Tokyo"),
                                     event_id="EvTz3"))
    await asyncio.sleep(0.2)
    assert await stored_tz(bot, "U02BOB") == "Europe/Lisbon"  # set once, not overridden
    assert await stored_tz(bot, "U01ALICE") == "America/New_York"  # the config's wins


async def test_user_change_with_a_bad_or_missing_tz_or_a_stranger(bot: Bot) -> None:
    await clear_tz(bot, "U02BOB")
    for n, (user, tz) in enumerate([("U02BOB", "Not/AZone"), ("U02BOB", None), ("U99STRANGER", "UTC")]):
        event = sr.user_change_event(user, tz=tz)
        assert (await bot.post(sr.event_callback(SECRET, event, event_id=f"EvBad{n}"))).status == 200
    await asyncio.sleep(0.2)
    assert await stored_tz(bot, "U02BOB") is None
    assert "America/New_York" in await bot.command("status", user="U02BOB")  # the team's


async def test_app_home_takes_the_timezone_from_users_info(bot: Bot) -> None:
    await clear_tz(bot, "U03CAROL")
    bot.slack.set_user("U03CAROL", tz="Europe/Paris")
    view = await open_home(bot, "U03CAROL", "EvHome1")
    assert await stored_tz(bot, "U03CAROL") == "Europe/Paris"
    [info] = bot.slack.calls_to("users.info")
    assert info.body["user"] == "U03CAROL"
    assert "Europe/Paris" in str(view["blocks"])  # set before the Home was built


async def test_app_home_opens_when_users_info_fails_or_for_strangers(bot: Bot) -> None:
    await clear_tz(bot, "U03CAROL")
    bot.slack.fail_next("users.info", status=200, error="user_not_found")
    await open_home(bot, "U03CAROL", "EvHome2")
    assert await stored_tz(bot, "U03CAROL") is None
    bot.slack.set_user("U99STRANGER", tz="Asia/Tokyo")
    view = await open_home(bot, "U99STRANGER", "EvHome3")
    assert "not in the lead rotation" in str(view["blocks"])


async def test_status_shows_timezone(bot: Bot) -> None:
    answer = await bot.command("status")
    assert "Your timezone: America/New_York (it's " in answer
    assert len(answer.splitlines()) < 12

"""Commands as people type them: typos, pauses in days and weekdays, and the config's manager group.

The clock is fixed on Wednesday 2030-01-09 at 15:00 UTC: 10:00 in New York (Alice), already
Thursday 00:00 in Tokyo (Kenji), so "a day" is counted in each member's own timezone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from slack_harness import EXAMPLE, MANAGER, SECRET, Bot, sr

from bot.config.routing import load_file
from bot.routing.clock import ManualClock
from bot.slack import replies

NOW = datetime(2030, 1, 9, 15, 0, tzinfo=UTC)  # a Wednesday
NEW_YORK, TOKYO = ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")


@pytest.fixture(autouse=True)
def fixed_clock(bot: Bot) -> None:
    bot.service.clock = ManualClock(NOW)


def back_at(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


async def pause_end(bot: Bot, member: str = "U01ALICE") -> tuple[str, datetime | None, str | None]:
    status = await bot.service.availability.member_status(member)
    until = status.paused_until
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    return status.state, until, status.reason


# -- typos --------------------------------------------------------------------------------


TYPOS = [("paus", "pause"), ("stauts", "status"), ("hlep", "help"), ("resum", "resume"),
         ("calibrat", "calibrate"), ("PAUZE", "pause")]


@pytest.mark.parametrize(("typed", "meant"), TYPOS)
async def test_a_typo_gets_did_you_mean(bot: Bot, typed: str, meant: str) -> None:
    before = await bot.state()
    answer = await bot.command(f"{typed} until friday")
    assert f"Did you mean `/rotation {meant}`?" in answer
    assert replies.HELP not in answer and len(answer) < 300
    assert await bot.state() == before  # a typo is never run as its guess


async def test_a_word_like_no_command_gets_the_usual_few(bot: Bot) -> None:
    answer = await bot.command("xylophone")
    assert "I don't know `xylophone`" in answer and "Did you mean" not in answer
    assert "`/rotation status`" in answer and "`/rotation help`" in answer
    assert replies.HELP not in answer


# -- pauses in the words people use -------------------------------------------------------


@pytest.mark.parametrize(("words", "back", "reason"), [
    ("pause 2 days", date(2030, 1, 11), None),
    ("pause 2days", date(2030, 1, 11), None),
    ("pause 3d conference", date(2030, 1, 12), "conference"),
    ("pause for two days", date(2030, 1, 11), None),
    ("pause a week", date(2030, 1, 16), None),
    ("pause 2 weeks parental leave", date(2030, 1, 23), "parental leave"),
    ("pause until friday", date(2030, 1, 11), None),
    ("pause until Fri offsite", date(2030, 1, 11), "offsite"),
    ("pause until wednesday", date(2030, 1, 16), None),  # today is one: the coming one
    ("pause until tomorrow dentist", date(2030, 1, 10), "dentist"),
    ("pause until next week", date(2030, 1, 14), None),  # Monday
    ("pause until 2030-02-01 trip", date(2030, 2, 1), "trip"),
    ("pause 2030-02-01", date(2030, 2, 1), None),
])
async def test_pause_means_what_it_says(bot: Bot, words: str, back: date, reason: str | None) -> None:
    answer = await bot.command(words)
    assert "paused until" in answer and back.strftime("%a %b %-d") in answer, answer
    state, until, why = await pause_end(bot)
    assert state == "paused" and until == back_at(back, NEW_YORK) and why == reason


async def test_days_are_counted_in_the_members_own_timezone(bot: Bot) -> None:
    await bot.command("pause 1 day", user="U11KENJI")  # already Thursday in Tokyo
    assert (await pause_end(bot, "U11KENJI"))[1] == back_at(date(2030, 1, 11), TOKYO)
    await bot.command("pause until tomorrow", user="U01ALICE")  # still Wednesday in New York
    assert (await pause_end(bot))[1] == back_at(date(2030, 1, 10), NEW_YORK)


async def test_a_manager_pauses_a_member_for_days(bot: Bot) -> None:
    answer = await bot.command("pause <@U02BOB|bob> 3 days family", user=MANAGER)
    assert answer.startswith("For <@U02BOB>: ") and "paused until" in answer
    assert await pause_end(bot, "U02BOB") == ("paused", back_at(date(2030, 1, 12), NEW_YORK), "family")


@pytest.mark.parametrize(("words", "says"), [
    ("pause 3h", "A pause ends when a day begins"),
    ("pause 90 minutes lunch", "A pause ends when a day begins"),
    ("pause an hour", "A pause ends when a day begins"),
    ("pause until 3pm", "A pause ends when a day begins"),
    ("pause until 15:30", "A pause ends when a day begins"),
    ("pause 2 months", "Months differ in length"),
    ("pause until next friday", "could mean two different days"),
    ("pause until today", "Today has begun already"),
    ("pause until someday", "`someday` is not a date I can read"),
    ("pause 0 days", "no time at all"),
    ("pause 99999d", "more than ten years"),
    ("pause until", "Pause until when?"),
    ("pause until 2030-1-5", "is not a date"),
    # found from outside: each paused with the words as the reason, until resumed
    ("pause untill 2030-02-01", "Did you mean `until`?"),
    ("pause 99999999999999999999 days", "is not a whole number of days"),
    ("pause 1.5 days", "is not a whole number of days"),
    ("pause 2.5d", "is not a whole number of days"),
])
async def test_pauses_that_cant_be_kept_are_refused_in_words(bot: Bot, words: str, says: str) -> None:
    before = await bot.state()
    answer = await bot.command(words)
    assert says in answer and "nothing was changed" in answer.lower(), answer
    assert await bot.state() == before


@pytest.mark.parametrize(("words", "reason"), [
    ("pause", None),
    ("pause USA trip", "USA trip"),
    ("pause 2 people shadowing me", "2 people shadowing me"),
    ("pause for the offsite", "for the offsite"),
    ("pause a while", "a while"),
])
async def test_other_words_stay_a_reason_with_no_end(bot: Bot, words: str, reason: str | None) -> None:
    answer = await bot.command(words)
    assert "until you `/rotation resume`" in answer
    assert await pause_end(bot) == ("paused", None, reason)


# -- manager_group in the routing config ----------------------------------------------------


async def test_the_configs_manager_group_opens_a_managers_surfaces(bot: Bot) -> None:
    """Members of the config's `manager_group` (and no one else) get the team on App Home and
    every queue from `who`; a group Slack cannot list makes no managers and breaks nothing."""
    config = load_file(EXAMPLE).model_copy(update={"manager_group": "S0SALESLEADS"})
    await bot.service.admin.apply_config(config)
    bot.slack.set_usergroup("S0SALESLEADS", ["U02BOB", "U0LEADONLY"])
    home = await open_home(bot, "U02BOB")
    assert "Team standings" in str(home["blocks"])
    assert "Team standings" not in str((await open_home(bot, "U03CAROL"))["blocks"])
    everything = await bot.command("who", user="U0LEADONLY")  # a lead who is no rep: every queue
    assert "*emea*" in everything and "*us-east*" in everything
    assert "for members of the rotation and managers" in await bot.command("who", user="U0OUTSIDER")
    bot.slack.fail_next("usergroups.users.list", status=200, error="no_such_subteam")
    assert "for members of the rotation and managers" in await bot.command("who", user="U0LEADONLY")


async def open_home(bot: Bot, user: str) -> dict[str, object]:
    before = len(bot.slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home",
             "event_ts": "1700000000.000100"}
    assert (await bot.post(sr.event_callback(SECRET, event, event_id=f"Ev{user}{before}"))).status == 200
    return dict((await bot.slack.wait_for("views.publish", before + 1))[before].body["view"])

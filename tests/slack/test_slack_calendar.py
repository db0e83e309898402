"""`/rotation calendar`: register, show (host only), remove, and refuse what isn't a feed."""

from __future__ import annotations

import pytest
from slack_harness import Bot

from bot.slack.calendar_command import check_url, unwrap

FEED = "https://calendar.example.com/private-abc123/basic.ics?x=1&y=2"


async def feed_of(bot: Bot, user: str = "U01ALICE") -> str | None:
    return dict(await bot.service.calendars()).get(user)


async def test_register_show_and_remove_a_feed(bot: Bot) -> None:
    assert "no calendar feed" in await bot.command("calendar")
    answer = await bot.command("calendar <https://calendar.example.com/private-abc123/basic.ics?x=1&amp;y=2>")
    assert "calendar.example.com" in answer and "saved" in answer
    assert "private-abc123" not in answer
    assert await feed_of(bot) == FEED
    shown = await bot.command("calendar")
    assert "calendar.example.com" in shown and "private-abc123" not in shown
    assert "removed" in await bot.command("calendar off")
    assert await feed_of(bot) is None
    assert "nothing was changed" in await bot.command("calendar off")


async def test_labelled_and_webcal_links(bot: Bot) -> None:
    await bot.command("calendar <webcal://p01.example.com/cal.ics|My work cal>")
    assert await feed_of(bot) == "webcal://p01.example.com/cal.ics"


@pytest.mark.parametrize("text", [
    "calendar ftp://example.com/cal.ics", "calendar not-a-url", "calendar <mailto:a@b.c|a@b.c>",
    "calendar https://", "calendar https://ex ample.com/x.ics", "calendar http://example.com:99999/x",
])
async def test_bad_urls_change_nothing(bot: Bot, text: str) -> None:
    await bot.command(f"calendar {'https://keep.example.com/a.ics'}")
    answer = await bot.command(text)
    assert "Nothing was changed" in answer and "/rotation calendar" in answer
    assert await feed_of(bot) == "https://keep.example.com/a.ics"


async def test_calendar_for_someone_outside_the_rotation(bot: Bot) -> None:
    assert "not in the lead rotation" in await bot.command("calendar https://x.example.com/a.ics",
                                                           user="U99STRANGER")
    assert "not in the lead rotation" in await bot.command("calendar", user="U99STRANGER")


async def test_help_mentions_calendar(bot: Bot) -> None:
    assert "/rotation calendar" in await bot.command("help")


def test_unwrap_and_check() -> None:
    assert unwrap("<https://a.example/x?a=1&amp;b=2|label with spaces>") == "https://a.example/x?a=1&b=2"
    assert unwrap(" https://a.example/x ") == "https://a.example/x"
    assert check_url("HTTPS://A.example/x.ics") == "HTTPS://A.example/x.ics"
    with pytest.raises(Exception, match="longer than"):
        check_url("https://a.example/" + "x" * 2100)

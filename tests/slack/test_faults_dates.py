"""Attack: days written in forms `date.fromisoformat` takes but nobody means by YYYY-MM-DD."""

from __future__ import annotations

import pytest
from slack_harness import Bot

LOOSE = ["20261205", "2026-W52-1", "2026-12-5", "2026-02-30", "２０２６-１２-０５"]


@pytest.mark.parametrize("day", LOOSE)
async def test_pause_until_a_day_not_written_yyyy_mm_dd_is_refused(bot: Bot, day: str) -> None:
    answer = await bot.command(f"pause until {day}")
    assert "is not a date" in answer and "YYYY-MM-DD" in answer
    status = await bot.service.availability.member_status("U01ALICE")
    assert status.state != "paused"


@pytest.mark.parametrize("day", LOOSE)
async def test_away_with_a_day_not_written_yyyy_mm_dd_is_refused(bot: Bot, day: str) -> None:
    answer = await bot.command(f"away 2026-12-20 {day}")
    assert "is not a date" in answer
    assert await bot.service.availability.leaves("U01ALICE") == []

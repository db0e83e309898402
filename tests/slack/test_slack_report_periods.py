"""`/rotation report` for a month with no report, through the real Bolt app: a month before the
team's first record and a month not started yet in the team's timezone are answered in plain
words, with no chart and no CSV and nothing changed; the current month, partly over, and a
past month of the rotation are still reports. On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from slack_harness import MANAGER, Bot, FakeSlack, example_bot
from sqlalchemy import func, select

from bot.routing.clock import ManualClock
from bot.store.models import AuditEvent

UPLOADS = ("files.getUploadURLExternal", "files.completeUploadExternal")
# 2026-11-15 in New York (the example team's timezone): the rotation begins in November.
BEGAN = datetime(2026, 11, 15, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(BEGAN)


@pytest.fixture
async def dated_bot(slack: FakeSlack, database_url: str, clock: ManualClock) -> AsyncIterator[Bot]:
    """The example team, its config first applied (its first record) at BEGAN, on both databases."""
    async with example_bot(slack, database_url, clock) as running:
        yield running


def uploaded(bot: Bot) -> list[str]:
    return [c.method for c in bot.slack.calls if c.method in UPLOADS]


async def records(bot: Bot) -> int:
    return int(await bot.service.transactions.read(
        lambda c: c.execute(select(func.count()).select_from(AuditEvent)).scalar_one()))


async def test_a_month_before_the_rotation_or_not_started_is_answered_in_words(
        dated_bot: Bot, clock: ManualClock) -> None:
    bot = dated_bot
    for n in range(3):
        await bot.service.assignment.route({"id": f"N-{n}", "country": "DE"})
    clock.set(datetime(2026, 12, 10, 15, 0, tzinfo=UTC))
    before = await records(bot)
    assert await bot.command("report 1900-01", user=MANAGER) == (
        "There is no report for January 1900: the rotation began in November 2026.")
    assert await bot.command("report 2026-10 emea", user=MANAGER) == (
        "There is no report for October 2026: the rotation began in November 2026.")
    assert await bot.command("report 2027-03", user=MANAGER) == (
        "There is no report for March 2027 yet: it has not started.")
    assert await bot.command("report 2027-01 EMEA", user=MANAGER) == (
        "There is no report for January 2027 yet: it has not started.")
    assert uploaded(bot) == [] and bot.slack.uploads == {}
    assert await records(bot) == before  # nothing changed
    # the month the rotation began and the current one, partly over, are reports
    november = await bot.command("report 2026-11 emea", user=MANAGER)
    assert "Lead rotation report, 2026-11 (emea)" in november and "*emea*: 3 leads" in november
    december = await bot.command("report 2026-12", user=MANAGER)
    assert "Lead rotation report, 2026-12" in december and "*emea*: 0 leads" in december
    await bot.slack.wait_for("files.completeUploadExternal", timeout=60)


async def test_a_month_starts_at_the_teams_midnight_not_utcs(dated_bot: Bot, clock: ManualClock) -> None:
    bot = dated_bot
    clock.set(datetime(2026, 12, 1, 4, 30, tzinfo=UTC))  # 23:30 on 30 November in New York
    assert await bot.command("report 2026-12", user=MANAGER) == (
        "There is no report for December 2026 yet: it has not started.")
    assert uploaded(bot) == []
    clock.set(datetime(2026, 12, 1, 5, 30, tzinfo=UTC))  # 00:30 on 1 December in New York
    assert "Lead rotation report, 2026-12" in await bot.command("report 2026-12", user=MANAGER)
    await bot.slack.wait_for("files.completeUploadExternal", timeout=60)


async def test_a_malformed_month_is_still_refused_for_its_form(dated_bot: Bot) -> None:
    said = await dated_bot.command("report 1900-13", user=MANAGER)
    assert "'1900-13' is not a period of this monthly team; write it like 2026-11" in said
    assert uploaded(dated_bot) == []

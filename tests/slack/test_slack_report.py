"""`/rotation report` through the real Bolt app: a manager gets the figures in blocks within
Slack's limits and the chart and CSV in their DM through the external upload flow; a rep and
a stranger are refused in words that name nothing; bad words upload nothing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import slack_limits
from PIL import Image
from slack_harness import MANAGER, Bot, FakeSlack, running_bot
from sqlalchemy import update

from bot.reports.chart import SLACK_PAGES, WIDTH_PX
from bot.routing.ledger.report import AcceptTimes, MemberFigures, PeriodReport, QueueFigures
from bot.routing.service import RoutingService
from bot.slack.report_command import MANAGERS_ONLY, report_message
from bot.store.db import Database
from bot.store.models import AuditEvent

try:  # works whether or not tests/ is a package
    from tests.fake_slack import UPLOAD_POST
except ImportError:
    from fake_slack import UPLOAD_POST  # type: ignore[no-redef]

FLOW = ("files.getUploadURLExternal", UPLOAD_POST, "files.completeUploadExternal")


async def route(bot: Bot, count: int, country: str = "DE") -> None:
    for n in range(count):
        await bot.service.assignment.route({"id": f"R-{country}-{n}", "country": country})


def within_limits(blocks: list[dict[str, Any]], text: str | None = None) -> None:
    slack_limits.check({"text": text, "blocks": blocks}, "message")
    assert 0 < len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150


def flow(bot: Bot) -> list[str]:
    return [c.method for c in bot.slack.calls if c.method in (*FLOW, "conversations.open")]


async def test_a_manager_gets_the_figures_and_the_chart_and_csv_in_their_dm(bot: Bot) -> None:
    await route(bot, 6)
    period = (await bot.service.ledger.period_report()).period
    answer = await bot.command("report", user=MANAGER)
    assert f"Lead rotation report, {period}" in answer and "*emea*: 6 leads" in answer
    assert "chart and the CSV are on their way to your DM" in answer
    await bot.slack.wait_for("files.completeUploadExternal", timeout=60)  # they follow the answer
    within_limits(bot.slack.responses[-1]["blocks"], bot.slack.responses[-1]["text"])
    # the DM is opened, then each file asks for its URL, the bytes go up, and one call shares them all
    shared = bot.slack.shared_files()
    files = len(shared)
    assert flow(bot) == ["conversations.open", *[FLOW[0]] * files, *[UPLOAD_POST] * files, FLOW[2]]
    png, pages, table = shared[0], shared[:-1], shared[-1]
    assert [f.filename for f in pages] == [f"rotation-report-{period}.png"] + [
        f"rotation-report-{period}-{n}.png" for n in range(2, files)]
    assert table.filename == f"rotation-report-{period}.csv" and table.title == f"Report figures, {period}"
    assert png.title is not None and png.title.startswith(f"Leads received and fair share, {period}")
    assert {f.channel_id for f in shared} == {f"D{MANAGER}"}
    assert png.alt_txt and "6 leads in all" in png.alt_txt
    assert png.data is not None and png.length == len(png.data)
    image = Image.open(io.BytesIO(png.data))
    assert image.format == "PNG" and image.width == WIDTH_PX
    assert len(image.convert("L").getcolors(maxcolors=1 << 20) or []) > 10  # more than a blank page
    assert table.data is not None
    rows = list(csv.DictReader(io.StringIO(table.data.decode())))
    assert sum(int(r["leads"]) for r in rows if r["queue"] == "emea") == 6
    assert {"passes", "sla_misses", "median_accept_seconds"} <= set(rows[0])


async def test_a_pass_shows_in_the_figures_on_both_databases(backend_bot: Bot) -> None:
    bot = backend_bot
    outcome = await bot.service.assignment.route({"id": "P-1", "country": "DE"})
    assert outcome.assignment_id is not None and outcome.assignee is not None
    await bot.service.assignment.pass_lead(outcome.assignment_id, actor=outcome.assignee.slack_id)
    answer = await bot.command("report emea", user=MANAGER)
    assert "*emea*: 1 lead · 1 passed · 0 missed the SLA" in answer
    assert "1 passed" in next(line for line in answer.splitlines() if outcome.assignee.name in line)
    await bot.slack.wait_for("files.completeUploadExternal", timeout=60)


async def test_one_queue_and_a_past_month_in_any_case(bot: Bot) -> None:
    await route(bot, 3)
    # a month of the rotation's: its first record (the config applied) dated back to 2025
    await bot.service.transactions.run(
        lambda c: c.execute(update(AuditEvent).values(at=datetime(2025, 1, 6, 12, tzinfo=UTC))))
    answer = await bot.command("report 2025-03 EMEA", user=MANAGER)
    assert "Lead rotation report, 2025-03 (emea)" in answer and "*emea*: 0 leads" in answer
    assert "• Grace Whitfield: 0 received" in answer  # one queue: its members are listed
    await bot.slack.wait_for("files.completeUploadExternal", timeout=60)
    [png, table] = bot.slack.shared_files()  # one queue of four: one page
    assert (png.filename, table.filename) == ("rotation-report-2025-03-emea.png",
                                              "rotation-report-2025-03-emea.csv")
    assert table.data is not None
    assert {r["queue"] for r in csv.DictReader(io.StringIO(table.data.decode()))} == {"emea"}


async def test_a_rep_and_a_stranger_are_refused_and_nothing_is_uploaded(bot: Bot) -> None:
    await route(bot, 2)
    for user in ("U01ALICE", "U99STRANGER"):
        assert await bot.command("report", user=user) == MANAGERS_ONLY
        assert await bot.command("report 2026-11 emea", user=user) == MANAGERS_ONLY
    assert "emea" not in MANAGERS_ONLY and "lead" not in MANAGERS_ONLY.lower()
    assert flow(bot) == [] and bot.slack.uploads == {}


async def test_a_bad_month_or_an_unknown_queue_is_refused_in_words_and_nothing_is_uploaded(bot: Bot) -> None:
    said = await bot.command("report 2026-13", user=MANAGER)
    assert "'2026-13' is not a period of this monthly team; write it like 2026-11" in said
    said = await bot.command("report nope", user=MANAGER)
    assert "There is no queue named `nope`, so nothing was sent" in said
    said = await bot.command("report 2026-11 2026-10", user=MANAGER)
    assert "more than one period or queue" in said
    assert flow(bot) == [] and bot.slack.uploads == {}


async def test_when_slack_refuses_the_upload_the_figures_still_come_and_the_dm_says_so(bot: Bot) -> None:
    bot.slack.fail_next("files.getUploadURLExternal", status=200, error="file_uploads_disabled")
    answer = await bot.command("report", user=MANAGER)
    assert "*emea*: 0 leads" in answer
    [told] = await bot.slack.wait_for("chat.postMessage", timeout=60)
    assert told.body["channel"] == MANAGER and "could not send the chart and the CSV" in told.body["text"]
    assert bot.slack.calls_to("files.completeUploadExternal") == []


def big_report(queues: int, members: int) -> PeriodReport:
    nothing = AcceptTimes(2, 61.0, 3600.0)
    seats = tuple(MemberFigures(f"U{m:05d}", f"Member with a long name {m}", 40, 41.5, 1.5, 2, 0.01, 0.01,
                                "1", "active", 3, 1, nothing) for m in range(members))
    return PeriodReport("2026-11", tuple(QueueFigures(f"queue-{q}", 40 * members, 3, 1, nothing, seats)
                                         for q in range(queues)))


def test_a_thousand_members_in_120_queues_stay_within_slacks_limits() -> None:
    for queues, members, queue in ((120, 1000 // 120 + 1, None), (30, 200, None), (1, 1000, "queue-0")):
        message = report_message(big_report(queues, members), queue=queue, footer="files in your DM")
        within_limits(message.blocks, message.text)
        assert len(message.text) < 40_000
        assert message.blocks[-1]["elements"][0]["text"] == "files in your DM"
    one = report_message(big_report(1, 1000), queue="queue-0")
    assert "more lines: see the CSV" in one.text  # 1,000 member lines do not fit; the CSV has them


async def test_a_report_of_200_members_in_30_queues_through_slack(slack: FakeSlack, tmp_path: Path) -> None:
    """The team of test_slack_at_size: the answer keeps Slack's limits, the upload its cap of
    pages (the queues furthest from fair share) plus the CSV with every member of every queue."""
    from test_slack_at_size import build_database, team_config

    build_database(tmp_path / "team.db", team_config(200, 30))
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'team.db'}")
    routing = RoutingService(db)
    for n in range(40):
        await routing.assignment.route({"id": f"S-{n}"})
    try:
        async with running_bot(slack, routing) as bot:
            answer = await bot.command("report", user=MANAGER)
            reply = bot.slack.responses[-1]
            within_limits(reply["blocks"], reply["text"])
            assert "40 leads in 30 queues" in answer and "Members are in the CSV" in answer
            await bot.slack.wait_for("files.completeUploadExternal", timeout=120)
            shared = bot.slack.shared_files()
            assert len(shared) == SLACK_PAGES + 1 and shared[-1].filename.endswith(".csv")
            assert shared[-1].data is not None
            rows = list(csv.DictReader(io.StringIO(shared[-1].data.decode())))
            assert len({r["queue"] for r in rows}) == 30 and sum(int(r["leads"]) for r in rows) == 40
            [done] = bot.slack.calls_to("files.completeUploadExternal")
            assert "queues furthest from fair share" in str(done.body.get("initial_comment"))
    finally:
        await db.dispose()

"""The weekly digest: Monday 09:00 in the team's timezone, once per week across replicas and
restarts, with the figures in blocks and the chart and CSV in its thread."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.config.settings import Settings
from bot.jobs import digest
from bot.jobs.runner import Job, JobRunner
from bot.routing.clock import ManualClock
from bot.routing.service import RoutingService

try:  # works whether or not tests/ is a package
    from tests.fake_slack import FakeSlack
except ImportError:
    from fake_slack import FakeSlack  # type: ignore[no-redef]

CONFIG = """
timezone: America/New_York
managers: [U0MGR]
manager_channel: C0MANAGERS
members:
  - {slack_id: U0ALICE, name: Alice}
  - {slack_id: U0BOB, name: Bob}
queues:
  - {name: sales, members: [{slack_id: U0ALICE}, {slack_id: U0BOB}]}
rules:
  - {name: all, queue: sales}
"""
MONDAY_0859 = datetime(2026, 12, 7, 13, 59, tzinfo=UTC)  # 08:59 in New York
MONDAY_0900 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def replica(service: RoutingService, clock: ManualClock, slack: FakeSlack, holder: str) -> JobRunner:
    settings = Settings(slack_bot_token="xoxb-test", slack_api_url=slack.api_url)
    job = Job(digest.NAME, digest.INTERVAL_SECONDS, digest.run)
    return JobRunner(service, service.db, settings, clock, jobs=[job], holder=holder)


def digests(slack: FakeSlack) -> list[str]:
    """The digests Slack took (a refused post is recorded too, answered ok: false)."""
    return [str(call.body["blocks"][0]["text"]["text"]) for call in slack.calls_to("chat.postMessage")
            if call.body.get("channel") == "C0MANAGERS" and call.response.get("ok")]


async def test_the_digest_posts_once_a_week_across_two_replicas_and_a_restart(
        make_service, clock: ManualClock, fake_slack: FakeSlack, leads) -> None:  # type: ignore[no-untyped-def]
    clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    service = await make_service(CONFIG)
    for _ in range(4):
        await leads.route(service)
    clock.set(MONDAY_0859)
    first, second = replica(service, clock, fake_slack, "A"), replica(service, clock, fake_slack, "B")
    assert "due 2026-12-07T09:00:00-05:00" in str((await first.run_once(force=True))["digest"])
    assert digests(fake_slack) == []

    clock.set(MONDAY_0900)
    both = await asyncio.gather(first.run_once(force=True), second.run_once(force=True))
    assert sorted(str(r["digest"]) for r in both)[0].startswith("{'posted': '2026-W50'")
    assert digests(fake_slack) == ["Weekly digest, 2026-W50: 2026-11"]  # the month just closed
    [post] = [c for c in fake_slack.calls_to("chat.postMessage") if c.body.get("channel") == "C0MANAGERS"]
    assert len(post.body["blocks"]) <= 50 and "*sales*: 4 leads" in str(post.body["blocks"])
    [png, table] = fake_slack.shared_files()
    assert (png.filename, table.filename) == ("rotation-report-2026-11.png", "rotation-report-2026-11.csv")
    assert png.channel_id == "C0MANAGERS" and png.data is not None and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    [done] = fake_slack.calls_to("files.completeUploadExternal")
    assert done.body["thread_ts"] == post.response["ts"]  # in the digest's thread

    clock.advance(hours=3)
    restarted = replica(service, clock, fake_slack, "A2")
    assert "was posted" in str((await restarted.run_once(force=True))["digest"])
    clock.set(datetime(2026, 12, 13, 23, 0, tzinfo=UTC))  # Sunday evening: still that week
    assert "was posted" in str((await second.run_once(force=True))["digest"])
    assert len(digests(fake_slack)) == 1

    clock.set(datetime(2026, 12, 14, 14, 5, tzinfo=UTC))  # the next Monday, 09:05
    assert str((await second.run_once(force=True))["digest"]).startswith("{'posted': '2026-W51'")
    assert digests(fake_slack) == ["Weekly digest, 2026-W50: 2026-11", "Weekly digest, 2026-W51: 2026-12"]


async def test_a_refused_post_gives_the_week_back_and_the_next_run_posts_it_once(
        make_service, clock: ManualClock, fake_slack: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    clock.set(MONDAY_0900)
    service = await make_service(CONFIG)
    runner = replica(service, clock, fake_slack, "A")
    fake_slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    assert "channel_not_found" in str((await runner.run_once(force=True))["digest"])
    assert digests(fake_slack) == [] and fake_slack.uploads == {}
    clock.advance(minutes=5)
    assert str((await runner.run_once())["digest"]).startswith("{'posted': '2026-W50'")
    again = (await runner.run_once(force=True))["digest"]
    assert again == {"posted": None, "because": "2026-W50's digest was posted"}
    assert len(digests(fake_slack)) == 1


async def test_no_channel_or_no_slack_means_no_digest(make_service, clock: ManualClock,  # type: ignore[no-untyped-def]
                                                      fake_slack: FakeSlack) -> None:
    clock.set(MONDAY_0900)
    service = await make_service(CONFIG.replace("manager_channel: C0MANAGERS\n", ""))
    assert "no manager_channel" in str((await replica(service, clock, fake_slack, "A").run_once())["digest"])
    tokenless = JobRunner(service, service.db, Settings(), clock,
                          jobs=[Job(digest.NAME, digest.INTERVAL_SECONDS, digest.run)], holder="B")
    assert "no manager_channel" in str((await tokenless.run_once(force=True))["digest"])
    assert fake_slack.calls == []


def test_the_week_and_its_digest_time_are_the_teams() -> None:
    sunday_night = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)  # 23:30 Sunday in New York
    assert digest.week_of(sunday_night, "America/New_York") == "2026-W49"
    assert digest.week_of(sunday_night, "Europe/Berlin") == "2026-W50"
    assert digest.due_at(sunday_night, "Europe/Berlin").isoformat() == "2026-12-07T09:00:00+01:00"
    assert digest.due_at(MONDAY_0900, "America/New_York") == MONDAY_0900


async def test_a_rotation_started_after_this_weeks_digest_time_waits_for_next_week(
        make_service, clock: ManualClock, fake_slack: FakeSlack) -> None:  # type: ignore[no-untyped-def]
    clock.set(datetime(2026, 12, 8, 15, 0, tzinfo=UTC))  # installed on a Tuesday
    service = await make_service(CONFIG)
    runner = replica(service, clock, fake_slack, "A")
    assert "the first digest is next week's" in str((await runner.run_once(force=True))["digest"])
    assert digests(fake_slack) == []  # no digest of a week the rotation was not running
    clock.set(datetime(2026, 12, 14, 14, 5, tzinfo=UTC))  # the next Monday, 09:05
    assert str((await runner.run_once(force=True))["digest"]).startswith("{'posted': '2026-W51'")

"""`/rotation` subcommands, good and bad input, through the real app over signed HTTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from slack_harness import EXAMPLE, MANAGER, SECRET, Bot, sr

from bot.config.routing import load_file
from bot.routing.results import LeadRecord, LeaveView, MemberStatus
from bot.routing.service import RoutingService
from bot.slack import replies

FUTURE = (date.today() + timedelta(days=30)).isoformat()
LATER = (date.today() + timedelta(days=34)).isoformat()


async def test_help_lists_every_subcommand(bot: Bot) -> None:
    answer = await bot.command("help")
    for word in ("status", "pause", "resume", "away", "who", "why", "calibrate"):
        assert f"/rotation {word}" in answer
    assert await bot.command("") == answer


async def test_unknown_subcommand_gets_help(bot: Bot) -> None:
    answer = await bot.command("dance")
    assert "I don't know `dance`" in answer and "/rotation status" in answer


async def test_status_tells_state_and_queues(bot: Bot) -> None:
    answer = await bot.command("status")
    assert "Alice Moreau" in answer and "*active*" in answer
    assert "us-east" in answer and "all" in answer and "enterprise" in answer


async def test_status_of_someone_outside_the_rotation(bot: Bot) -> None:
    answer = await bot.command("status", user="U99STRANGER")
    assert "not in the lead rotation" in answer


async def test_pause_until_then_status_then_resume(bot: Bot) -> None:
    answer = await bot.command(f"pause until {FUTURE} dentist &amp; errands")
    # a Slack date (each reader's own timezone) whose plain words name the member's midnight
    assert "paused until <!date^" in answer and "00:00 America/New_York>" in answer
    status = await bot.service.availability.member_status("U01ALICE")
    assert status.state == "paused" and status.reason == "dentist & errands"
    assert "paused" in await bot.command("status")
    assert "back in the rotation" in await bot.command("resume")
    assert (await bot.service.availability.member_status("U01ALICE")).state == "active"


async def test_pausing_twice_changes_nothing(bot: Bot) -> None:
    await bot.command("pause")
    answer = await bot.command("pause")
    assert "already paused" in answer
    status = await bot.service.availability.member_status("U01ALICE")
    assert status.state == "paused" and status.paused_until is None


async def test_pausing_again_with_another_end_moves_the_end(bot: Bot) -> None:
    await bot.command("pause busy week")
    answer = await bot.command(f"pause until {FUTURE}")
    assert "still paused, now until" in answer
    status = await bot.service.availability.member_status("U01ALICE")
    assert status.state == "paused" and status.paused_until is not None
    assert status.paused_until.date() >= date.fromisoformat(FUTURE) - timedelta(days=1)  # its midnight
    assert status.reason == "busy week"  # kept when the new command gives none


async def test_resume_while_active(bot: Bot) -> None:
    assert "not paused" in await bot.command("resume")
    assert (await bot.service.availability.member_status("U01ALICE")).state == "active"


async def test_pause_with_a_past_date_or_not_a_date(bot: Bot) -> None:
    assert "not in the future" in await bot.command("pause until 2000-01-01")
    assert "`someday` is not a date" in await bot.command("pause until someday")  # tomorrow: a day now
    assert "Pause until when" in await bot.command("pause until")
    assert (await bot.service.availability.member_status("U01ALICE")).state == "active"


async def test_away_add_list_cancel(bot: Bot) -> None:
    answer = await bot.command(f"away {FUTURE} {LATER}")
    assert f"Leave scheduled: {FUTURE} to {LATER}" in answer
    assert f"{FUTURE} to {LATER}" in await bot.command("away")
    assert f"{FUTURE} to {LATER}" in await bot.command("status")
    assert "Cancelled your leave" in await bot.command("away cancel")
    assert await bot.service.availability.leaves("U01ALICE") == []
    leave = await bot.service.availability.add_leave("U01ALICE", date.fromisoformat(LATER),
                                                     date.fromisoformat(LATER),
                                        actor="test")
    assert f"#{leave.id}" in await bot.command("away")
    assert "not a leave number" in await bot.command("away cancel soon")
    assert f"no leave #{leave.id + 99}" in await bot.command(f"away cancel #{leave.id + 99}")
    assert f"{LATER} to {LATER}" in await bot.command(f"away cancel #{leave.id}")
    assert "No leave scheduled" in await bot.command("away")


async def test_away_one_day(bot: Bot) -> None:
    assert f"Leave scheduled: {FUTURE} to {FUTURE}" in await bot.command(f"away {FUTURE}")


async def test_away_bad_input_changes_nothing(bot: Bot) -> None:
    assert "ends" in await bot.command(f"away {LATER} {FUTURE}")
    assert "`soon` is not a date" in await bot.command("away soon later")
    assert "/rotation away START END" in await bot.command(f"away {FUTURE} {LATER} extra")
    assert "no upcoming leave" in await bot.command("away cancel")
    assert await bot.service.availability.leaves("U01ALICE") == []


async def test_who_shows_a_queue_or_mine(bot: Bot) -> None:
    answer = await bot.command("who emea")
    assert await bot.command("who EMEA") == answer  # people type queue names in any case
    assert "*emea*" in answer and "Grace Whitfield" in answer and "next:" in answer
    mine = await bot.command("who")
    assert "*us-east*" in mine and "*emea*" not in mine
    assert "no queue named `mars`" in await bot.command("who mars")


async def test_why_explains_a_lead(bot: Bot) -> None:
    outcome = await bot.service.assignment.route({"id": "L-7", "name": "Jane Doe", "country": "GB",
                                       "email": "jane@acme.co.uk"})
    assert outcome.assignee is not None
    answer = await bot.command("why L-7", user=outcome.assignee.slack_id)  # the rep it was offered to
    assert "Lead L-7" in answer and "Jane Doe" in answer and outcome.assignee.name in answer
    assert "emea" in answer
    assert await bot.command("why L-7", user=MANAGER) == answer
    assert "no lead with id NOPE" in await bot.command("why NOPE", user=MANAGER)
    assert "Which lead" in await bot.command("why")


async def test_calibrate_refused_to_non_managers(bot: Bot) -> None:
    answer = await bot.command("calibrate <@U02BOB|bob>")
    assert "for managers" in answer
    assert bot.slack.calls_to("views.open") == []


async def only_group_members_may_calibrate(bot: Bot, group: str) -> None:
    """U02BOB, in `group`, opens the calibrate modal; U03CAROL, not in it, is refused."""
    bot.slack.set_usergroup(group, ["U02BOB"])
    await bot.post(sr.slash_command(SECRET, "calibrate", user_id="U02BOB",
                                    response_url=bot.slack.response_url("cmd")))
    [opened] = await bot.slack.wait_for("views.open")
    assert opened.body["view"]["callback_id"] == "calibrate_modal"
    assert "for managers" in await bot.command("calibrate", user="U03CAROL")


@pytest.mark.parametrize("bot_settings", [{"manager_group": "S0LEADS"}])
async def test_calibrate_allowed_to_manager_group_members(bot: Bot) -> None:
    await only_group_members_may_calibrate(bot, "S0LEADS")


async def test_the_configs_manager_group_makes_managers(bot: Bot, service: RoutingService) -> None:
    """`manager_group` in the routing config is honoured, with no ROTATION_MANAGER_GROUP set."""
    config = load_file(EXAMPLE)
    await service.admin.apply_config(config.model_copy(update={"manager_group": "S0CONFIG"}))
    await only_group_members_may_calibrate(bot, "S0CONFIG")


async def test_a_manager_can_still_use_member_commands(bot: Bot) -> None:
    assert "not in the lead rotation" in await bot.command("status", user=MANAGER)
    assert "*us-east*" in await bot.command("who", user=MANAGER)


def test_moments_say_their_year_when_it_is_not_this_one() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert replies.when(datetime(2026, 12, 17, 14, 0, tzinfo=UTC), "UTC", now) == "Thu Dec 17, 14:00"
    assert replies.when(datetime(2027, 1, 2, 9, 0, tzinfo=UTC), "UTC", now) == "Sat Jan 2 2027, 09:00"


def test_on_leave_says_until_when() -> None:
    back = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    leave = LeaveView(7, date(2026, 11, 24), date(2026, 11, 25), datetime(2026, 11, 22, 5, 0, tzinfo=UTC),
                      back, "slack")
    status = MemberStatus(slack_id="U01ALICE", name="Alice", timezone="America/New_York", state="on leave",
                          reason=None, paused_until=None, leaves=[leave], seats=[])
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    said = replies.state_line(status, now)
    assert said == (f"You're *on leave* until <!date^{int(back.timestamp())}^{{date_short_pretty}} {{time}}"
                    "|Thu Nov 26, 00:00 America/New_York>: no new leads until then.")
    # a long leave whose pause begins (days early) before this one ends: back only after both
    long = LeaveView(8, date(2026, 11, 27), date(2026, 12, 11), datetime(2026, 11, 25, 5, 0, tzinfo=UTC),
                     datetime(2026, 12, 12, 5, 0, tzinfo=UTC), "slack")
    status = replace(status, leaves=[leave, long])
    assert "until <!date^" in replies.state_line(status, now)
    assert "|Sat Dec 12, 00:00 America/New_York>" in replies.state_line(status, now)


def test_why_shows_when_a_lead_was_accepted_as_people_read_it() -> None:
    step = {"assignee": {"name": "Alice"}, "queue": "emea", "state": "accepted", "cause": "new",
            "accepted_at": "2026-11-23T17:58:12"}
    record = LeadRecord(lead_id="L-1", fields={}, received_at=datetime(2026, 11, 23, tzinfo=UTC),
                        status="assigned", queue="emea", rule=None, reason=None, assignments=[step],
                        explanation={"summary": "s"})
    said = replies.why_text(record, datetime(2026, 12, 1, tzinfo=UTC))
    accepted = int(datetime(2026, 11, 23, 17, 58, 12, tzinfo=UTC).timestamp())
    assert f"accepted <!date^{accepted}^{{date_short_pretty}} {{time}}|Mon Nov 23, 17:58 UTC>" in said

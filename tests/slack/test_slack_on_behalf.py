"""A manager pauses, resumes and schedules leave for a member; anyone else may not."""

from __future__ import annotations

from slack_harness import MANAGER, Bot
from sqlalchemy import select

from bot.store.models import AuditEvent, Member


async def actors(bot: Bot, action: str) -> list[tuple[str, str]]:
    async with bot.service.db.engine.connect() as c:
        rows = await c.execute(select(AuditEvent.actor, Member.slack_id)
                               .join(Member, Member.id == AuditEvent.member_id)
                               .where(AuditEvent.action == action))
        return [tuple(r) for r in rows]


async def test_a_rep_naming_someone_else_is_refused_and_nobody_is_paused(bot: Bot) -> None:
    answer = await bot.command("pause <@U02BOB|bob> until 2030-01-02", user="U01ALICE")
    assert "Only managers" in answer and "nothing was changed" in answer
    for rep in ("U01ALICE", "U02BOB"):
        assert (await bot.service.availability.member_status(rep)).state != "paused"
    assert "Only managers" in await bot.command("away <@U02BOB> 2030-01-02 2030-01-03", user="U01ALICE")
    assert await bot.service.availability.leaves("U02BOB") == []
    assert await actors(bot, "pause") == []


async def test_a_manager_pauses_resumes_and_schedules_leave_for_a_member(bot: Bot) -> None:
    answer = await bot.command("pause <@U02BOB|bob> until 2030-01-02 covering a trade show", user=MANAGER)
    assert answer.startswith("For <@U02BOB>:")
    status = await bot.service.availability.member_status("U02BOB")
    assert status.state == "paused"
    assert await actors(bot, "pause") == [(MANAGER, "U02BOB")]
    assert "For <@U02BOB>:" in await bot.command("resume <@U02BOB>", user=MANAGER)
    assert (await bot.service.availability.member_status("U02BOB")).state != "paused"
    assert "Leave scheduled" in await bot.command("away U02BOB 2030-02-03 2030-02-07", user=MANAGER)
    [leave] = await bot.service.availability.leaves("U02BOB")
    assert (leave.starts_on.isoformat(), leave.ends_on.isoformat()) == ("2030-02-03", "2030-02-07")
    assert await actors(bot, "resume") == [(MANAGER, "U02BOB")]


async def test_a_manager_naming_someone_outside_the_rotation_is_told_so_in_their_words(bot: Bot) -> None:
    answer = await bot.command("pause <@U99NOBODY>", user=MANAGER)
    assert "<@U99NOBODY> is not in the lead rotation" in answer and "nothing was changed" in answer
    assert "Ask a manager" not in answer


async def test_a_reason_that_looks_like_an_id_is_a_reason(bot: Bot) -> None:
    """`pause USA trip` and `pause WFH` are a rep's own pause with a reason, not a person."""
    assert "paused" in await bot.command("pause USA trip", user="U02BOB")
    assert (await bot.service.availability.member_status("U02BOB")).state == "paused"
    assert "paused" in await bot.command("pause WFH", user="U01ALICE")
    assert (await bot.service.availability.member_status("U01ALICE")).state == "paused"


async def test_a_plain_at_name_is_a_person_for_managers_and_refused_to_reps(bot: Bot) -> None:
    assert "Only managers" in await bot.command("pause @bob", user="U01ALICE")
    assert (await bot.service.availability.member_status("U01ALICE")).state != "paused"
    assert (await bot.command("pause @bob", user=MANAGER)).startswith("For <@U02BOB>:")
    assert (await bot.service.availability.member_status("U02BOB")).state == "paused"


async def test_a_broken_mention_is_refused_not_taken_for_the_manager(bot: Bot) -> None:
    answer = await bot.command("pause <@u04david>", user=MANAGER)
    assert "is not a Slack mention" in answer and "nothing was changed" in answer.lower()


async def test_a_refusal_for_a_member_says_whom_it_is_about(bot: Bot) -> None:
    answer = await bot.command("resume <@U02BOB>", user=MANAGER)
    assert answer.startswith("For <@U02BOB>:") and "not paused" in answer

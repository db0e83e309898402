"""Slack status as availability: an away status pauses until it expires or clears."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.routing.errors import InvalidChange
from bot.slack import availability_words

CONFIG = """
status_pause: {emoji: [":palm_tree:"], words: [ooo, vacation, out of office]}
members:
  - {slack_id: U0ALICE, name: Alice}
queues:
  - {name: solo, members: [{slack_id: U0ALICE}]}
rules:
  - {name: all, queue: solo}
"""


async def test_status_pauses_until_it_expires(make_service, clock, leads) -> None:
    service = await make_service(CONFIG)
    expires = int((clock.now() + timedelta(hours=2)).timestamp())
    paused = await service.availability.apply_slack_status("U0ALICE", text="Vacation", emoji="",
                                                           expiration=expires)
    assert paused == "paused"
    assert (await service.availability.member_status("U0ALICE")).state == "away (Slack status)"
    assert await leads.route(service) is None
    # The same status again (Slack sends user_change often) changes nothing.
    assert await service.availability.apply_slack_status("U0ALICE", text="Vacation", emoji="",
                                                         expiration=expires) is None
    clock.advance(hours=1, minutes=59)
    assert await leads.route(service) is None
    clock.advance(minutes=1)
    assert await leads.route(service) == "U0ALICE"
    assert (await service.availability.member_status("U0ALICE")).state == "active"


async def test_emoji_status_without_expiry_pauses_until_cleared(make_service, clock, leads) -> None:
    service = await make_service(CONFIG)
    assert await service.availability.apply_slack_status("U0ALICE", text="", emoji=":palm_tree:",
                                                         expiration=0) == "paused"
    clock.advance(days=30)
    assert await leads.route(service) is None
    assert await service.availability.apply_slack_status("U0ALICE", text="In the office", emoji=":office:",
                                            expiration=0) == "resumed"
    assert await leads.route(service) == "U0ALICE"


async def test_word_must_stand_alone_and_other_statuses_do_nothing(make_service, leads) -> None:
    service = await make_service(CONFIG)
    assert await service.availability.apply_slack_status("U0ALICE", text="Booking my vacationrental",
                                                         emoji="",
                                            expiration=0) is None
    assert await service.availability.apply_slack_status("U0ALICE", text="In a meeting", emoji=":calendar:",
                                            expiration=0) is None
    assert await service.availability.apply_slack_status("U0ALICE", text="OOO till Monday", emoji="",
                                            expiration=0) == "paused"


async def test_an_expiry_already_past_does_not_pause(make_service, clock, leads) -> None:
    service = await make_service(CONFIG)
    past = int((clock.now() - timedelta(minutes=1)).timestamp())
    assert await service.availability.apply_slack_status("U0ALICE", text="OOO", emoji="",
                                                         expiration=past) is None
    assert await leads.route(service) == "U0ALICE"


async def test_ignore_keeps_leads_coming_for_that_status_only(make_service, clock, leads) -> None:
    service = await make_service(CONFIG)
    assert await service.availability.apply_slack_status("U0ALICE", text="OOO", emoji="",
                                                         expiration=0) == "paused"
    await service.availability.ignore_status("U0ALICE", text="OOO", emoji="", actor="U0ALICE")
    assert await leads.route(service) == "U0ALICE"
    # Slack repeats the same status: still ignored.
    assert await service.availability.apply_slack_status("U0ALICE", text="OOO", emoji="",
                                                         expiration=0) is None
    assert await leads.route(service) == "U0ALICE"
    # A different away status pauses again.
    assert await service.availability.apply_slack_status("U0ALICE", text="Vacation", emoji="",
                                                         expiration=0) == "paused"
    assert await leads.route(service) is None


async def test_resume_command_lifts_a_status_pause(make_service, leads) -> None:
    service = await make_service(CONFIG)
    await service.availability.apply_slack_status("U0ALICE", text="OOO", emoji="", expiration=0)
    await service.availability.resume("U0ALICE", actor="U0ALICE")
    assert await leads.route(service) == "U0ALICE"


async def test_a_resume_ignores_that_status_only_until_it_is_cleared(make_service, clock, leads) -> None:
    """Attack (found from outside): resuming once switched that status off for good, so the
    next vacation with Slack's same preset paused nobody."""
    service = await make_service(CONFIG)
    holiday = dict(text="Vacationing", emoji=":palm_tree:")
    expires = int((clock.now() + timedelta(days=2)).timestamp())
    assert await service.availability.apply_slack_status("U0ALICE", **holiday, expiration=expires) == "paused"
    await service.availability.resume("U0ALICE", actor="U0ALICE")
    assert await service.availability.apply_slack_status("U0ALICE", **holiday,
                                                         expiration=expires) is None  # still ignored
    assert await leads.route(service) == "U0ALICE"
    await service.availability.apply_slack_status("U0ALICE", text="", emoji="",
                                                  expiration=0)  # the status is cleared
    clock.advance(days=20)
    later = int((clock.now() + timedelta(days=3)).timestamp())
    assert await service.availability.apply_slack_status("U0ALICE", **holiday, expiration=later) == "paused"
    assert (await service.availability.member_status("U0ALICE")).state == "away (Slack status)"


async def test_resume_while_on_leave_says_so_instead_of_you_are_not_paused(make_service, clock) -> None:
    service = await make_service(CONFIG)
    today = clock.now().date()
    await service.availability.add_leave("U0ALICE", today, today + timedelta(days=1), actor="U0ALICE")
    with pytest.raises(InvalidChange, match="You are on leave until") as refused:
        await service.availability.resume("U0ALICE", actor="U0ALICE")
    # the core says what is so; Slack adds the command that helps
    assert "resuming does not end a leave" in str(refused.value)
    assert "`/rotation away cancel` cancels it" in availability_words.refusal(refused.value)

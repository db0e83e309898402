"""Escalation buttons (Take it, Reassign to…), History, and `/rotation reassign`, through the
real Bolt app with signed requests: as a manager, a rep and a stranger."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_harness import MANAGER, SECRET, Bot
from slack_requests import block_action
from sqlalchemy import select

from bot.slack.escalation_actions import reassign_block_id
from bot.slack.ids import Action
from bot.slack.messages import render
from bot.store.models import Assignment, Member

REP, STRANGER = "U02BOB", "U77STRANGER"
EVERYONE = ("U01ALICE", "U02BOB", "U03CAROL", "U04DAVID", "U05ERIN", "U06FRANK", "U07GRACE", "U08HENRIK",
            "U09ISABEL", "U10JONAS", "U11KENJI", "U12PRIYA", "U13LIAM")




async def holders(bot: Bot, lead_id: str) -> list[tuple[str, str]]:
    async with bot.service.db.engine.connect() as c:
        rows = await c.execute(select(Member.slack_id, Assignment.state)
                               .join(Member, Member.id == Assignment.member_id)
                               .where(Assignment.lead_id == lead_id).order_by(Assignment.id))
        return [(r.slack_id, r.state) for r in rows]


async def click(bot: Bot, action_id: str, user: str, value: str | None = None,
                action: dict[str, Any] | None = None, block_id: str = "actions") -> str:
    """A button (or select) in a channel message; the ephemeral answer it got."""
    before = len(bot.slack.responses)
    reply = await bot.post(block_action(SECRET, action_id, value, user_id=user, block_id=block_id,
                                        action=action, channel_id="C0MANAGERS",
                                        response_url=bot.slack.response_url("esc")))
    assert reply.status == 200
    answers = await bot.slack.wait_for_responses(before + 1)
    assert answers[before].get("response_type") == "ephemeral"
    return str(answers[before]["text"])


async def waiting_lead(bot: Bot, lead_id: str = "W-1") -> str:
    for member in EVERYONE:
        await bot.service.availability.pause(member, actor=member)
    outcome = await bot.service.assignment.route({"id": lead_id, "country": "US", "state": "NY"})
    assert outcome.status == "unassigned"
    return lead_id


async def test_a_rep_takes_a_waiting_lead_and_gets_the_dm(bot: Bot) -> None:
    lead = await waiting_lead(bot)
    answer = await click(bot, Action.TAKE_LEAD, REP, lead)
    assert answer.startswith(f"Lead `{lead}` is yours now")
    assert await holders(bot, lead) == [(REP, "offered")]
    assert any(kind == "dm" and p.get("to") == REP and p["lead"]["id"] == lead
               for kind, p in await bot.outbox())


async def test_two_reps_taking_one_waiting_lead_at_once_give_it_to_one(bot: Bot) -> None:
    """Found from outside: both clicks were told "yours now" and both got the DM."""
    lead = await waiting_lead(bot, "W-RACE")
    before = len(bot.slack.responses)
    replies = await asyncio.gather(*(
        bot.post(block_action(SECRET, Action.TAKE_LEAD, lead, user_id=rep, block_id="actions",
                              channel_id="C0MANAGERS", response_url=bot.slack.response_url(f"race-{rep}")))
        for rep in ("U05ERIN", "U06FRANK")))
    assert [r.status for r in replies] == [200, 200]
    answers = [str(a["text"]) for a in (await bot.slack.wait_for_responses(before + 2))[before:]]
    assert sum(a.startswith(f"Lead `{lead}` is yours now") for a in answers) == 1, answers
    assert any("waiting" in a or "no longer" in a for a in answers), answers
    [holder] = await holders(bot, lead)
    assert holder[1] == "offered"
    dms = [p for kind, p in await bot.outbox() if kind == "dm" and (p.get("lead") or {}).get("id") == lead
           and p.get("event") == "lead_assigned"]
    assert [p["to"] for p in dms] == [holder[0]]


async def test_a_rep_cannot_take_a_colleagues_offer_and_a_stranger_nothing(bot: Bot) -> None:
    offered = await bot.service.assignment.route({"id": "L-1", "country": "US", "state": "NY"})
    assert offered.assignee is not None
    taker = "U03CAROL" if offered.assignee.slack_id != "U03CAROL" else "U01ALICE"
    before = await bot.state()
    assert "Only managers can take a lead" in await click(bot, Action.TAKE_LEAD, taker, "L-1")
    assert "Only managers can take a lead" in await click(bot, Action.TAKE_LEAD, taker, "NO-SUCH-LEAD")
    assert await bot.state() == before
    lead = await waiting_lead(bot)
    before = await bot.state()
    assert "not in the lead rotation" in await click(bot, Action.TAKE_LEAD, STRANGER, lead)
    assert await bot.state() == before


async def test_a_manager_takes_it_once_in_the_rotation_and_reassigns_with_the_select(bot: Bot) -> None:
    offered = await bot.service.assignment.route({"id": "L-1", "country": "US", "state": "NY"})
    assert offered.assignee is not None
    first = offered.assignee.slack_id
    assert "not in the rotation" in await click(bot, Action.TAKE_LEAD, MANAGER, "L-1")
    bot.slack.set_user(MANAGER, real_name="Morgan Lead")
    await bot.command(f"add <@{MANAGER}> to us-east", user=MANAGER)
    assert "is yours now" in await click(bot, Action.TAKE_LEAD, MANAGER, "L-1")
    assert (await holders(bot, "L-1")) == [(first, "reassigned"), (MANAGER, "offered")]
    picked = {"type": "users_select", "selected_user": "U03CAROL"}
    answer = await click(bot, Action.REASSIGN_TO, MANAGER, action=picked, block_id=reassign_block_id("L-1"))
    assert answer.startswith("Lead `L-1` is now offered to <@U03CAROL>")
    assert (await holders(bot, "L-1"))[-1] == ("U03CAROL", "offered")
    notes = [p for _, p in await bot.outbox()
             if p.get("event") == "lead_reassigned" and p.get("to") == MANAGER]
    assert notes and "reassigned" in render("dm", notes[-1])["text"]


async def test_reassign_to_is_for_managers_only(bot: Bot) -> None:
    await bot.service.assignment.route({"id": "L-1", "country": "US", "state": "NY"})
    before = await bot.state()
    picked = {"type": "users_select", "selected_user": "U03CAROL"}
    for user in (REP, STRANGER):
        answer = await click(bot, Action.REASSIGN_TO, user, action=picked, block_id=reassign_block_id("L-1"))
        assert "for managers" in answer and "Nothing was changed" in answer
    assert await bot.state() == before


async def test_the_reassign_command(bot: Bot) -> None:
    offered = await bot.service.assignment.route({"id": "L-7", "country": "US", "state": "NY"})
    assert offered.assignee is not None
    target = "U06FRANK"
    answer = await bot.command(f"reassign L-7 <@{target}>", user=MANAGER)
    assert answer.startswith(f"Lead `L-7` is now offered to <@{target}>")
    assert "not in the lead's queue" in answer  # Frank is US West; the lead is US East's
    assert "There is no lead `L-404`" in await bot.command(f"reassign L-404 <@{target}>", user=MANAGER)
    assert "already offered to" in await bot.command(f"reassign L-7 <@{target}>", user=MANAGER)
    assert "Write `/rotation reassign LEAD_ID @member`" in await bot.command("reassign L-7", user=MANAGER)
    for user in (REP, STRANGER):
        assert "for managers" in await bot.command(f"reassign L-7 <@{REP}>", user=user)
    assert (await holders(bot, "L-7"))[-1] == (target, "offered")


async def test_the_history_button_for_managers_and_the_member_themself(bot: Bot) -> None:
    await bot.service.availability.pause(REP, reason="offsite", actor=REP)
    opened = len(bot.slack.calls_to("views.open"))
    home = {"id": "VH", "hash": "h"}
    await bot.post(block_action(SECRET, Action.MEMBER_HISTORY, REP, user_id=MANAGER, view=home))
    [*_, call] = await bot.slack.wait_for("views.open", opened + 1)
    texts = [b["text"]["text"] for b in call.body["view"]["blocks"] if b["type"] == "section"]
    assert "“offsite”" in texts[1]
    await bot.post(block_action(SECRET, Action.MEMBER_HISTORY, REP, user_id=REP, view=home))
    await bot.slack.wait_for("views.open", opened + 2)
    for user in ("U01ALICE", STRANGER):
        assert "for managers" in await click(bot, Action.MEMBER_HISTORY, user, REP)
    assert len(bot.slack.calls_to("views.open")) == opened + 2

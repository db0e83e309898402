"""Accept and Pass on a lead's DM: who may click, what the ledger says, and double clicks."""

from __future__ import annotations

import pytest
from slack_harness import SECRET, Bot, sr

from bot.routing.results import RouteOutcome

LEAD = {"name": "Jane Doe", "company": "Acme Ltd", "email": "jane@acme.co.uk", "country": "GB"}


async def route(bot: Bot, lead_id: str) -> RouteOutcome:
    outcome = await bot.service.assignment.route({"id": lead_id, **LEAD})
    assert outcome.assignee is not None and outcome.assignment_id is not None
    return outcome


async def click(bot: Bot, action_id: str, outcome: RouteOutcome, user: str, name: str = "r") -> None:
    reply = await bot.post(sr.block_action(
        SECRET, action_id, f"{outcome.assignment_id}:{outcome.lead_id}", user_id=user,
        message={"ts": "1700000000.000200", "text": "lead"}, channel_id=f"D{user}",
        response_url=bot.slack.response_url(name), block_id="lead_actions"))
    assert reply.status == 200


async def test_accept_updates_the_dm_and_records_it(bot: Bot) -> None:
    outcome = await route(bot, "L-1")
    owner = outcome.assignee.slack_id  # type: ignore[union-attr]
    await click(bot, "lead_accept", outcome, owner)
    [update] = await bot.slack.wait_for("chat.update")
    assert update.body["channel"] == f"D{owner}" and update.body["ts"] == "1700000000.000200"
    assert "Accepted by" in update.body["text"] and "after" in update.body["text"]
    assert not any(b["type"] == "actions" for b in update.body["blocks"])  # buttons gone
    assert "Jane Doe" in str(update.body["blocks"])
    [step] = (await bot.service.assignment.lead("L-1")).assignments
    assert step["state"] == "accepted" and step["accepted_at"] is not None

    await click(bot, "lead_accept", outcome, owner)  # double click
    [answer] = await bot.slack.wait_for_responses()
    assert "already accepted" in answer["text"] and answer["response_type"] == "ephemeral"
    assert len(bot.slack.calls_to("chat.update")) == 1
    assert (await bot.service.assignment.lead("L-1")).assignments == [step]


async def test_pass_moves_the_lead_on_once(bot: Bot) -> None:
    outcome = await route(bot, "L-2")
    owner = outcome.assignee.slack_id  # type: ignore[union-attr]
    await click(bot, "lead_pass", outcome, owner)
    [update] = await bot.slack.wait_for("chat.update")
    first, second = (await bot.service.assignment.lead("L-2")).assignments
    assert first["state"] == "passed" and second["state"] == "offered"
    assert second["assignee"]["slack_id"] != owner
    assert f"now offered to {second['assignee']['name']}" in update.body["text"]

    await click(bot, "lead_pass", outcome, owner)  # double click
    [answer] = await bot.slack.wait_for_responses()
    assert "already passed" in answer["text"]
    assert len((await bot.service.assignment.lead("L-2")).assignments) == 2
    assert len(bot.slack.calls_to("chat.update")) == 1


async def test_only_the_assignee_may_click(bot: Bot) -> None:
    outcome = await route(bot, "L-3")
    owner = outcome.assignee.slack_id  # type: ignore[union-attr]
    stranger = "U01ALICE" if owner != "U01ALICE" else "U02BOB"
    await click(bot, "lead_accept", outcome, stranger)
    [answer] = await bot.slack.wait_for_responses()
    assert "Only the person this lead was offered to" in answer["text"]
    assert owner not in answer["text"]  # a forwarded DM does not say whose lead it is
    assert bot.slack.calls_to("chat.update") == []
    [step] = (await bot.service.assignment.lead("L-3")).assignments
    assert step["state"] == "offered"


async def test_a_button_for_an_unknown_lead(bot: Bot) -> None:
    await bot.post(sr.block_action(SECRET, "lead_accept", "99:NOPE", message={"ts": "1.2"},
                                   response_url=bot.slack.response_url()))
    [answer] = await bot.slack.wait_for_responses()
    assert "Only the person this lead was offered to" in answer["text"]  # as for a lead not yours


async def test_a_button_value_no_button_of_ours_carries_is_refused_in_plain_words(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    await bot.post(sr.block_action(SECRET, "lead_accept", "abc", message={"ts": "1.2"},
                                   response_url=bot.slack.response_url()))
    [answer] = await bot.slack.wait_for_responses()
    assert "This button no longer works" in answer["text"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # no traceback: nothing broke

"""The Workflow Builder step "Route a lead", driven by signed function_executed events.

Slack sends the step's inputs in `function_executed`, with a token for the step; the step
must end with functions.completeSuccess (its outputs) or functions.completeError (why).
"""

from __future__ import annotations

from typing import Any

from slack_harness import SECRET, Bot, sr

from bot.slack.workflow_step import NO_ID

STEP_TOKEN = "xwfp-1234-5678-step-token"


def executed(inputs: dict[str, Any], execution: str = "Fx0001") -> dict[str, Any]:
    """The event as Slack documents it (api.slack.com/events/function_executed)."""
    return {
        "type": "function_executed",
        "function": {"id": "Fn0ROUTE", "callback_id": "route_lead", "title": "Route a lead",
                     "description": "Hands a lead to the rep whose turn it is", "type": "app",
                     "input_parameters": [], "output_parameters": [], "app_id": sr.API_APP_ID,
                     "date_created": 1700000000, "date_updated": 1700000000, "date_deleted": 0},
        "inputs": inputs,
        "function_execution_id": execution,
        "workflow_execution_id": "Wx0001",
        "event_ts": "1700000000.000300",
        "bot_access_token": STEP_TOKEN,
    }


SUCCESS, ERROR = "functions.completeSuccess", "functions.completeError"


async def run_step(bot: Bot, inputs: dict[str, Any], execution: str,
                   ends_with: str = SUCCESS) -> dict[str, Any]:
    """Send the event; wait for the step to end with `ends_with`; what the fake Slack recorded."""
    before = len(bot.slack.calls_to(ends_with))
    reply = await bot.post(sr.event_callback(SECRET, executed(inputs, execution), event_id=f"Ev{execution}"))
    assert reply.status == 200
    await bot.slack.wait_for(ends_with, before + 1)
    [result] = [r for r in bot.slack.function_results if r["function_execution_id"] == execution]
    return result


async def test_a_lead_from_a_workflow_is_routed_and_the_step_completes(bot: Bot) -> None:
    inputs = {"lead_id": "WF-1", "name": "Jane Doe", "email": "jane@acme.co.uk", "company": "Acme",
              "country": "GB", "notes": "asked for a demo"}
    result = await run_step(bot, inputs, "Fx0001")
    assert result["outcome"] == "success" and result["function_execution_id"] == "Fx0001"
    lead = await bot.service.assignment.lead("WF-1")
    assert lead.fields == {"id": "WF-1", "name": "Jane Doe", "email": "jane@acme.co.uk", "company": "Acme",
                           "country": "GB", "notes": "asked for a demo"}
    [offer] = lead.assignments
    assert result["outputs"] == {"assignee_id": offer["assignee"]["slack_id"], "queue": lead.queue,
                                 "summary": lead.explanation["summary"] if lead.explanation else ""}
    assert lead.queue == "emea" and result["outputs"]["summary"]
    [call] = bot.slack.calls_to(SUCCESS)
    assert call.headers["Authorization"] == f"Bearer {STEP_TOKEN}"  # the step's own token
    assert "dm" in {kind for kind, _ in await bot.outbox()}  # the rep's DM is owed, as for any lead


async def test_the_same_lead_twice_is_routed_once(bot: Bot) -> None:
    first = await run_step(bot, {"lead_id": "WF-2", "country": "US", "name": "Sam"}, "Fx0002")
    again = await run_step(bot, {"lead_id": "WF-2", "country": "US", "name": "Sam"}, "Fx0003")
    assert again["outcome"] == "success" and again["outputs"] == first["outputs"]
    assert len((await bot.service.assignment.lead("WF-2")).assignments) == 1


async def test_a_lead_that_cannot_be_routed_fails_the_step_in_words(bot: Bot) -> None:
    before = await bot.state()
    no_id = await run_step(bot, {"name": "Nobody", "lead_id": "   "}, "Fx0004", ERROR)
    assert no_id == {"function_execution_id": "Fx0004", "outcome": "error", "error": NO_ID}
    not_text = await run_step(bot, {"lead_id": "WF-3", "company": {"name": "Acme"}}, "Fx0005", ERROR)
    assert not_text["outcome"] == "error" and "\u201ccompany\u201d input is not text" in not_text["error"]
    refused = await run_step(bot, {"lead_id": "WF-4", "name": "Jane\x00Doe"}, "Fx0006", ERROR)
    assert refused["outcome"] == "error" and refused["error"] and "Traceback" not in refused["error"]
    assert await bot.state() == before
    assert bot.slack.calls_to(SUCCESS) == []

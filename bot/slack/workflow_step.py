"""Slack Workflow Builder's "Route a lead" step: a Slack form becomes a lead source.

Why a custom step (Bolt's `app.function`, the manifest's `functions.route_lead`): a team that
collects leads with a Slack form (or any workflow) adds this step, maps the form's answers to
its inputs (lead id, name, email, company, country, notes), and the next steps get its
outputs: the assignee's user id, the queue and the explanation's summary. The lead is routed
exactly as one from `POST /leads` (same checks, the same id routed once, the same DMs), with
"workflow" as the actor. Slack sends `function_executed`; the step ends with
`functions.completeSuccess`, or `functions.completeError` with the reason in plain words
(Workflow Builder shows it to whoever runs the workflow).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.context.complete.async_complete import AsyncComplete
from slack_bolt.context.fail.async_fail import AsyncFail

from bot.routing.errors import RoutingError
from bot.routing.results import RouteOutcome
from bot.routing.rules.lead_fields import LeadInvalid, checked_lead
from bot.slack.answers import DATABASE_AWAY, SOMETHING_WENT_WRONG
from bot.slack.deps import deps
from bot.store.db import DatabaseUnavailable

log = logging.getLogger(__name__)
ACTOR = "workflow"
# The step's inputs (the manifest's names) -> the lead fields they fill.
INPUTS = {"lead_id": "id", "name": "name", "email": "email", "company": "company",
          "country": "country", "notes": "notes"}
NO_ID = ("The step got no lead id, so the lead was not routed. In Workflow Builder, give the "
         "\u201cLead id\u201d input a value (a form answer, or the workflow's own id) and run it again.")


class NotALead(Exception):
    """The step's inputs can't make a lead; str() says why, for Workflow Builder."""


def lead_fields(inputs: object) -> dict[str, Any]:
    """The lead the inputs describe: each given input under its field's name (blank ones left
    out); NotALead when there is no id or an input is not text."""
    given = inputs if isinstance(inputs, dict) else {}
    fields: dict[str, Any] = {}
    for name, field in INPUTS.items():
        value = given.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise NotALead(f"The step's \u201c{name}\u201d input is not text, so the lead was not routed.")
        text = str(value).strip()
        if text:
            fields[field] = text
    if "id" not in fields:
        raise NotALead(NO_ID)
    try:
        checked_lead(fields)  # the checks of POST /leads: a NUL, a broken character, an id too long
    except LeadInvalid as invalid:
        raise NotALead(f"{invalid} The lead was not routed.") from None
    return fields


def outputs(outcome: RouteOutcome) -> dict[str, Any]:
    """The step's outputs: the assignee (left out when nobody took it), the queue, the summary."""
    summary = str(outcome.explanation.get("summary") or "")
    found: dict[str, Any] = {"queue": outcome.queue or "", "summary": summary or outcome.status}
    if outcome.assignee is not None:
        found["assignee_id"] = outcome.assignee.slack_id
    return found


async def on_route_lead(inputs: dict[str, Any], complete: AsyncComplete, fail: AsyncFail,
                        context: AsyncBoltContext) -> None:
    """Route the lead the step was given, then end the step either way (Bolt has acked the event)."""
    try:
        outcome = await deps(context).service.assignment.route(lead_fields(inputs), actor=ACTOR)
    except (NotALead, RoutingError) as refused:
        await fail(error=str(refused))
        return
    except DatabaseUnavailable as away:
        log.warning("workflow step: the database is unavailable: %s", away)
        await fail(error=DATABASE_AWAY)
        return
    except Exception:
        log.exception("workflow step route_lead failed")
        await fail(error=SOMETHING_WENT_WRONG)
        return
    await complete(outputs=outputs(outcome))

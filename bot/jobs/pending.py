"""Pending leads: assign leads that waited because nobody was eligible when they arrived."""

from __future__ import annotations

from bot.jobs.context import JobContext

NAME = "pending"
INTERVAL_SECONDS = 60.0


async def run(context: JobContext) -> dict[str, object]:
    outcomes = await context.service.assignment.assign_pending()
    return {"assigned": len(outcomes), "leads": [o.lead_id for o in outcomes]}

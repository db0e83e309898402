"""SLA: offers not accepted within their queue's `sla_minutes` move to the next member."""

from __future__ import annotations

from bot.jobs.context import JobContext

NAME = "sla"
INTERVAL_SECONDS = 30.0


async def run(context: JobContext) -> dict[str, object]:
    changes = await context.service.assignment.reassign_overdue()
    moved = [c for c in changes if c.changed]
    return {"reassigned": len(moved), "leads": [c.lead_id for c in moved]}

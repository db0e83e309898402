"""Period reset: open the new period in every queue whose period ended (catches up after downtime)."""

from __future__ import annotations

from bot.jobs.context import JobContext

NAME = "periods"
INTERVAL_SECONDS = 60.0


async def run(context: JobContext) -> dict[str, object]:
    return {"started": await context.service.ledger.start_due_periods()}

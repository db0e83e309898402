"""Rotation periods: counts and adjustments start again at the team's local midnight."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def period_key(moment: datetime, timezone: str, period: str) -> str:
    """The period `moment` falls in, as the team's calendar sees it: 2026-11, 2026-W48, 2026-Q4."""
    local = moment.astimezone(ZoneInfo(timezone)).date()
    if period == "monthly":
        return f"{local.year:04d}-{local.month:02d}"
    if period == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if period == "quarterly":
        return f"{local.year:04d}-Q{(local.month - 1) // 3 + 1}"
    if period == "never":
        return "all"
    raise ValueError(f"unknown period {period!r}")

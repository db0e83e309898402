"""Rotation periods: counts and adjustments start again at the team's local midnight."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIODS = ("monthly", "weekly", "quarterly", "never")


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


def period_start(moment: datetime, timezone: str, period: str) -> datetime | None:
    """When the period containing `moment` began (team-local midnight), None for `never`."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone).date()
    if period == "never":
        return None
    if period == "monthly":
        first = local.replace(day=1)
    elif period == "weekly":
        first = local - timedelta(days=local.weekday())
    else:
        first = date(local.year, 3 * ((local.month - 1) // 3) + 1, 1)
    return datetime.combine(first, time.min, tzinfo=zone)

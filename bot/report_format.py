"""Render the period report as a text table, CSV or JSON (the CLI's and Slack's files).

The columns of the first report come first and keep their names (scripts read them); the
figures from the offers (fair share in leads, passes, SLA misses, time to accept) follow.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from bot.routing.ledger.report import PeriodReport
from bot.routing.results import ReportRow

COLUMNS = (
    "period",
    "queue",
    "name",
    "slack_id",
    "leads",
    "target_share",
    "actual_share",
    "lag",
    "adjustments",
    "weight",
    "status",
    "fair_share",
    "passes",
    "sla_misses",
    "accepted",
    "median_accept_seconds",
    "p90_accept_seconds",
)
HEADER = ("period", "queue", "member", "slack id", "leads", "target", "actual", "lag", "adj", "weight",
          "status", "fair", "passes", "sla", "accepted", "median", "p90")

Rows = Sequence[ReportRow] | PeriodReport


def report_rows(report: Rows) -> list[dict[str, Any]]:
    """One flat row per queue and member, keyed by `COLUMNS` (the old rows lack the new ones)."""
    if not isinstance(report, PeriodReport):
        return [asdict(row) for row in report]
    return [
        {
            "period": report.period,
            "queue": queue.name,
            "name": member.name,
            "slack_id": member.slack_id,
            "leads": member.received,
            "target_share": member.target_share,
            "actual_share": member.actual_share,
            "lag": member.lag,
            "adjustments": member.adjustments,
            "weight": member.weight,
            "status": member.status,
            "fair_share": member.fair_share,
            "passes": member.passes,
            "sla_misses": member.sla_misses,
            "accepted": member.accept.accepted,
            "median_accept_seconds": _seconds(member.accept.median_seconds),
            "p90_accept_seconds": _seconds(member.accept.p90_seconds),
        }
        for queue, member in report.members()
    ]


def no_leads_note(report: Rows, queue: str | None = None) -> str | None:
    """"No leads in 2026-11 (queue emea)." when the period's rows are all zeros, else None:
    a table of zeros alone reads like a fault, or like a period that was not looked at."""
    rows = report_rows(report)
    if not rows or any(row["leads"] for row in rows):
        return None
    return f"No leads in {rows[0]['period']}" + (f" (queue {queue})." if queue else ".")


def render_report(report: Rows, fmt: str, *, queue: str | None = None) -> str:
    """The rows in `fmt`; a table of a period without leads ends with a line saying so."""
    rows = report_rows(report)
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    if fmt == "csv":
        return report_csv(rows)
    if not rows:
        return "No queues to report.\n"
    cells = [[_cell(row.get(c), c) for c in COLUMNS] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(HEADER)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    note = no_leads_note(report, queue)
    if note is not None:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def report_csv(rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: _inert(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def duration(seconds: float | None) -> str:
    """45s, 12m, 1h05m, 2d3h: a time to accept as a person reads it; "-" when there is none."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 60:
        rest = whole % 60
        return f"{minutes}m{rest:02d}s" if rest and minutes < 10 else f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h{minutes % 60:02d}m"
    return f"{hours // 24}d{hours % 24}h"


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (a member named `=HYPERLINK(…)`),
    written with a leading apostrophe so it is shown as text (OWASP's CSV injection advice).
    Numbers are left alone: their minus sign is theirs."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value: object, column: str) -> str:
    if value is None:
        return "-"
    if column in ("target_share", "actual_share"):
        return f"{float(value) * 100:.1f}%"  # type: ignore[arg-type]
    if column == "lag":
        return f"{float(value):+.2f}"  # type: ignore[arg-type]
    if column == "fair_share":
        return f"{float(value):.1f}"  # type: ignore[arg-type]
    if column.endswith("_accept_seconds"):
        return duration(float(value))  # type: ignore[arg-type]
    return str(value)

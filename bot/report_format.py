"""Render report rows as a text table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

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
)


def no_leads_note(rows: list[ReportRow], queue: str | None = None) -> str | None:
    """"No leads in 2026-11 (queue emea)." when the period's rows are all zeros, else None:
    a table of zeros alone reads like a fault, or like a period that was not looked at."""
    if not rows or any(row.leads for row in rows):
        return None
    return f"No leads in {rows[0].period}" + (f" (queue {queue})." if queue else ".")


def render_report(rows: list[ReportRow], fmt: str, *, queue: str | None = None) -> str:
    """The rows in `fmt`; a table of a period without leads ends with a line saying so."""
    if fmt == "json":
        return json.dumps([asdict(row) for row in rows], indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: _inert(v) for k, v in asdict(row).items()} for row in rows)
        return out.getvalue()
    if not rows:
        return "No queues to report.\n"
    cells = [[_cell(getattr(row, c), c) for c in COLUMNS] for row in rows]
    header = [
        "period",
        "queue",
        "member",
        "slack id",
        "leads",
        "target",
        "actual",
        "lag",
        "adj",
        "weight",
        "status",
    ]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    note = no_leads_note(rows, queue)
    if note is not None:
        lines += ["", note]
    return "\n".join(lines) + "\n"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (a member named `=HYPERLINK(…)`),
    written with a leading apostrophe so it is shown as text (OWASP's CSV injection advice).
    Numbers are left alone: their minus sign is theirs."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value: object, column: str) -> str:
    if column in ("target_share", "actual_share"):
        return f"{float(value) * 100:.1f}%"  # type: ignore[arg-type]
    if column == "lag":
        return f"{float(value):+.2f}"  # type: ignore[arg-type]
    return str(value)

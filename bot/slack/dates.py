"""Days as people type them in Slack: YYYY-MM-DD, and only that."""

from __future__ import annotations

import re
from datetime import date

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_day(text: str) -> date | None:
    """The day `text` names as YYYY-MM-DD, or None. `date.fromisoformat` alone also takes
    `20261205` and `2026-W52-1`, which nobody means when asked for a YYYY-MM-DD."""
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return None

"""`Retry-After` as another side sends it, read into a delay we can live with.

The header comes from outside (a webhook receiver, Slack, a CRM, or whatever answers at their
address), so any text may be in it: seconds (`120`, `1.5`, `-3`, `1e400`, `nan`), an HTTP date
(`Wed, 21 Oct 2026 07:28:00 GMT`, in the past or in the year 9999) or garbage. Whatever it
says, the delay read from it is a finite number of seconds between 0 and `MAX_RETRY_AFTER`,
or None when it says nothing usable (then the loop's own backoff decides).

Why a cap at all, and why an hour: a message waits at most its Retry-After, and an unbounded
one (`1e11` s, `inf`) would overflow a datetime and, before this, crashed the loop; a delay of
days would leave the event owed and silent while its attempts are never used up, so it would
neither arrive nor be given up visibly. An hour is longer than any real rate limit (Slack's
are seconds to a minute) and short enough that `max_attempts` tries end, at worst, in a
visible give-up within a working day.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

MAX_RETRY_AFTER = 3600.0  # seconds; see the module's docstring
MAX_HEADER_CHARS = 100  # longer than any date or number worth reading


def bounded_delay(seconds: float | None) -> float | None:
    """`seconds` clamped to 0..MAX_RETRY_AFTER; None for None or NaN (it says nothing)."""
    if seconds is None:
        return None
    try:
        seconds = float(seconds)
    except (TypeError, ValueError, OverflowError):
        return None
    if math.isnan(seconds):
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


def retry_after_seconds(value: Any, *, now: datetime | None = None) -> float | None:
    """The delay a `Retry-After` header asks for, in seconds (bounded), or None.

    Seconds or an HTTP date (RFC 9110), measured from `now` (the wall clock: the other side's
    date is a real time, whatever clock the loop runs on)."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return bounded_delay(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_HEADER_CHARS:
        return None
    try:
        return bounded_delay(float(text))  # '1e400' is inf, so the cap
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # '-0000' (RFC 5322's "unknown zone"): HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    try:
        return bounded_delay((when - (now or datetime.now(UTC))).total_seconds())
    except OverflowError:
        return MAX_RETRY_AFTER

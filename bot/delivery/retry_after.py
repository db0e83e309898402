"""`Retry-After` as another side sends it, read into a delay we can live with.

The header comes from outside (a webhook receiver, Slack, a CRM, or whatever answers at their
address), so any text may be in it: seconds (`120`, `1.5`, `-3`, `1e400`, `nan`), an HTTP date
(`Wed, 21 Oct 2026 07:28:00 GMT`, in the past or in the year 9999) or garbage. Whatever it
says, the delay read from it is a finite number of seconds between 0 and `MAX_RETRY_AFTER`,
or None when it says nothing usable (then the loop's own backoff decides).

Why a cap at all, and why an hour: a message waits at most its Retry-After, and an unbounded
one (`1e11` s, `inf`) would overflow a datetime and, before this, crashed the loop; a delay of
days would leave the event owed and silent. An hour is longer than any real rate limit
(Slack's are seconds to a minute).

A rate limit that says when to come back is not a failed attempt. Slack answers
chat.postMessage past about a message a second per channel with 429 and a Retry-After, and a
burst of leads to one queue's channel gets that answer again and again while its posts wait
their turn: that is the channel being busy, not the message failing. Counting each 429 as an
attempt gave a 2,500-lead burst's announcements up after `max_attempts` answers of "in a
second". So a 429 with a usable Retry-After (Slack's, the webhook's, the CRM's) puts the
message back until then, its attempt not spent; what ends a message's tries is real failures
(`max_attempts` of them, as before) or age: a message still unsent `MAX_UNSENT_AGE` after it
was owed, when it meets such a wait again, is given up on visibly (counted, the managers' channel
told), so a destination that never stops asking us to wait cannot keep it owed and silent.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

MAX_RETRY_AFTER = 3600.0  # seconds; see the module's docstring
MAX_HEADER_CHARS = 100  # longer than any date or number worth reading
MAX_UNSENT_AGE = 3600.0
"""Seconds a message may wait on rate limits (uncounted) after it was owed before it is given
up on. An hour: a lead announcement or a rep's DM an hour late is news the team already has
from elsewhere (the rep has missed the first-response window a sales team measures in minutes,
and the managers should hear of it), while any real burst drains well within it: at Slack's
~1 post a second per channel, an hour is 3,600 posts to the one busiest channel."""


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

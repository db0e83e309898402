"""Which names are timezones: one answer for the config, Slack profiles and the core."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_NAME = 64  # the longest IANA name is about 30 characters


@lru_cache(maxsize=512)
def is_timezone(name: str) -> bool:
    """Whether `name` is an IANA timezone ZoneInfo can load.

    ZoneInfo raises more than ZoneInfoNotFoundError: a folder of the tz database
    (`America/Argentina`) is an IsADirectoryError, an over-long name an OSError; both are
    "not a timezone", and must never look like a database or disk error to the caller.
    """
    if not name or len(name) > MAX_NAME:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True

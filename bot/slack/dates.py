"""Days as people type them in Slack (YYYY-MM-DD, and only that), and moments as Slack shows
them: `<!date^UNIX^TOKENS|fallback>`, which each reader's client renders in their own timezone.

Why one module: every date the bot writes goes through `slack_date`, so no answer prints UTC
(or the server's zone) to a reader in Tokyo, and the fallback (what a client that cannot
render the token shows, and what notifications and the `text` field read) names its zone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

DEFAULT_STYLE = "{date_short_pretty} {time}"
"""Slack's tokens: "today 14:30", "Dec 17, 2026 09:00" (12- or 24-hour as the reader prefers)."""

_TOKENS = re.compile(r"\{([a-z_]+)\}")
KNOWN_TOKENS = frozenset({
    "date_num", "date_slash", "date", "date_short", "date_long", "date_long_full",
    "date_pretty", "date_short_pretty", "date_long_pretty", "day_divider_pretty",
    "time", "time_secs", "ago",
})
"""The tokens of Slack's "Formatting text: dates"; anything else would print literally."""


def iso_day(text: str) -> date | None:
    """The day `text` names as YYYY-MM-DD, or None. `date.fromisoformat` alone also takes
    `20261205` and `2026-W52-1`, which nobody means when asked for a YYYY-MM-DD."""
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return None


def aware(moment: datetime) -> datetime:
    """A stored moment with its zone: the store keeps UTC, sometimes without saying so."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_moment(iso: str) -> datetime:
    """A stored ISO moment (UTC when it names no zone)."""
    return aware(datetime.fromisoformat(iso))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_words(moment: datetime, zone_name: str = "UTC", now: datetime | None = None, *,
                with_time: bool = True) -> str:
    """"Thu Dec 17, 09:00" in the zone, with the year when it is not this one there."""
    zone = _zone(zone_name)
    local = aware(moment).astimezone(zone)
    this_year = aware(now or datetime.now(UTC)).astimezone(zone).year
    day = "%a %b %-d" if local.year == this_year else "%a %b %-d %Y"
    return local.strftime(day + ", %H:%M" if with_time else day)


def fallback_text(moment: datetime, zone_name: str = "UTC", now: datetime | None = None, *,
                  with_time: bool = True) -> str:
    """Plain words in a named zone: "Tue Dec 1, 14:30 UTC", "Sat Jan 2 2027 (Asia/Tokyo)"."""
    zone = _zone(zone_name).key
    words = local_words(moment, zone, now, with_time=with_time)
    return f"{words} {zone}" if with_time else f"{words} ({zone})"


def slack_date(moment: datetime, style: str = DEFAULT_STYLE, *, fallback_zone: str = "UTC",
               link: str | None = None, now: datetime | None = None) -> str:
    """`moment` as `<!date^UNIX^STYLE|fallback>`: each reader's client shows it in their own
    timezone and format; `fallback` (plain words in `fallback_zone`, the zone named, the year
    when it is not `now`'s) is what clients that cannot render it, notifications and search
    show.

    `style` holds Slack's tokens (`{date_short_pretty} {time}`); an unknown token is refused
    here rather than printed literally to people. `link`, when given, makes the date a link;
    the bot passes only URLs it built itself.
    """
    unknown = set(_TOKENS.findall(style)) - KNOWN_TOKENS
    if unknown:
        raise ValueError(f"Slack knows no date token {', '.join(sorted(unknown))}")
    if any(ch in style for ch in "^|<>"):
        raise ValueError("a date style cannot hold ^, |, < or >")
    stamp = int(aware(moment).timestamp())
    link_part = f"^{link}" if link else ""
    with_time = "{time" in style or "{ago}" in style
    words = fallback_text(moment, fallback_zone, now, with_time=with_time)
    return f"<!date^{stamp}^{style}{link_part}|{words}>"

"""`/rotation calendar [URL | off]`: a member's private iCalendar feed of time off.

Why never echo the URL: a calendar's secret address ("private address in iCal format")
lets anyone read the whole calendar; answers name only its host, and only to the member.
Slack wraps links in command text as `<https://...>` or `<https://...|label>` and escapes
`&` as `&amp;`, so the text is unwrapped and unescaped before it is checked.
The server fetches the feed, so an address that resolves to loopback, private, link-local
or metadata networks is refused here at once (and again by the job, on every redirect).
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from urllib.parse import urlsplit

from bot.jobs.feed_address import LOOKUP_SECONDS, AddressPolicy, FeedRefused, checked_addresses, fetch_url
from bot.routing.service import RoutingService
from bot.slack.answers import Refusal, clip, escape

SCHEMES = ("http", "https", "webcal")
MAX_URL = 2000
WRAPPED = re.compile(r"^<([^|>]*)(?:\|[^>]*)?>$")
USAGE = ("Write `/rotation calendar https://…/basic.ics` (your calendar's private iCal address), "
         "`/rotation calendar off` to remove it, or `/rotation calendar` to see if one is set.")
OFF_WORDS = frozenset({"off", "remove", "none", "clear", "delete"})
log = logging.getLogger(__name__)


def unwrap(text: str) -> str:
    """The URL Slack sent: `<url|label>` -> url, with Slack's &amp; &lt; &gt; undone."""
    text = text.strip()
    match = WRAPPED.match(text)
    return html.unescape(match.group(1) if match else text).strip()


def host_of(url: str) -> str:
    return urlsplit(url).hostname or "?"


def check_url(raw: str) -> str:
    """The feed URL to store, or a Refusal saying what is wrong (nothing is changed)."""
    url = unwrap(raw)
    shown = escape(clip(url, 80))
    if not url:
        raise Refusal(USAGE)
    if len(url) > MAX_URL:
        raise Refusal(f"That address is longer than {MAX_URL} characters; nothing was changed.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise Refusal(f"`{shown}` is not a web address. {USAGE} Nothing was changed.") from None
    if parts.scheme.lower() not in SCHEMES or not parts.hostname or any(c.isspace() for c in url):
        raise Refusal(f"`{shown}` is not an http(s) or webcal address of a calendar feed. "
                      f"{USAGE} Nothing was changed.")
    return url


async def check_destination(url: str) -> str:
    """A Refusal if the feed's server is somewhere feeds may not be fetched from; else a
    remark for the answer ("" when the name was looked up and is fine)."""
    try:
        policy = AddressPolicy.from_env()
    except ValueError as error:
        log.error("calendar feeds: %s", error)
        raise Refusal("Calendar feeds can't be checked right now (the operator's list of trusted "
                      "networks is not valid). Nothing was changed.") from None
    try:
        _target, host, port = fetch_url(url)
    except FeedRefused as error:
        raise Refusal(f"{sentence(str(error))}. {USAGE} Nothing was changed.") from None
    try:
        async with asyncio.timeout(LOOKUP_SECONDS):
            await checked_addresses(host, port, policy)
    except FeedRefused as error:
        raise Refusal(f"{sentence(str(error))}: give the public address of your calendar's feed. "
                      "Nothing was changed.") from None
    except (OSError, TimeoutError):
        return (f" (I couldn't look up *{escape(host)}* just now; if it stays that way, "
                "I'll tell you.)")
    return ""


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


async def current(service: RoutingService, slack_id: str) -> str | None:
    """The member's feed URL, if any (the core lists feeds of members in the config)."""
    await service.availability.member_status(slack_id)  # NotFound with the core's words for non-members
    return next((url for who, url in await service.availability.calendars() if who == slack_id), None)


async def run(service: RoutingService, slack_id: str, args: list[str]) -> str:
    words = " ".join(args).strip()
    if not words:
        url = await current(service, slack_id)
        if url is None:
            return f"You have no calendar feed. {USAGE}"
        return (f"Your calendar feed on *{escape(host_of(url))}* is checked regularly; time off in it "
                "becomes scheduled leave. `/rotation calendar off` removes it.")
    if words.lower() in OFF_WORDS:
        if await current(service, slack_id) is None:
            return "You have no calendar feed; nothing was changed."
        await service.availability.set_calendar(slack_id, None, actor=slack_id)
        return ("Calendar feed removed. Leave it already added stays scheduled; "
                "`/rotation away` lists it.")
    url = check_url(words)
    await service.availability.member_status(slack_id)  # a stranger learns nothing about our network
    remark = await check_destination(url)
    await service.availability.set_calendar(slack_id, url, actor=slack_id)
    return (f"Calendar feed on *{escape(host_of(url))}* saved{remark}. Events titled like time off "
            "(OOO, vacation, PTO...) become scheduled leave within the next check.")

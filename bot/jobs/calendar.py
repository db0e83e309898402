"""Calendar sync: each member's iCalendar feed becomes scheduled leave.

Feeds are fetched concurrently (a few at a time, with a timeout). A feed that cannot be
loaded or read is retried on the next run and reported to its member once per URL; one
member's broken feed never stops the others.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import aiohttp

from bot.jobs.context import JobContext
from bot.jobs.ics import FeedError, parse_absences
from bot.jobs.notes import note_member
from bot.routing.errors import RoutingError
from bot.routing.team import TeamSettings

NAME = "calendar"
INTERVAL_SECONDS = 15 * 60.0
FETCH_TIMEOUT_SECONDS = 20.0
MAX_FEED_BYTES = 5 * 1024 * 1024
CONCURRENT_FETCHES = 4

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FeedResult:
    slack_id: str
    ok: bool
    added: int = 0
    cancelled: int = 0
    error: str | None = None


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


async def run(context: JobContext) -> dict[str, object]:
    feeds = await context.service.calendars()
    if not feeds:
        return {"feeds": 0, "synced": 0, "failed": 0, "added": 0, "cancelled": 0}
    team = await context.service.team()
    limit = asyncio.Semaphore(CONCURRENT_FETCHES)
    timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async def one(slack_id: str, url: str) -> FeedResult:
            async with limit:
                return await sync_feed(context, session, team, slack_id, url)

        results = await asyncio.gather(*(one(slack_id, url) for slack_id, url in feeds))
    return {
        "feeds": len(results), "synced": sum(r.ok for r in results),
        "failed": sum(not r.ok for r in results), "added": sum(r.added for r in results),
        "cancelled": sum(r.cancelled for r in results),
    }


async def sync_feed(context: JobContext, session: aiohttp.ClientSession, team: TeamSettings,
                    slack_id: str, url: str) -> FeedResult:
    """Fetch, read and apply one member's feed; failures become a note, never an exception."""
    try:
        data = await fetch(session, url)
        zone = (await context.service.member_status(slack_id)).timezone
        today = context.clock.now().astimezone(ZoneInfo(zone)).date()
        absences = parse_absences(data, team, zone, today)
        counts = await context.service.sync_calendar(slack_id, absences)
    except (aiohttp.ClientError, TimeoutError, FeedError, RoutingError, UnicodeError) as error:
        reason = describe(error)
        log.warning("calendar feed of %s (%s) failed: %s", slack_id, url_hash(url), reason)
        await note_member(
            context.db, slack_id,
            f"I couldn't read your calendar feed ({reason}). I'll keep trying; until it works, "
            "time off in that calendar won't pause your leads. Use `/rotation away` to be sure.",
            key=f"calendar-failed:{slack_id}:{url_hash(url)}", now=context.clock.now())
        return FeedResult(slack_id, False, error=reason)
    return FeedResult(slack_id, True, counts.get("added", 0), counts.get("cancelled", 0))


async def fetch(session: aiohttp.ClientSession, url: str) -> bytes:
    if url.startswith("webcal://"):
        url = "https://" + url.removeprefix("webcal://")
    async with session.get(url) as response:
        if response.status >= 400:
            raise FeedError(f"the server answered HTTP {response.status}")
        data = await response.content.read(MAX_FEED_BYTES + 1)
        if len(data) > MAX_FEED_BYTES:
            raise FeedError("the feed is larger than 5 MB")
        return data


def describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"it did not answer within {FETCH_TIMEOUT_SECONDS:.0f} seconds"
    if isinstance(error, aiohttp.InvalidURL):
        return "the address is not a valid URL"
    if isinstance(error, aiohttp.ClientError):
        return f"it could not be loaded: {error.__class__.__name__}"
    return str(error)

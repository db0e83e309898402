"""Calendar sync: each member's iCalendar feed becomes scheduled leave.

Feeds are fetched concurrently (a few at a time, with a timeout). A feed that cannot be
loaded or read is retried on the next run and reported to its member once per URL; one
member's broken feed never stops the others. Feed URLs come from members, so they are
fetched through `feed_fetch` (no loopback, private, link-local or metadata addresses,
checked on every redirect), and what a feed answered is never quoted in the note.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import aiohttp

from bot.jobs.context import JobContext
from bot.jobs.feed_address import AddressPolicy, FeedRefused
from bot.jobs.feed_fetch import fetch_feed, guarded_session
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
    feeds = await context.service.availability.calendars()
    if not feeds:
        return {"feeds": 0, "synced": 0, "failed": 0, "added": 0, "cancelled": 0}
    team = await context.service.admin.team()
    policy = AddressPolicy.from_env()
    limit = asyncio.Semaphore(CONCURRENT_FETCHES)
    async with guarded_session(policy, FETCH_TIMEOUT_SECONDS) as session:
        async def one(slack_id: str, url: str) -> FeedResult:
            async with limit:
                return await sync_feed(context, session, policy, team, slack_id, url)

        results = await asyncio.gather(*(one(slack_id, url) for slack_id, url in feeds))
    return {
        "feeds": len(results), "synced": sum(r.ok for r in results),
        "failed": sum(not r.ok for r in results), "added": sum(r.added for r in results),
        "cancelled": sum(r.cancelled for r in results),
    }


async def sync_feed(context: JobContext, session: aiohttp.ClientSession, policy: AddressPolicy,
                    team: TeamSettings, slack_id: str, url: str) -> FeedResult:
    """Fetch, read and apply one member's feed; failures become a note, never an exception."""
    try:
        data = await fetch_feed(session, url, policy, max_bytes=MAX_FEED_BYTES,
                                timeout_seconds=FETCH_TIMEOUT_SECONDS)
        zone = (await context.service.availability.member_status(slack_id)).timezone
        today = context.clock.now().astimezone(ZoneInfo(zone)).date()
        absences = parse_absences(data, team, zone, today)
        counts = await context.service.availability.sync_calendar(slack_id, absences)
    except (aiohttp.ClientError, TimeoutError, FeedError, FeedRefused, RoutingError,
            UnicodeError) as error:
        reason = describe(error)
        log.warning("calendar feed of %s (%s) failed: %s", slack_id, url_hash(url), reason)
        await note_member(context.db, slack_id, failure_note(error, reason),
                          key=f"calendar-failed:{slack_id}:{url_hash(url)}", now=context.clock.now())
        return FeedResult(slack_id, False, error=reason)
    return FeedResult(slack_id, True, counts.get("added", 0), counts.get("cancelled", 0))


def failure_note(error: BaseException, reason: str) -> str:
    if isinstance(error, FeedRefused):
        return (f"I won't read your calendar feed: {reason}. Time off in that calendar won't pause "
                "your leads; set a public address with `/rotation calendar URL`, or use "
                "`/rotation away`.")
    return (f"I couldn't read your calendar feed ({reason}). I'll keep trying; until it works, "
            "time off in that calendar won't pause your leads. Use `/rotation away` to be sure.")


def describe(error: BaseException) -> str:
    """Why a feed failed, in words that never quote what the feed's server answered."""
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return f"it did not answer within {FETCH_TIMEOUT_SECONDS:g} seconds"
    if isinstance(error, aiohttp.InvalidURL):
        return "the address is not a valid URL"
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return "its server's name could not be looked up"
    if isinstance(error, aiohttp.ClientSSLError):
        return "its server's certificate could not be verified"
    if isinstance(error, aiohttp.ClientConnectorError):
        return "its server could not be reached"
    if isinstance(error, aiohttp.ClientError):
        return "the connection to its server broke off"
    if isinstance(error, RoutingError):
        return "its time off could not be saved"
    if isinstance(error, UnicodeError):
        return "not an iCalendar file"
    return str(error)  # FeedError, FeedRefused: our own plain words

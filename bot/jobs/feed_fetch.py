"""Fetching a member-given calendar feed without letting it reach inside our network.

Why this much care: the URL is chosen by any member, and the server fetches it. So the
session resolves names itself (`GuardedResolver`), refuses a name if any address it
resolves to is forbidden (see `feed_address`), and hands the connector only those checked
addresses: there is no second DNS lookup a rebinding name could answer differently.
Redirects are followed here, not by aiohttp, so every hop is checked the same way; the
whole fetch has one time limit and the body one size limit; and a body that is not an
iCalendar file is refused without quoting a byte of it (it could be anyone's secrets).
"""

from __future__ import annotations

import asyncio
import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from bot.jobs import feed_address
from bot.jobs.feed_address import AddressPolicy, FeedRefused
from bot.jobs.ics import FeedError

MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024
HEADERS = {"Accept": "text/calendar, */*;q=0.5", "Accept-Encoding": "identity",
           "User-Agent": "lead-rotation-calendar-sync"}


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver hook: only addresses the policy allows ever reach the connector."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_UNSPEC) -> list[ResolveResult]:
        addresses = await feed_address.checked_addresses(host, port, self.policy)
        results: list[ResolveResult] = []
        for address in addresses:
            found = socket.AF_INET if address.version == 4 else socket.AF_INET6
            if family in (socket.AF_UNSPEC, found):
                results.append({"hostname": host, "host": str(address), "port": port, "family": found,
                                "proto": 0, "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV})
        if not results:
            raise socket.gaierror(socket.EAI_NONAME, "no address of the wanted family")
        return results

    async def close(self) -> None:
        return None


def guarded_session(policy: AddressPolicy, timeout_seconds: float) -> aiohttp.ClientSession:
    """A session for member-given URLs: our resolver, no DNS cache, no proxies from the
    environment, no cookies carried from one member's feed to another's, no decompression
    (we ask for none; a compressed body then fails the calendar check instead of inflating)."""
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy), use_dns_cache=False)
    return aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout_seconds), trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False, headers=HEADERS)


async def fetch_feed(session: aiohttp.ClientSession, url: str, policy: AddressPolicy, *,
                     max_bytes: int, timeout_seconds: float) -> bytes:
    """The feed's bytes, or FeedRefused / FeedError (plain words) / TimeoutError / ClientError."""
    async with asyncio.timeout(timeout_seconds):
        for _hop in range(MAX_REDIRECTS + 1):
            target, host, _port = feed_address.fetch_url(url)
            literal = feed_address.literal_address(host)
            if literal is not None:  # aiohttp connects to a literal without asking the resolver
                policy.check(literal)
            async with session.get(target, allow_redirects=False) as response:
                if response.status in REDIRECTS:
                    url = next_hop(response)
                    continue
                if response.status >= 400:
                    raise FeedError(f"the server answered HTTP {response.status}")
                if response.status != 200:
                    raise FeedError(f"the server answered HTTP {response.status} instead of a calendar")
                body = await read_capped(response, max_bytes)
            if not looks_like_calendar(body):
                raise FeedError("what the address answered is not an iCalendar file")
            return body
    raise FeedError(f"the address redirected more than {MAX_REDIRECTS} times")


def next_hop(response: aiohttp.ClientResponse) -> str:
    location = response.headers.get("Location", "").strip()
    if not location:
        raise FeedError("the server answered with a redirect that leads nowhere")
    try:
        return str(response.url.join(URL(location)))
    except ValueError:
        raise FeedError("the server redirected to something that is not a web address") from None


async def read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    too_big = FeedError(f"the feed is larger than {size_words(max_bytes)}")
    if response.content_length is not None and response.content_length > max_bytes:
        raise too_big
    data = bytearray()
    async for chunk in response.content.iter_chunked(CHUNK_BYTES):
        data += chunk
        if len(data) > max_bytes:
            raise too_big
    return bytes(data)


def looks_like_calendar(body: bytes) -> bool:
    """An iCalendar file starts with BEGIN:VCALENDAR (after a byte-order mark or blank lines)."""
    start = body.removeprefix(b"\xef\xbb\xbf").lstrip()[:15]
    return start.upper() == b"BEGIN:VCALENDAR"


def size_words(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):g} MB"
    return f"{count / 1024:g} KB" if count >= 1024 else f"{count} bytes"


__all__ = ["FeedRefused", "GuardedResolver", "fetch_feed", "guarded_session"]

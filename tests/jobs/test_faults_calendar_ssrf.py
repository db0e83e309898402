"""Attacks on the calendar job through a member's feed URL (server-side request forgery).

A member sets any URL with `/rotation calendar URL`; the job fetches it from inside our
network. Each test is one attack: the job must not connect where feeds may not go (checked
after DNS, on every redirect), must stop at its size and time limits, and must never quote
what an address answered, neither in the member's note (the outbox) nor in the log.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from calendar_feeds import Feeds, calendar_runner, feed_server, logged, note_texts, outbox

from bot.jobs import calendar as calendar_job
from bot.jobs import feed_address
from bot.jobs.feed_address import ALLOW_ENV

CALENDAR = (Path(__file__).parent / "calendars" / "vacation.ics").read_bytes()
CONFIG = """
timezone: UTC
members:
  - {slack_id: U0ALICE, name: Alice}
  - {slack_id: U0BOB, name: Bob}
queues:
  - {name: all, members: [{slack_id: U0ALICE}, {slack_id: U0BOB}]}
rules:
  - {name: all, queue: all}
"""
# What an internal endpoint (our /metrics, a metadata service) would answer.
SECRET = (b"# HELP rotation_leads_total Leads received by source\n"
          b"# TYPE rotation_leads_total counter\n"
          b'{"AccessKeyId": "ASIAEXAMPLEKEY", "SecretAccessKey": "wJalrXUtnFEMIK7MDENGbPxRfiCY"}\n')
SECRET_WORDS = ("HELP rotation_leads_total", "rotation_leads_total", "ASIAEXAMPLEKEY", "wJalrXUtnFEMI")

Sync = Callable[..., Awaitable[tuple[dict[str, Any], str]]]


@pytest.fixture
async def internal() -> AsyncIterator[tuple[Feeds, TestServer]]:
    """A server inside our network (127.0.0.2) holding secrets: feeds must never reach it."""
    async with feed_server("127.0.0.2") as (state, server):
        state.serve("/latest/meta-data/iam", SECRET, **{"Content-Type": "text/plain"})
        yield state, server


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[list[str]]]:
    """name -> the answers DNS gives, one list per lookup (the last one repeats)."""
    answers: dict[str, list[list[str]]] = {}

    async def lookup(host: str, port: int) -> list[feed_address.IPAddress]:
        found = answers.get(host.rstrip(".").lower())
        if found is None:
            return await feed_address.system_lookup(host, port)
        current = found.pop(0) if len(found) > 1 else found[0]
        return [ipaddress.ip_address(a) for a in current]

    monkeypatch.setattr(feed_address, "lookup", lookup)
    return answers


@pytest.fixture
async def sync(make_sqlite_service, clock, caplog) -> Sync:
    """Set Alice's feed to `url`, run the calendar job once: (its result, Alice's note or "")."""
    caplog.set_level(logging.DEBUG)
    service = await make_sqlite_service(CONFIG)

    async def run(url: str, *, bob: str | None = None) -> tuple[dict[str, Any], str]:
        await service.availability.set_calendar("U0ALICE", url, actor="U0ALICE")
        if bob is not None:
            await service.availability.set_calendar("U0BOB", bob, actor="U0BOB")
        result = (await calendar_runner(service, clock).run_once())["calendar"]
        clock.advance(minutes=15)
        told = json.dumps(await outbox(service))
        for words in SECRET_WORDS:
            assert words not in told, "a secret was quoted to a member"
            assert words not in logged(caplog.records), "a secret was written to the log"
        return result, (await note_texts(service)).get("U0ALICE", "")

    run.service = service  # type: ignore[attr-defined]
    return run


def refused(result: dict[str, Any], note: str, words: str) -> None:
    assert result["failed"] == 1 and result["added"] == 0, result
    assert note.startswith("I won't read your calendar feed: the address points to "), note
    assert words in note and "/rotation calendar" in note, note


@pytest.mark.parametrize(("url", "words"), [
    ("http://127.0.0.1:{port}/secret", "this server itself"),
    ("webcal://127.0.0.1:{port}/secret", "this server itself"),
    ("http://localhost:{port}/secret", "this server itself"),
    ("http://[::1]:{port}/secret", "this server itself"),
    ("http://[::ffff:127.0.0.1]:{port}/secret", "this server itself"),
    ("http://2130706433:{port}/secret", "this server itself"),
    ("http://0x7f.1:{port}/secret", "this server itself"),
    ("http://0.0.0.0:{port}/secret", "an unspecified address"),
    ("http://[::]:{port}/secret", "an unspecified address"),
    ("http://10.0.0.1/calendar.ics", "a private network"),
    ("http://172.16.5.4/calendar.ics", "a private network"),
    ("http://192.168.1.1/calendar.ics", "a private network"),
    ("http://[fd12:3456::1]/calendar.ics", "a private network"),
    ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "link-local"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "a private network"),
    ("http://[fe80::1]/calendar.ics", "link-local"),
    ("http://[::ffff:169.254.169.254]/latest/meta-data/", "link-local"),
    ("http://[2002:7f00:1::]/calendar.ics", "this server itself"),  # 6to4 wrapping 127.0.0.1
    ("http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", "link-local"),  # NAT64 wrapping metadata
    ("http://100.64.0.1/calendar.ics", "carrier-grade NAT"),
    ("http://224.0.0.1/calendar.ics", "multicast"),
    ("http://240.0.0.1/calendar.ics", "reserved"),
    ("http://192.0.0.8/calendar.ics", "reserved"),
])
async def test_forbidden_addresses_are_never_fetched(sync: Sync, feeds, url: str, words: str) -> None:
    """Attack: a feed URL naming this server, a private network or the metadata service, in
    any spelling (IPv6, IPv4-mapped, decimal, hex, 6to4, NAT64)."""
    state, server = feeds
    state.serve("/secret", SECRET)
    result, note = await sync(url.format(port=server.port))
    refused(result, note, words)
    assert state.hits == []


async def test_a_public_looking_name_that_resolves_to_loopback(sync: Sync, feeds, fake_dns) -> None:
    """Attack: calendar.example.com whose DNS answer is 127.0.0.1 (the check is after DNS)."""
    state, server = feeds
    state.serve("/secret", SECRET)
    fake_dns["calendar.example.com"] = [["127.0.0.1"]]
    result, note = await sync(f"https://calendar.example.com:{server.port}/secret")
    refused(result, note, "this server itself")
    assert state.hits == []


async def test_a_name_with_a_public_and_a_private_address(sync: Sync, fake_dns) -> None:
    """Attack: a name that resolves to one public and one private address (any one refuses)."""
    fake_dns["cal.example.com"] = [["93.184.215.14", "10.1.2.3"]]
    result, note = await sync("https://cal.example.com/basic.ics")
    refused(result, note, "a private network")


async def test_the_connection_goes_to_the_checked_address(sync: Sync, feeds, fake_dns, monkeypatch) -> None:
    """Attack: DNS rebinding. The job connects to the address it checked (no second lookup),
    and looks up again on every run: a name that moves to loopback is refused from then on."""
    state, server = feeds
    state.serve("/cal.ics", CALENDAR)
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32")  # stands in for a public address here
    fake_dns["feeds.rebind.test"] = [["127.0.0.1"], ["127.0.0.2"]]  # .test never resolves for real
    result, note = await sync(f"http://feeds.rebind.test:{server.port}/cal.ics")
    assert result["synced"] == 1 and result["added"] == 5 and note == ""
    result, note = await sync(f"http://feeds.rebind.test:{server.port}/cal.ics")
    refused(result, note, "this server itself")
    assert state.hits == ["/cal.ics"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_from_an_allowed_server_to_a_forbidden_one(sync: Sync, feeds, internal,
                                                                    monkeypatch, status: int) -> None:
    """Attack: a trusted feed server answers with a redirect to an internal one."""
    state, server = feeds
    inside, inside_server = internal
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32")
    state.redirect("/cal.ics", str(inside_server.make_url("/latest/meta-data/iam")), status)
    result, note = await sync(str(server.make_url("/cal.ics")))
    refused(result, note, "this server itself")
    assert state.hits == ["/cal.ics"] and inside.hits == []


async def test_the_same_redirect_is_followed_when_the_target_is_trusted(sync: Sync, feeds, internal,
                                                                        monkeypatch) -> None:
    """Control for the redirect attack: trusted both ends, the hop is made, and what it
    answered (not a calendar) is still not quoted."""
    state, server = feeds
    inside, inside_server = internal
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8")
    state.redirect("/cal.ics", str(inside_server.make_url("/latest/meta-data/iam")))
    result, note = await sync(str(server.make_url("/cal.ics")))
    assert result["failed"] == 1 and inside.hits == ["/latest/meta-data/iam"]
    assert note.startswith("I couldn't read your calendar feed (what the address answered is not an "
                           "iCalendar file)")


@pytest.mark.parametrize(("location", "words"), [
    ("http://169.254.169.254/latest/meta-data/", "the address points to a link-local address"),
    ("http://localhost:{port}/cal.ics", "the address points to this server itself"),
    ("file:///etc/passwd", "only http and https addresses may be calendar feeds"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "only http and https addresses may be calendar feeds"),
])
async def test_redirects_to_metadata_loopback_or_other_schemes(sync: Sync, feeds, monkeypatch,
                                                               location: str, words: str) -> None:
    """Attack: a trusted server redirects to metadata, to `localhost`, or off http(s)."""
    state, server = feeds
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32")
    monkeypatch.setattr(feed_address, "lookup", _only_localhost)
    state.redirect("/cal.ics", location.format(port=server.port), 307)
    result, note = await sync(str(server.make_url("/cal.ics")))
    assert result["failed"] == 1 and words in note, note
    assert state.hits == ["/cal.ics"]


async def _only_localhost(host: str, port: int) -> list[feed_address.IPAddress]:
    """`localhost` as an attacker's resolver would like it: an address the operator does not trust."""
    return [ipaddress.ip_address("127.0.0.3")]


async def test_a_redirect_loop_gives_up(sync: Sync, feeds, trust_loopback) -> None:
    """Attack: a server that redirects to itself forever."""
    state, server = feeds
    state.redirect("/loop.ics", "/loop.ics")
    result, note = await sync(str(server.make_url("/loop.ics")))
    assert result["failed"] == 1 and "redirected more than 5 times" in note
    assert state.hits == ["/loop.ics"] * 6


async def test_a_relative_redirect_on_a_trusted_server_is_followed(sync: Sync, feeds, trust_loopback) -> None:
    """Not an attack: a feed that moved on its own server still syncs (redirects work)."""
    state, server = feeds
    state.redirect("/old/cal.ics", "../new/cal.ics", 301)
    state.serve("/new/cal.ics", CALENDAR)
    result, note = await sync(str(server.make_url("/old/cal.ics")))
    assert result == {"feeds": 1, "synced": 1, "failed": 0, "added": 5, "cancelled": 0} and note == ""
    assert state.hits == ["/old/cal.ics", "/new/cal.ics"]


async def test_a_body_that_never_ends_is_cut_at_the_size_limit(sync: Sync, feeds, trust_loopback,
                                                               monkeypatch) -> None:
    """Attack: an endless calendar (no Content-Length) meant to fill the server's memory."""
    state, server = feeds
    monkeypatch.setattr(calendar_job, "MAX_FEED_BYTES", 256 * 1024)
    result, note = await sync(str(server.make_url("/endless.ics")))
    assert result["failed"] == 1 and "the feed is larger than 256 KB" in note, note
    assert state.hits == ["/endless.ics"]


async def test_a_declared_huge_body_is_refused_before_reading(sync: Sync, feeds, trust_loopback,
                                                              monkeypatch) -> None:
    """Attack: a body whose Content-Length is over the limit."""
    state, server = feeds
    monkeypatch.setattr(calendar_job, "MAX_FEED_BYTES", 1024)
    state.serve("/big.ics", CALENDAR + b" " * 2048)
    result, note = await sync(str(server.make_url("/big.ics")))
    assert result["failed"] == 1 and "the feed is larger than 1 KB" in note, note


async def test_a_body_dribbled_byte_by_byte_hits_the_time_limit(sync: Sync, feeds, trust_loopback,
                                                                monkeypatch) -> None:
    """Attack: a feed that sends a byte every 50 ms forever (the whole fetch has one time
    limit), while another member's feed in the same run still syncs."""
    state, server = feeds
    monkeypatch.setattr(calendar_job, "FETCH_TIMEOUT_SECONDS", 0.5)
    state.serve("/bob.ics", CALENDAR)
    result, note = await sync(str(server.make_url("/dribble.ics")), bob=str(server.make_url("/bob.ics")))
    assert result == {"feeds": 2, "synced": 1, "failed": 1, "added": 5, "cancelled": 0}
    assert "it did not answer within 0.5 seconds" in note, note


async def test_an_internal_page_is_never_quoted(sync: Sync, feeds, trust_loopback) -> None:
    """Attack: the address answers /metrics-like text (or metadata keys): the member is told
    it is not a calendar, and no line of it appears in any message or log line."""
    state, server = feeds
    state.serve("/metrics", SECRET, **{"Content-Type": "text/plain"})
    result, note = await sync(str(server.make_url("/metrics")))
    assert result["failed"] == 1
    assert note.startswith("I couldn't read your calendar feed (what the address answered is not an "
                           "iCalendar file)"), note


async def test_a_calendar_shaped_page_with_secrets_is_never_quoted(sync: Sync, feeds, trust_loopback) -> None:
    """Attack: a body that starts like a calendar and goes on with secrets, so that the
    parser's error message would quote them."""
    state, server = feeds
    state.serve("/cal.ics", b"BEGIN:VCALENDAR\r\n" + SECRET + b"END:VCALENDAR\r\n")
    result, note = await sync(str(server.make_url("/cal.ics")))
    assert result["failed"] == 1 and note.startswith("I couldn't read your calendar feed ("), note


async def test_an_unreadable_error_page_is_not_quoted(sync: Sync, feeds, trust_loopback) -> None:
    """Attack: a 500 whose body carries secrets: only the status is named."""
    state, server = feeds
    state.serve("/cal.ics", SECRET, 500)
    result, note = await sync(str(server.make_url("/cal.ics")))
    assert result["failed"] == 1 and "(the server answered HTTP 500)" in note, note


async def test_an_invalid_trusted_network_list_refuses_every_feed(sync: Sync, feeds, monkeypatch,
                                                                  caplog) -> None:
    """Attack on the operator's setting: a typo in ROTATION_CALENDAR_ALLOW_NETWORKS trusts
    nothing (the job fails in words in the log) rather than everything."""
    state, server = feeds
    state.serve("/cal.ics", CALENDAR)
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32, intranet")
    service = sync.service  # type: ignore[attr-defined]
    await service.availability.set_calendar("U0ALICE", str(server.make_url("/cal.ics")), actor="U0ALICE")
    outcome = (await calendar_runner(service, service.clock).run_once())["calendar"]
    assert state.hits == [] and await service.availability.leaves("U0ALICE") == []
    assert "'intranet' is not one" in str(outcome) + logged(caplog.records)

"""`/rotation calendar`: register, show (host only), remove, and refuse what isn't a feed."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from slack_harness import Bot

from bot.jobs import feed_address
from bot.slack.calendar_command import check_url, unwrap

FEED = "https://calendar.example.com/private-abc123/basic.ics?x=1&y=2"
KEEP = "https://keep.example.com/a.ics"
# What DNS answers here: example.com names are public; the rest do not resolve.
DNS = {"internal.example.com": ["10.1.2.3"], "metadata.example.com": ["169.254.169.254"],
       "split.example.com": ["93.184.215.14", "127.0.0.1"]}


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A resolver with fixed answers (the tests never ask the real DNS); returns the names asked."""
    asked: list[str] = []

    async def lookup(host: str, port: int) -> list[feed_address.IPAddress]:
        asked.append(host)
        if host == "localhost":  # the real answer: this machine
            return await feed_address.system_lookup(host, port)
        if host in DNS:
            return [ipaddress.ip_address(a) for a in DNS[host]]
        if host.endswith(".example.com") or host in ("a.example", "A.example"):
            return [ipaddress.ip_address("93.184.215.14")]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(feed_address, "lookup", lookup)
    return asked


async def feed_of(bot: Bot, user: str = "U01ALICE") -> str | None:
    return dict(await bot.service.availability.calendars()).get(user)


async def test_register_show_and_remove_a_feed(bot: Bot) -> None:
    assert "no calendar feed" in await bot.command("calendar")
    answer = await bot.command("calendar <https://calendar.example.com/private-abc123/basic.ics?x=1&amp;y=2>")
    assert "calendar.example.com" in answer and "saved" in answer
    assert "private-abc123" not in answer
    assert await feed_of(bot) == FEED
    shown = await bot.command("calendar")
    assert "calendar.example.com" in shown and "private-abc123" not in shown
    assert "removed" in await bot.command("calendar off")
    assert await feed_of(bot) is None
    assert "nothing was changed" in await bot.command("calendar off")


async def test_labelled_and_webcal_links(bot: Bot) -> None:
    await bot.command("calendar <webcal://p01.example.com/cal.ics|My work cal>")
    assert await feed_of(bot) == "webcal://p01.example.com/cal.ics"


@pytest.mark.parametrize("text", [
    "calendar ftp://example.com/cal.ics", "calendar not-a-url", "calendar <mailto:a@b.c|a@b.c>",
    "calendar https://", "calendar https://ex ample.com/x.ics", "calendar http://example.com:99999/x",
])
async def test_bad_urls_change_nothing(bot: Bot, text: str) -> None:
    await bot.command(f"calendar {KEEP}")
    answer = await bot.command(text)
    assert "Nothing was changed" in answer and "/rotation calendar" in answer
    assert await feed_of(bot) == KEEP


@pytest.mark.parametrize(("url", "words"), [
    ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "a link-local address"),
    ("<http://metadata.example.com/computeMetadata/v1/>", "a link-local address"),
    ("http://localhost:3000/metrics", "this server itself"),
    ("http://127.0.0.1:3000/metrics", "this server itself"),
    ("webcal://[::1]/cal.ics", "this server itself"),
    ("http://[::ffff:127.0.0.1]:3000/metrics", "this server itself"),
    ("http://2130706433:3000/metrics", "this server itself"),
    ("http://10.0.0.1/cal.ics", "a private network"),
    ("https://internal.example.com/cal.ics", "a private network"),
    ("https://split.example.com/cal.ics", "this server itself"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "a private network"),
    ("http://100.64.1.1/cal.ics", "a carrier-grade NAT network"),
])
async def test_addresses_inside_our_network_are_refused_at_once(bot: Bot, url: str, words: str) -> None:
    """Attack: register a feed that points at this server, a private network or the cloud
    metadata service (directly, or through a name that resolves there)."""
    await bot.command(f"calendar {KEEP}")
    answer = await bot.command(f"calendar {url}")
    assert answer.startswith(f"The address points to {words}"), answer
    assert "which calendar feeds may not do" in answer
    assert "Nothing was changed" in answer
    assert not any(a in answer for a in ("10.1.2.3", "169.254.169.254", "127.0.0.1", "/metrics"))
    assert await feed_of(bot) == KEEP


async def test_a_name_that_does_not_resolve_now_is_saved_with_a_remark(bot: Bot) -> None:
    """A lookup that fails is not a refusal (DNS may be down); the job checks again before fetching."""
    answer = await bot.command("calendar https://calendar.nowhere.test/basic.ics")
    assert "saved (I couldn't look up *calendar.nowhere.test* just now" in answer, answer
    assert await feed_of(bot) == "https://calendar.nowhere.test/basic.ics"


async def test_networks_the_operator_trusts_may_serve_feeds(bot: Bot, monkeypatch) -> None:
    """ROTATION_CALENDAR_ALLOW_NETWORKS: an intranet calendar server is fine when trusted."""
    monkeypatch.setenv(feed_address.ALLOW_ENV, "10.0.0.0/8")
    answer = await bot.command("calendar https://internal.example.com/cal.ics")
    assert "saved" in answer and "internal.example.com" in answer
    assert await feed_of(bot) == "https://internal.example.com/cal.ics"
    assert "may not do" in await bot.command("calendar http://169.254.169.254/latest/")
    assert await feed_of(bot) == "https://internal.example.com/cal.ics"


async def test_an_invalid_trusted_list_refuses_rather_than_trusts(bot: Bot, monkeypatch) -> None:
    """A typo in ROTATION_CALENDAR_ALLOW_NETWORKS never opens anything up."""
    monkeypatch.setenv(feed_address.ALLOW_ENV, "10.0.0.0/8,intranet")
    answer = await bot.command("calendar https://internal.example.com/cal.ics")
    assert "can't be checked right now" in answer and "Nothing was changed" in answer
    assert await feed_of(bot) is None


async def test_a_stranger_cannot_probe_our_network(bot: Bot, fake_dns: list[str]) -> None:
    """Attack: someone outside the rotation uses the command to learn what names resolve where."""
    answer = await bot.command("calendar https://internal.example.com/cal.ics", user="U99STRANGER")
    assert "not in the lead rotation" in answer and "private" not in answer
    assert fake_dns == []


async def test_calendar_for_someone_outside_the_rotation(bot: Bot) -> None:
    assert "not in the lead rotation" in await bot.command("calendar https://x.example.com/a.ics",
                                                           user="U99STRANGER")
    assert "not in the lead rotation" in await bot.command("calendar", user="U99STRANGER")


async def test_help_mentions_calendar(bot: Bot) -> None:
    assert "/rotation calendar" in await bot.command("help")


def test_unwrap_and_check() -> None:
    assert unwrap("<https://a.example/x?a=1&amp;b=2|label with spaces>") == "https://a.example/x?a=1&b=2"
    assert unwrap(" https://a.example/x ") == "https://a.example/x"
    assert check_url("HTTPS://A.example/x.ics") == "HTTPS://A.example/x.ics"
    with pytest.raises(Exception, match="longer than"):
        check_url("https://a.example/" + "x" * 2100)

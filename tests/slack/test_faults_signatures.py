"""Attacks on the signature of POST /slack/events: unsigned, forged and garbage headers.

Each is answered 401 in plain words, never 500; Bolt never sees it (no Slack call, no
answer posted, nothing stored); and the log gets one short escaped line, never the body.
"""

from __future__ import annotations

import logging
import time

import pytest
from slack_harness import SECRET, Bot, sr

FORGED = "\n2026-01-01 00:00:00 CRITICAL bot.audit FAKE LOG LINE"


async def post_raw(bot: Bot, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with bot.http.post(bot.url, data=body, headers=headers) as response:
        return response.status, await response.text()


async def assert_nothing_happened(bot: Bot) -> None:
    assert bot.slack.calls == [] and bot.slack.responses == []
    assert await bot.outbox() == []
    assert (await bot.service.availability.member_status("U01ALICE")).state == "active"


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What our code logged about the request (the test server's access log is not serve's)."""
    return [r.getMessage() for r in caplog.records
            if "/slack/events" in r.getMessage() and r.name != "aiohttp.access"]


async def test_unsigned_megabyte_body_logs_one_short_line(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """A 1 MiB unsigned body with a newline and a fake log line in it."""
    caplog.set_level(logging.DEBUG)
    body = ("text=" + "x" * (1024 * 1024 - 100) + FORGED).encode()
    status, text = await post_raw(bot, body, {"Content-Type": sr.FORM})
    assert status == 401 and "not signed" in text
    assert refusal_lines(caplog) == [
        "refused POST /slack/events from 127.0.0.1: 401 The request is not signed "
        "(no X-Slack-Signature or X-Slack-Request-Timestamp)."]
    everything = "".join(r.getMessage() for r in caplog.records)
    assert "FAKE LOG LINE" not in everything and "xxxx" not in everything
    assert all(len(r.getMessage()) <= 200 and "\n" not in r.getMessage() for r in caplog.records)
    await assert_nothing_happened(bot)


async def test_badly_signed_large_body_logs_one_short_line(bot: Bot,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """A well-formed but wrong signature on a big body with a forged line: the body is read, not logged."""
    caplog.set_level(logging.DEBUG)
    body = "command=%2Frotation&user_id=U01ALICE&text=" + "y" * (1024 * 1024 - 2000) + FORGED
    headers = {"Content-Type": sr.FORM, **sr.sign("wrong-secret", body)}
    status, text = await post_raw(bot, body.encode(), headers)
    assert status == 401 and "signature does not match" in text
    lines = refusal_lines(caplog)
    assert len(lines) == 1 and len(lines[0]) <= 200 and "signature does not match" in lines[0]
    assert not any("FAKE LOG LINE" in r.getMessage() or "yyyy" in r.getMessage() for r in caplog.records)
    await assert_nothing_happened(bot)


@pytest.mark.parametrize(("timestamp", "why"), [
    ("²", "superscript two: str.isdigit() says yes"),
    ("٣", "Arabic-Indic three: int() reads it"),
    ("1" * 400, "400 digits"),
    ("9" * 5000, "more digits than int() will read"),
    ("-1700000000", "negative"),
    ("", "empty"),
    ("1700000000 1", "two numbers"),
    ("1.7e9", "not whole seconds"),
    ("0x6553f100", "hexadecimal"),
])
async def test_garbage_timestamp_is_401(bot: Bot, caplog: pytest.LogCaptureFixture, timestamp: str,
                                        why: str) -> None:
    """X-Slack-Request-Timestamp that is not plain ASCII seconds (signed over that very value)."""
    body, headers = sr.slash_command(SECRET, "pause hacked")
    headers |= sr.sign(SECRET, body, timestamp) | {"X-Slack-Request-Timestamp": timestamp}
    status, text = await post_raw(bot, body.encode(), headers)
    assert status == 401, why
    assert "error" in text and ("whole seconds" in text or "not signed" in text), text
    assert all(len(line) <= 200 for line in refusal_lines(caplog))
    await assert_nothing_happened(bot)


async def test_missing_timestamp_is_401(bot: Bot) -> None:
    """A signature with no timestamp header at all."""
    body, headers = sr.slash_command(SECRET, "pause hacked")
    del headers["X-Slack-Request-Timestamp"]
    status, text = await post_raw(bot, body.encode(), headers)
    assert status == 401 and "not signed" in text
    await assert_nothing_happened(bot)


@pytest.mark.parametrize("signature", [
    "v0=" + "é" * 64,                 # non-ASCII: hmac.compare_digest raised on it
    "v0=" + "g" * 64,                 # not hex
    "v0=" + "A" * 64,                 # upper-case hex is not what Slack sends
    "v1=" + "0" * 64,                 # another scheme
    "v0=" + "0" * 63,                 # one digit short
    "v0=" + "0" * 6400,               # far too long
    "",
])
async def test_garbage_signature_is_401(bot: Bot, caplog: pytest.LogCaptureFixture, signature: str) -> None:
    """X-Slack-Signature of the wrong alphabet, scheme or length."""
    body, headers = sr.slash_command(SECRET, "pause hacked")
    headers["X-Slack-Signature"] = signature
    raw_headers = {k: v.encode("utf-8").decode("latin-1") for k, v in headers.items()}
    status, text = await post_raw(bot, body.encode(), raw_headers)
    assert status == 401 and "error" in text
    assert "Slack signature" in text or "not signed" in text, text
    assert all(len(line) <= 200 and signature[3:20] not in line for line in refusal_lines(caplog)
               if signature)
    await assert_nothing_happened(bot)


async def test_stale_and_future_timestamps_are_401(bot: Bot) -> None:
    """A correctly signed request replayed six minutes later, or dated six minutes ahead."""
    for offset in (-360, 360):
        status, text = await post_raw(bot, *_encoded(sr.slash_command(
            SECRET, "pause hacked", timestamp=int(time.time()) + offset)))
        assert status == 401 and "5 minutes" in text
    await assert_nothing_happened(bot)


@pytest.mark.parametrize("bot_settings", [{"slack_signing_secret": ""}])
async def test_no_signing_secret_refuses_even_an_empty_key_signature(bot: Bot) -> None:
    """With SLACK_SIGNING_SECRET unset, a request signed with the empty key (anyone can) is refused."""
    status, text = await post_raw(bot, *_encoded(sr.slash_command("", "pause hacked")))
    assert status == 401 and "SLACK_SIGNING_SECRET is not set" in text
    await assert_nothing_happened(bot)


async def test_ssl_check_is_still_answered(bot: Bot) -> None:
    """Slack's unsigned SSL probe gets its 200, and nothing else happens."""
    status, text = await post_raw(bot, b"ssl_check=1&token=legacy", {"Content-Type": sr.FORM})
    assert status == 200 and text == ""
    await assert_nothing_happened(bot)


def _encoded(signed: tuple[str, dict[str, str]]) -> tuple[bytes, dict[str, str]]:
    return signed[0].encode(), signed[1]

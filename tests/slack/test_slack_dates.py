"""Moments written for Slack: `<!date^UNIX^TOKENS|fallback>`, each reader in their own zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.slack.dates import parse_moment, slack_date

MOMENT = datetime(2026, 12, 1, 14, 30, 5, tzinfo=UTC)
STAMP = int(MOMENT.timestamp())
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_a_moment_is_slacks_date_token_with_a_fallback_naming_its_zone() -> None:
    expected = f"<!date^{STAMP}^{{date_short_pretty}} {{time}}|Tue Dec 1, 14:30 UTC>"
    assert slack_date(MOMENT, now=NOW) == expected


def test_the_fallback_says_the_year_when_it_is_not_this_one() -> None:
    assert slack_date(MOMENT, now=datetime(2027, 1, 5, tzinfo=UTC)).endswith("|Tue Dec 1 2026, 14:30 UTC>")


def test_the_fallback_is_written_in_the_zone_asked_for_and_names_it() -> None:
    text = slack_date(MOMENT, fallback_zone="America/New_York", now=NOW)
    assert text.endswith("|Tue Dec 1, 09:30 America/New_York>")
    assert f"^{STAMP}^" in text  # the instant itself does not move


def test_a_naive_stored_moment_is_read_as_utc() -> None:
    assert slack_date(MOMENT.replace(tzinfo=None)) == slack_date(MOMENT)
    assert parse_moment("2026-12-01T14:30:05") == MOMENT


def test_a_day_alone_has_a_fallback_without_a_time() -> None:
    assert slack_date(MOMENT, "{date_short_pretty}", fallback_zone="Asia/Tokyo", now=NOW) == (
        f"<!date^{STAMP}^{{date_short_pretty}}|Tue Dec 1 (Asia/Tokyo)>")


def test_a_link_goes_between_the_tokens_and_the_fallback() -> None:
    text = slack_date(MOMENT, "{date_num}", link="https://crm.example.com/leads/1")
    assert re.fullmatch(r"<!date\^\d+\^\{date_num\}\^https://crm\.example\.com/leads/1\|[^>]+>", text)


@pytest.mark.parametrize("style", ["{dat}", "{time} | x", "<{time}>", "{date}^x"])
def test_a_style_slack_would_print_literally_is_refused(style: str) -> None:
    with pytest.raises(ValueError):
        slack_date(MOMENT, style)


def test_an_unknown_fallback_zone_falls_back_to_utc_and_says_so() -> None:
    assert slack_date(MOMENT, fallback_zone="Mars/Olympus").endswith(" UTC>")

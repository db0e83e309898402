"""Slack status as availability: an out-of-office status pauses until it expires or clears.

Matching is data-driven (the config's `status_pause` emoji and words). A member may
choose to keep receiving leads anyway; that choice sticks to the status they ignored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, update

from bot.routing import audit
from bot.routing.availability.time_off import check_text, require_member
from bot.routing.errors import InvalidChange
from bot.routing.events import Recipient, StatusPaused
from bot.routing.outbox import Outbox
from bot.routing.results import StatusChange
from bot.routing.team import TeamSettings
from bot.store.models import Member

# A status with no expiry pauses until cleared; we store a far horizon and clear on change.
NO_EXPIRY = timedelta(days=365)
LAST_EXPIRATION = 4_102_444_800  # 2100-01-01 UTC; Slack's expirations are Unix seconds, 0 for none
MAX_STATUS_TEXT = 500


def is_away_status(text: str, emoji: str, team: TeamSettings) -> bool:
    config = team.settings.get("status_pause", {})
    emojis = {e.strip(":").lower() for e in config.get("emoji", [])}
    words = [w.lower() for w in config.get("words", [])]
    if emoji and emoji.strip(":").lower() in emojis:
        return True
    lowered = text.lower()
    return any(re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", lowered) for word in words)


def check_status(text: str, emoji: str, expiration: int) -> None:
    """A status as Slack sends it: storable words, and an expiry that is a time (or 0)."""
    check_text(text, "status", MAX_STATUS_TEXT)
    check_text(emoji, "status emoji", MAX_STATUS_TEXT)
    if not isinstance(expiration, int) or isinstance(expiration, bool) \
            or not 0 <= expiration <= LAST_EXPIRATION:
        raise InvalidChange(f"The status expiration {str(expiration)[:30]!r} is not a time; the status "
                            "was not applied.")


def fingerprint(text: str, emoji: str) -> str:
    return f"{emoji}|{text}"[:290]


# `Member.status_override` remembers the status that paused someone ("paused:<fp>") or
# that they chose to ignore ("ignore:<fp>"), so a repeated user_change is not a new pause.
PAUSED, IGNORED = "paused:", "ignore:"


def apply_slack_status(
    connection: Connection,
    team: TeamSettings,
    slack_id: str,
    now: datetime,
    *,
    text: str,
    emoji: str,
    expiration: int,
    actor: str,
) -> StatusChange | None:
    """Pause or release a member after a status change; returns what changed, in words."""
    check_status(text, emoji, expiration)
    member = require_member(connection, slack_id)
    away = is_away_status(text, emoji, team)
    if away and member.status_override == IGNORED + fingerprint(text, emoji):
        return None
    if away:
        until = datetime.fromtimestamp(expiration, UTC) if expiration else now + NO_EXPIRY
        if until <= now:
            return None
        if member.status_paused_until == until:
            return None
        connection.execute(
            update(Member)
            .where(Member.id == member.id)
            .values(
                status_paused_until=until, status_override=PAUSED + fingerprint(text, emoji), updated_at=now
            )
        )
        audit.record(
            connection,
            now,
            actor,
            "status_pause",
            member_id=member.id,
            note=f"{emoji} {text}".strip(),
            details={"until": until.isoformat()},
        )
        outbox = Outbox(now)
        paused = StatusPaused(
            status_text=text,
            status_emoji=emoji,
            until=None if not expiration else until.isoformat(),
            text="Your Slack status says you're away, so you're paused: no new leads until it "
            "expires or you clear it.",
        )
        outbox.owe(f"status-paused:{slack_id}:{int(until.timestamp())}:{fingerprint(text, emoji)}",
                   paused, Recipient.dm(slack_id))
        outbox.flush(connection)
        return StatusChange.PAUSED
    if member.status_paused_until is not None or (member.status_override or "").startswith(PAUSED):
        connection.execute(
            update(Member)
            .where(Member.id == member.id)
            .values(status_paused_until=None, status_override=None, updated_at=now)
        )
        audit.record(connection, now, actor, "status_clear", member_id=member.id)
        return StatusChange.RESUMED
    if (member.status_override or "").startswith(IGNORED):
        # The ignored status is gone: the next time it is set (another vacation) it pauses
        # again. Kept forever, one resume would have switched that status off for good.
        connection.execute(update(Member).where(Member.id == member.id).values(status_override=None))
    return None


def ignore_status(
    connection: Connection, slack_id: str, now: datetime, *, text: str, emoji: str, actor: str
) -> None:
    """ "Keep receiving leads anyway": stop pausing for this particular status."""
    check_status(text, emoji, 0)
    member = require_member(connection, slack_id)
    connection.execute(
        update(Member)
        .where(Member.id == member.id)
        .values(status_paused_until=None, status_override=IGNORED + fingerprint(text, emoji), updated_at=now)
    )
    audit.record(connection, now, actor, "status_ignore", member_id=member.id)

"""The weekly digest: the report's figures and chart in the managers' channel, once a week.

When: from Monday 09:00 in the team's timezone (`DIGEST_WEEKDAY`, `DIGEST_TIME`); a replica
that was down then posts when it is back, that same week. What: the period that was running
a week before, so the first Monday of a month brings the month just closed, final, and the
other Mondays the month so far (with weekly periods: last week's, final).

Once: the job runs under the runner's lease (one replica at a time), and the week it posted
for is claimed in its own row of `leases` (name `digest-week`, `last_run_key` = "2026-W49")
with a compare-and-set before anything is sent. A second replica, a restart or a run a minute
later finds the week taken and posts nothing. If Slack refuses the post, the claim is given
back and the next run tries again; once the digest is posted, a failed upload of its chart
is reported and not retried; a crash between the claim and the post loses that week's digest
rather than risking two.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update

from bot.jobs.context import JobContext
from bot.jobs.leases import insert_ignoring_conflict
from bot.routing.ledger.periods import period_key
from bot.routing.ledger.report import BeforeRotation, rotation_began
from bot.slack.answers import MESSAGE_TEXT_LIMIT, clip
from bot.slack.report_command import report_message, send_files
from bot.store.db import Database
from bot.store.models import Lease

NAME = "digest"
INTERVAL_SECONDS = 300.0
DIGEST_WEEKDAY = 0  # Monday
DIGEST_TIME = time(9, 0)
CLAIM = "digest-week"

log = logging.getLogger(__name__)


def week_of(moment: datetime, timezone: str) -> str:
    """The ISO week `moment` falls in on the team's calendar: 2026-W49."""
    year, week, _ = moment.astimezone(ZoneInfo(timezone)).isocalendar()
    return f"{year:04d}-W{week:02d}"


def due_at(moment: datetime, timezone: str) -> datetime:
    """This week's digest time (Monday 09:00 in the team's timezone) for the week of `moment`."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone).date()
    day = local - timedelta(days=(local.weekday() - DIGEST_WEEKDAY) % 7)
    return datetime.combine(day, DIGEST_TIME, tzinfo=zone)


@dataclass(frozen=True, slots=True)
class Claim:
    taken: bool
    before: str | None  # the week claimed before ours, to give the row back to


async def claim_week(db: Database, week: str, now: datetime) -> Claim:
    """Take `week` for this run unless someone already posted for it (compare-and-set)."""
    async with db.transaction() as connection:
        await connection.execute(insert_ignoring_conflict(connection, Lease, ["name"])
                                 .values(name=CLAIM, holder=NAME, expires_at=now, last_run_key=None))
        before = (await connection.execute(select(Lease.last_run_key).where(Lease.name == CLAIM))).scalar()
        if before == week:
            return Claim(False, before)
        same = Lease.last_run_key.is_(None) if before is None else Lease.last_run_key == before
        taken = await connection.execute(update(Lease).where(Lease.name == CLAIM, same)
                                         .values(last_run_key=week, expires_at=now))
        return Claim(taken.rowcount == 1, before)


async def give_back(db: Database, week: str, claim: Claim) -> None:
    async with db.transaction() as connection:
        await connection.execute(update(Lease).where(Lease.name == CLAIM, Lease.last_run_key == week)
                                 .values(last_run_key=claim.before))


async def run(context: JobContext) -> dict[str, object]:
    team = await context.service.admin.team()
    channel = team.settings.get("manager_channel")
    token = getattr(context.settings, "slack_bot_token", None)
    if not channel:
        return {"posted": None, "because": "no manager_channel in the routing config"}
    if not token:
        return {"posted": None, "because": "no SLACK_BOT_TOKEN"}
    now = context.clock.now()
    week = week_of(now, team.timezone)
    if now < due_at(now, team.timezone):
        return {"posted": None, "because": f"{week}'s digest is due {due_at(now, team.timezone).isoformat()}"}
    started = await context.service.transactions.read(rotation_began)
    if started is not None and started > due_at(now, team.timezone):
        return {"posted": None, "because": f"the rotation started after {week}'s digest time; the first "
                                           "digest is next week's"}
    claim = await claim_week(context.db, week, now)
    if not claim.taken:
        return {"posted": None, "because": f"{week}'s digest was posted"}
    period = period_key(now - timedelta(days=7), team.timezone, team.period)
    client = AsyncWebClient(token=token, base_url=getattr(context.settings, "slack_api_url", None)
                            or "https://slack.com/api/")
    try:
        try:
            report = await context.service.ledger.period_report(period=period)
        except BeforeRotation as early:  # last week began before the rotation: its first period
            period = early.began
            report = await context.service.ledger.period_report(period=period)
        message = report_message(report, title=f"Weekly digest, {week}: {period}")
        posted = await client.chat_postMessage(channel=channel, text=clip(message.text, MESSAGE_TEXT_LIMIT),
                                               blocks=message.blocks)
    except Exception:
        await give_back(context.db, week, claim)  # nothing was posted: the next run tries again
        raise
    result: dict[str, object] = {"posted": week, "period": period, "channel": channel}
    try:  # the digest is out: a failed upload is reported, never a second digest
        result["files"] = await send_files(client, str(posted["channel"]), report,
                                           comment=f"Chart and figures for {period}.",
                                           thread_ts=str(posted["ts"]))
    except (SlackApiError, SlackRequestError) as error:
        log.warning("weekly digest %s: the chart and CSV were not uploaded: %s", week, error)
        result["files"] = f"not uploaded: {error}"
    log.info("weekly digest %s (%s) posted to %s", week, period, channel)
    return result

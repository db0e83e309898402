"""`/rotation report [PERIOD] [QUEUE]` for managers: the figures as text, the chart and CSV in
the manager's DM; and the same message for the weekly digest (`bot.jobs.digest`).

The figures are the answer, at once; the files follow in a task of their own, so the answer
does not wait for matplotlib, which draws in a worker thread while the event loop goes on.
They go through Slack's external upload flow (`files_upload_v2`: getUploadURLExternal, the
bytes to the URL it gives, completeUploadExternal with the DM's channel id): the only file
upload Slack still takes.

Slack's limits kept here: at most 50 blocks a message, a section's text at most 3,000
characters, at most `SLACK_PAGES` chart pages plus the CSV in one upload (10 files at most).
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.report_format import duration, render_report
from bot.routing.ledger.report import MemberFigures, NoReport, PeriodReport, QueueFigures
from bot.slack.answers import Refusal, escape

if TYPE_CHECKING:
    from bot.slack.commands import BlockReply, Request

log = logging.getLogger(__name__)

MANAGERS_ONLY = "Reports are for managers, sorry; nothing was sent."
USAGE = "Write `/rotation report [YYYY-MM] [QUEUE]`, e.g. `/rotation report 2026-11 emea`."
PERIOD_WORD = re.compile(r"^([0-9]{4}-\S*|all)$", re.IGNORECASE)
MAX_BLOCKS = 50
SECTION_LIMIT = 3000
TEXT_LIMIT = 38_000  # the text answer stops short of Slack's 40,000-character cut
DETAIL_MEMBERS = 60  # a report of more members than this lists queues only (members: the CSV)


@dataclass(frozen=True, slots=True)
class ReportMessage:
    """A report as Slack shows it: blocks within the limits, and the same words as text."""

    text: str
    blocks: list[dict[str, Any]]


async def run(req: Request) -> BlockReply:
    """The handler for `/rotation report`: refuse anyone but a manager, read the figures,
    answer with them at once, and send the chart and CSV to the manager's DM after (drawing
    a few pages takes a second or more; the figures should not wait for it)."""
    from bot.slack.commands import BlockReply  # the command table imports this module

    if not await req.deps.is_manager(req.client, req.user):
        raise Refusal(MANAGERS_ONLY)
    period, queue = await _wanted(req)
    try:
        report = await req.service.ledger.period_report(period=period, queue=queue)
    except NoReport as missing:  # before the rotation began, or not started: words, no chart
        # The core's words, as the CLI says them: they name only periods the core read as a
        # period key, so there is nothing to escape.
        raise Refusal(str(missing)) from None
    task = asyncio.create_task(deliver_files(req.client, req.user, report, queue=queue))
    _SENDING.add(task)
    task.add_done_callback(_SENDING.discard)
    message = report_message(report, queue=queue, footer="The chart and the CSV are on their way to your DM.")
    return BlockReply(message.text, message.blocks)


_SENDING: set[asyncio.Task[None]] = set()  # uploads under way (a task nobody holds may be collected)


async def deliver_files(client: AsyncWebClient, user: str, report: PeriodReport, *,
                        queue: str | None = None) -> None:
    """The chart and CSV to `user`'s DM; if Slack refuses them, a line there saying so."""
    try:
        channel = await dm_channel(client, user)
        await send_files(client, channel, report, queue=queue, comment=f"Report for {report.period}.")
    except (SlackApiError, SlackRequestError) as error:
        log.warning("report files for %s were not sent: %s", user, error)
        try:
            await client.chat_postMessage(channel=user, text=(
                f"I could not send the chart and the CSV of the {report.period} report just now "
                "(Slack refused the upload); please ask again in a moment."))
        except SlackApiError as again:
            log.warning("could not tell %s either: %s", user, again)
    except Exception:
        log.exception("report files for %s failed", user)


async def _wanted(req: Request) -> tuple[str | None, str | None]:
    """The period and the queue the words name; a queue matches ignoring case."""
    periods = [w for w in req.args if PERIOD_WORD.match(w)]
    queues = [html.unescape(w) for w in req.args if not PERIOD_WORD.match(w)]
    if len(periods) > 1 or len(queues) > 1:
        raise Refusal(f"That is more than one period or queue. {USAGE} Nothing was sent.")
    if not queues:
        return (periods[0] if periods else None), None
    names = await req.service.admin.queue_names()
    wanted = queues[0]
    queue = wanted if wanted in names else next((n for n in names if n.casefold() == wanted.casefold()), None)
    if queue is None:
        raise Refusal(f"There is no queue named `{escape(wanted[:100])}`, so nothing was sent. "
                      "`/rotation who` lists the queues.")
    return (periods[0] if periods else None), queue


async def dm_channel(client: AsyncWebClient, user: str) -> str:
    """The id of the bot's DM with `user` (files are shared to a channel id, not a user id)."""
    opened = await client.conversations_open(users=user)
    return str(opened["channel"]["id"])


async def send_files(client: AsyncWebClient, channel: str, report: PeriodReport, *,
                     queue: str | None = None, comment: str | None = None,
                     thread_ts: str | None = None) -> list[str]:
    """The chart's pages and the CSV, shared in `channel` in one upload; their file names."""
    from bot.reports.chart import SLACK_PAGES, alt_text, draw, page_file_names  # matplotlib: when needed

    chart = await asyncio.to_thread(draw, report, max_pages=SLACK_PAGES)
    stem = "rotation-report-" + report.period + (f"-{_file_word(queue)}" if queue else "")
    about = report.period + (f", {queue}" if queue else "")
    names = list(page_file_names(stem, len(chart.pages)))
    paged = len(names) > 1
    uploads: list[dict[str, Any]] = [
        {"content": page, "filename": name, "alt_txt": alt_text(report, chart),
         "title": f"Leads received and fair share, {about}" + (f" ({n} of {len(names)})" if paged else "")}
        for n, (page, name) in enumerate(zip(chart.pages, names, strict=True), 1)
    ]
    uploads.append({"content": render_report(report, "csv").encode(), "filename": f"{stem}.csv",
                    "title": f"Report figures, {about}"})
    if chart.queues_drawn < chart.queues_total:
        comment = (comment or "") + (f" The chart shows the {chart.queues_drawn} of {chart.queues_total} "
                                     "queues furthest from fair share; the CSV has them all.")
    elif not chart.complete:
        comment = (comment or "") + (f" The chart shows the {chart.members_drawn} of {chart.members_total} "
                                     "members furthest from fair share; the CSV has them all.")
    await client.files_upload_v2(channel=channel, file_uploads=uploads, initial_comment=comment,
                                 thread_ts=thread_ts)
    return [str(u["filename"]) for u in uploads]


def report_message(report: PeriodReport, *, queue: str | None = None, title: str | None = None,
                   footer: str | None = None) -> ReportMessage:
    """The figures as blocks (a header, a summary, sections, the footer) and as text with the
    same words.

    Each queue is one line; its members follow when the report is of one queue or of at most
    DETAIL_MEMBERS members. What does not fit in 50 blocks ends with a line saying so.
    """
    heading = title or f"Lead rotation report, {report.period}" + (f" ({queue})" if queue else "")
    members = sum(len(q.members) for q in report.queues)
    detail = queue is not None or members <= DETAIL_MEMBERS
    chunks = _chunks(report.queues, detail)
    room = MAX_BLOCKS - 2 - (footer is not None)  # the header, the summary or what is left out
    shown, left = chunks[:room], chunks[room:]
    summary = f"{plural(report.received, 'lead')} in {plural(len(report.queues), 'queue')}."
    if not detail:
        summary += " Members are in the CSV; `/rotation report QUEUE` lists one queue's."
    if not report.queues:
        summary = "No queues to report."
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": heading[:150]}},
                                    {"type": "context", "elements": [{"type": "mrkdwn", "text": summary}]}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in shown]
    if left:
        blocks[1:2] = []  # the summary gives its place to the note that something is left out
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _more(left)}]})
    if footer is not None:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    texts = [f"*{escape(heading)}*", summary]
    for number, chunk in enumerate(chunks):
        if sum(len(t) + 2 for t in texts) + len(chunk) > TEXT_LIMIT:
            texts.append(_more(chunks[number:]))
            break
        texts.append(chunk)
    return ReportMessage("\n\n".join([*texts, *([footer] if footer else [])]), blocks)


def _more(left: list[str]) -> str:
    return f"… and {sum(c.count(chr(10)) + 1 for c in left)} more lines: see the CSV."


def _chunks(queues: Iterable[QueueFigures], detail: bool) -> list[str]:
    """Lines packed into section texts of at most SECTION_LIMIT characters; with members, each
    queue starts a section of its own."""
    chunks: list[str] = []
    current: list[str] = []
    for queue in queues:
        lines = [queue_line(queue)] + ([member_line(m) for m in queue.members] if detail else [])
        if detail and current:
            chunks.append("\n".join(current))
            current = []
        for line in lines:
            if current and len("\n".join([*current, line])) > SECTION_LIMIT:
                chunks.append("\n".join(current))
                current = []
            current.append(line[:SECTION_LIMIT])
    if current:
        chunks.append("\n".join(current))
    return chunks


def queue_line(queue: QueueFigures) -> str:
    accept = _accept(queue.accept.median_seconds, queue.accept.p90_seconds)
    return (f"*{escape(queue.name)}*: {plural(queue.received, 'lead')} · {queue.passes} passed · "
            f"{queue.sla_misses} missed the SLA · {accept}")


def member_line(member: MemberFigures) -> str:
    adjusted = f", adjusted {member.adjustments:+d}" if member.adjustments else ""
    return (f"• {escape(member.name)}: {member.received} received, fair share {member.fair_share:.1f} "
            f"(lag {member.lag:+.1f}{adjusted}) · {member.passes} passed · {member.sla_misses} missed the SLA"
            f" · {_accept(member.accept.median_seconds, member.accept.p90_seconds)}")


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _accept(median: float | None, p90: float | None) -> str:
    if median is None:
        return "none accepted yet"
    return f"accepted in {duration(median)} (median), {duration(p90)} (p90)"


def _file_word(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:60] or "queue"

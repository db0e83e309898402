"""Pure functions from the core's results to the mrkdwn answers of `/rotation`.

Why pure: the command handlers stay a few lines each, and the wording can be tested
(and reused by the App Home) without Slack in the loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from bot.routing.results import LeadRecord, LeaveView, MemberStatus, SeatStanding
from bot.slack.answers import escape
from bot.slack.dates import local_words, parse_moment, slack_date
from bot.slack.lead_text import literal, one_line

HELP = "\n".join([
    "*`/rotation` — your place in the lead rotation*",
    "• `/rotation status` — am I active, my queues, my leads this period",
    "• `/rotation pause 2 days`, `pause until friday [reason]`, `pause until 2030-01-31` "
    "— no leads until then (reason optional)",
    "• `/rotation resume` — back in the rotation, level with everyone",
    "• `/rotation away 2030-02-03 2030-02-07` — schedule leave; `away` lists it, `away cancel` cancels",
    "• `/rotation calendar https://…/basic.ics` — your private calendar feed: time off in it becomes "
    "leave; `calendar` alone shows it, `calendar off` removes it",
    "• `/rotation who us-east` — a queue's standings and who's next (no queue: yours)",
    "• `/rotation why L-1042` — why a lead went where it went",
    "• `/rotation calibrate @alice` — managers: weights, adjustments, queues",
    "• `/rotation pause @alice …`, `resume @alice`, `away @alice START END` — managers: for a member",
    "• `/rotation add @dana to emea share 20%` — managers: a person into the rotation, level with everyone",
    "• `/rotation remove @dana [from emea]` — managers: out of a queue, or the rotation (history kept)",
    "• `/rotation history [@dana]` — your history (managers: anyone's): pauses, leave, calibrations",
    "• `/rotation reassign L-1042 @bob` — managers: offer a lead to someone now",
    "• `/rotation report [2026-11] [emea]` — managers: the period's figures, with a chart and CSV in your DM",
])


def number(value: Fraction | float | int) -> str:
    """Whole numbers as such, the rest to one decimal: ledgers are exact, people read 2.5."""
    as_float = float(value)
    return str(round(as_float)) if abs(as_float - round(as_float)) < 0.05 else f"{as_float:.1f}"


def when(moment: datetime, timezone: str, now: datetime | None = None) -> str:
    """"Thu Dec 17, 09:00" in `timezone`, with the year when it is not this one (plain words:
    the fallback of `moment`, and what a log or the CLI shows)."""
    return local_words(moment, timezone, now)


def moment(at: datetime, timezone: str, now: datetime | None = None) -> str:
    """A moment as Slack shows it: in each reader's own timezone (`<!date^…>`), its fallback
    in `timezone` (the member's, whom the words are about), the zone named."""
    return slack_date(at, fallback_zone=timezone, now=now)


def leave_line(leave: LeaveView, timezone: str, now: datetime | None = None) -> str:
    """The leave's days as they were given, and when leads stop and start again."""
    return (f"{leave.starts_on.isoformat()} to {leave.ends_on.isoformat()} "
            f"(no leads from {moment(leave.pause_from, timezone, now)}, "
            f"back {moment(leave.resume_at, timezone, now)})")


def back_from_leave(leaves: Iterable[LeaveView], now: datetime) -> datetime | None:
    """When the leave under way ends: a leave that starts before it ends runs on into it (a long
    leave's pause begins days early, so the list's order by start date is not enough)."""
    back = None
    for pause_from, resume_at in sorted((leave.pause_from, leave.resume_at) for leave in leaves):
        if back is None and pause_from <= now < resume_at:
            back = resume_at
        elif back is not None and pause_from <= back:
            back = max(back, resume_at)
    return back


def state_line(status: MemberStatus, now: datetime | None = None) -> str:
    if status.state == "paused":
        until = f" until {moment(status.paused_until, status.timezone, now)}" if status.paused_until else \
            " until you `/rotation resume`"
        why = f" ({escape(status.reason)})" if status.reason else ""
        return f"You're *paused*{until}{why}: no new leads."
    if status.state == "active":
        return "You're *active*: you're receiving leads."
    now = now or datetime.now(UTC)
    back = back_from_leave(status.leaves, now) if status.state == "on leave" else None
    if back is not None:
        return f"You're *on leave* until {moment(back, status.timezone, now)}: no new leads until then."
    why = f" ({escape(status.reason)})" if status.reason else ""
    return f"You're *{escape(status.state)}*{why}: no new leads for now."


def time_line(status: MemberStatus, now: datetime | None = None) -> str:
    """Their timezone and local time, plus working hours when the core reports them.

    `working_hours` / `working_now` are read only if MemberStatus carries them, so this
    answer grows with the core without a change here.
    """
    local = (now or datetime.now(UTC)).astimezone(ZoneInfo(status.timezone))
    line = f"Your timezone: {escape(status.timezone)} (it's {local.strftime('%a %H:%M')} there)"
    hours, working = getattr(status, "working_hours", None), getattr(status, "working_now", None)
    if hours:
        line += f"; working hours {escape(hours)}"
    if working is not None:
        line += ", working now" if working else ", outside working hours now"
    return line + "."


def status_text(status: MemberStatus, *, with_leaves: bool = True, now: datetime | None = None) -> str:
    lines = [f"*{escape(status.name)}* — " + state_line(status, now), time_line(status, now)]
    if status.seats:
        lines.append("*Your queues this period:*")
        for seat in status.seats:
            until = ("" if seat.leads_until_next is None
                     else " — next lead is yours" if seat.leads_until_next == 0
                     else f" — about {seat.leads_until_next} lead(s) until yours")
            lines.append(f"• *{escape(seat.queue)}* (weight {escape(seat.weight_text)}): "
                         f"{seat.received} lead(s), fair share {number(seat.fair_share)}, "
                         f"lag {number(seat.lag)}{until}")
    else:
        lines.append("You're not in any queue.")
    if with_leaves:
        lines.append(leaves_text(status.leaves, status.timezone))
    return "\n".join(lines)


def leaves_text(leaves: Iterable[LeaveView], timezone: str) -> str:
    listed = [f"• #{leave.id}: {leave_line(leave, timezone)}" for leave in leaves]
    if not listed:
        return "No leave scheduled. Add some with `/rotation away START END`."
    return ("*Scheduled leave* (cancel with `/rotation away cancel [#id]`):\n" + "\n".join(listed))


def seat_line(seat: SeatStanding) -> str:
    marker = "→ " if seat.next_up else ""
    status = "" if seat.status == "active" else f", _{escape(seat.status)}_"
    adjust = f", adjustment {seat.adjustment:+d}" if seat.adjustment else ""
    return (f"{marker}*{escape(seat.name)}* — weight {escape(seat.weight_text)} "
            f"({number(seat.target_share * 100)}%), {seat.received} lead(s), "
            f"lag {number(seat.lag)}{adjust}{status}")


def why_text(lead: LeadRecord, now: datetime | None = None, zones: Mapping[str, str] | None = None) -> str:
    """Why a lead went where it went: the summary, the rule, every offer with its times.

    The lead's own values (id, name, company) are shown literally (`lead_text.literal`);
    times are `<!date^…>`, their fallback in the rep's timezone when `zones` (Slack id to
    timezone) names it, else UTC."""
    explanation: dict[str, Any] = lead.explanation or {}
    title = f"*Lead {literal(lead.lead_id)}*"
    fields = {key.lower(): value for key, value in lead.fields.items()}
    name = fields.get("name") or fields.get("company")
    if name:
        title += f" ({literal(name)})"
    lines = [title, escape(one_line(explanation.get("summary") or lead.reason or "No explanation stored."))]
    if lead.rule or lead.queue:
        lines.append(f"Rule: {literal(lead.rule or '-')} → queue {literal(lead.queue or '-')}")
    for step in lead.assignments:
        zone = (zones or {}).get(str(step["assignee"].get("slack_id", "")), "UTC")
        offered = _stored(step.get("assigned_at"), zone, now)
        accepted = _stored(step.get("accepted_at"), zone, now)
        lines.append(f"• {literal(step['assignee']['name'])} in {literal(step['queue'])}: "
                     f"{escape(step['state'])} ({escape(step['cause'])})"
                     + (f", offered {offered}" if offered else "")
                     + (f", accepted {accepted}" if accepted else ""))
    return "\n".join(lines)


def _stored(iso: object, timezone: str, now: datetime | None = None) -> str | None:
    """A stored moment (ISO text, UTC when it says no zone) as Slack shows it; None if absent."""
    if not isinstance(iso, str) or not iso:
        return None
    try:
        return moment(parse_moment(iso), timezone, now)
    except ValueError:
        return None


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "an unknown time"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"

"""How Slack words what the core did to a member's availability, and the advice Slack adds
to the core's refusals: the core says what happened; Slack names the command that helps."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.routing.errors import AlreadyPaused, LeaveOverlaps, NoSuchLeave, OnLeave, RoutingError
from bot.routing.results import Paused, Resumed
from bot.slack.dates import slack_date

STATUS_KEPT = "Got it: you'll keep receiving leads despite your status."

# The advice after a refusal, by its class (the most specific class that matches wins).
ADVICE: dict[type[RoutingError], str] = {
    AlreadyPaused: "Use `/rotation resume` to come back.",
    OnLeave: "`/rotation away` lists your leave and `/rotation away cancel` cancels it.",
    LeaveOverlaps: "`/rotation away` lists yours, and `/rotation away cancel` cancels one.",
    NoSuchLeave: "`/rotation away` lists yours, numbered.",
}


def paused(result: Paused) -> str:
    still = " still paused, now" if result.extended else " paused"
    if result.until is not None:  # back at midnight of that day where the member is
        back = datetime.combine(result.until, time(0), ZoneInfo(result.zone))
        when = slack_date(back, "{date_short_pretty} at {time}", fallback_zone=result.zone)
        return f"You're{still} until {when}: no new leads until then."
    return f"You're{' still' if result.extended else ''} paused: no new leads until you `/rotation resume`."


def resumed(result: Resumed) -> str:
    return ("You're back in the rotation, level with everyone: you're not owed the leads "
            "that went out while you were paused, and you won't be flooded.")


def refusal(error: RoutingError) -> str:
    """The core's words, and Slack's advice when there is some for this kind of refusal."""
    advice = next((ADVICE[kind] for kind in type(error).__mro__ if kind in ADVICE), None)
    return f"{error} {advice}" if advice else str(error)

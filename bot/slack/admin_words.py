"""How Slack words what a manager's changes did (calibrate, join and leave a queue, add and
remove a person), and the admin room's refusals in Slack's words (a remove or a history of
someone not there): the core says what changed (`bot.routing.admin.results`) or who was
refused; Slack says it, names the person as a mention and names its own commands."""

from __future__ import annotations

from bot.routing.admin.history import NeverInRotation
from bot.routing.admin.people import NoCatchAllRule, NotInRotation
from bot.routing.admin.results import (
    Calibrated,
    JoinedQueue,
    LeftQueue,
    LimitsSet,
    PersonAdded,
    PersonRemoved,
    QueueAdd,
    Reading,
    Reweighed,
)
from bot.routing.errors import RoutingError
from bot.slack import availability_words
from bot.slack.answers import escape

OTHERS_LISTED = 6  # the others' new shares named after a share made room; the rest counted
NO_CATCH_ALL = ("The routing config has no catch-all rule, so say which queues: "
                "`/rotation add @member to QUEUE`. Nothing was changed.")


def calibrated(result: Calibrated) -> str:
    said = []
    if result.weight is not None:
        said.append(f"weight {result.weight.after}{_how_read(result.weight, result.queue)}")
    if result.adjustment:
        said.append(f"adjustment {result.adjustment:+d}")
    if result.active is not None:
        said.append("active" if result.active else "inactive")
    return f"{result.member.name} in {result.queue}: " + (", ".join(said) if said else "no change") + "."


def _how_read(weight: Reweighed, queue: str) -> str:
    """What a share became, when it is not the words it was typed in."""
    if weight.reading is Reading.SHARE_AS_WEIGHT:
        return f" (for {weight.typed} of {queue}'s leads: its members are weighed, not shared)"
    if weight.reading is not Reading.SHARE or not weight.others:
        return ""
    others = [f"{other.member.name} {other.after}" for other in weight.others]
    more = len(others) - OTHERS_LISTED
    listed = ", ".join(others[:OTHERS_LISTED]) + (f" and {more} more" if more > 0 else "")
    return f" (the others' shares made room: {listed})"


def joined_queue(joined: JoinedQueue) -> str:
    room = f" with {joined.weight} (the others' shares made room)" if joined.made_room else ""
    return f"{joined.member.name} joined {joined.queue}{room}, level with everyone (no catch-up flood)."


def left_queue(left: LeftQueue) -> str:
    if left.left_alone is not None:
        grown = f"; {left.left_alone.name} is alone in it, with every lead"
    elif left.shares_grew:
        grown = "; the others' shares grew to make 100% again"
    else:
        grown = ""
    return f"{left.member.name} left {left.queue}{grown}; their history stays in the reports."


def queue_add(added: QueueAdd) -> str:
    """One queue of an add: joined, weighed, both (joined, then the weight set), or neither."""
    said = [*([joined_queue(added.joined)] if added.joined else []),
            *([calibrated(added.weighed)] if added.weighed else [])]
    return " ".join(said) or f"Already in {added.queue} (weight {added.weight}); nothing changed there."


def limits(limits: LimitsSet) -> str:
    capacity = f"capacity {limits.capacity}" if limits.capacity else "no capacity limit"
    hours = f"working hours {limits.working_hours}" if limits.working_hours else "no working hours"
    return f"{limits.member.name}: {capacity}, {hours}."


def person_added(added: PersonAdded) -> str:
    who = f"<@{added.member.slack_id}>"
    first = f"Added {who} to the rotation." if added.joined_rotation else f"{who} is in the rotation already."
    lines = [*([limits(added.limits)] if added.limits else []), *(queue_add(seat) for seat in added.seats)]
    return "\n".join([first, *(escape(line) for line in lines)])


def person_removed(removed: PersonRemoved) -> str:
    who = f"<@{removed.member.slack_id}>"
    if not removed.whole_rotation:
        return escape(left_queue(removed.left[0]))  # one queue: the core says how it left it
    queues = ", ".join(escape(q) for q in removed.queues) or "no queue"
    offers = "" if not removed.open_offers else (
        f" {removed.open_offers} lead(s) still offered to them stay until accepted or moved by the SLA; "
        "`/rotation reassign LEAD_ID @member` moves one now.")
    return (f"Removed {who} from the rotation (they were in {queues}). Their history and past leads "
            f"are kept.{offers}")


def refusal(error: RoutingError) -> str:
    """The core's refusal in Slack's words: a person named as a mention, Slack's command named
    where it helps; any other refusal as `availability_words` says it."""
    if isinstance(error, NoCatchAllRule):
        return NO_CATCH_ALL
    if isinstance(error, NotInRotation):
        return (f"<@{error.slack_id}> is not in the rotation, so there is nothing to remove; "
                "nothing was changed.")
    if isinstance(error, NeverInRotation):
        return f"<@{error.slack_id}> has never been in the rotation, so there is no history to show."
    return availability_words.refusal(error)

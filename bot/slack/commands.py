"""`/rotation` and its subcommands: parse the words, call the core, answer ephemerally.

Why ack first and `respond()` after: Slack wants an answer within 3 seconds, while a
subcommand waits for the database; the effect is committed before `respond()` is
called, so the answer never runs ahead of the change it reports.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.routing.errors import NotFound, RoutingError
from bot.routing.rules.lead_fields import storable
from bot.routing.service import RoutingService
from bot.slack import (
    availability_words,
    calendar_command,
    calibrate_modal,
    pause_words,
    people_command,
    replies,
    report_command,
    who_view,
)
from bot.slack.answers import ANSWER_LIMIT, Refusal, attempt, clip, escape
from bot.slack.dates import iso_day
from bot.slack.deps import SlackDeps, deps
from bot.slack.paging import Place

T = TypeVar("T")
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$")
MANAGERS_ONLY = ("Calibrating is for managers, sorry: ask one of them if a weight or a count "
                 "looks wrong. Nothing was opened or changed.")
# The privacy rule: the same words whether the lead exists or not, so they tell nothing.
WHY_NOT_YOURS = ("`/rotation why` answers about leads that were offered to you (managers: any lead). "
                 "There is nothing I can show you for `{lead}`.")
WHO_NOT_MEMBER = ("`/rotation who` is for members of the rotation and managers; "
                  "ask a manager if you should be in it.")
LEAVE_NUMBER = re.compile(r"[0-9]{1,12}")  # ASCII: "²".isdigit() is true and int() refuses it


class Request:
    """One `/rotation` call: who typed it, the words after the subcommand, and the tools to act."""

    def __init__(self, d: SlackDeps, client: AsyncWebClient, user: str, args: list[str],
                 trigger_id: str | None) -> None:
        self.deps, self.client, self.user, self.args, self.trigger_id = d, client, user, args, trigger_id

    @property
    def service(self) -> RoutingService:
        return self.deps.service


def parse_date(word: str, what: str) -> date:
    day = iso_day(word)
    if day is None:
        raise Refusal(f"`{escape(word)}` is not a date; write the {what} as YYYY-MM-DD, "
                      "e.g. 2030-01-31. Nothing was changed.")
    return day


async def help_(req: Request) -> str:
    return replies.HELP


async def status(req: Request) -> str:
    return replies.status_text(await req.service.availability.member_status(req.user),
                               now=req.service.clock.now())


SLACK_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")  # as Slack sends a picked person
BARE_ID = re.compile(r"[UW][A-Z0-9]{2,}")


async def _subject(req: Request) -> tuple[str, list[str], str]:
    """Whom a pause, resume or away is for, the words after the name, and how the answer
    begins. A leading person (a mention, `@name`, or a member's id) is a manager acting for
    that member; any other first word is the command's own (`pause USA trip` is a reason)."""
    first = req.args[0] if req.args else ""
    if not (first.startswith("@") or first.startswith("<@") or
            (BARE_ID.fullmatch(first) and await _is_member(req, first))):
        return req.user, list(req.args), ""
    if not await req.deps.is_manager(req.client, req.user):
        raise Refusal("Only managers can pause, resume or schedule leave for someone else; "
                      "nothing was changed. For yourself, leave the name out.")
    member = await _person_named(req, first)
    try:
        await req.service.availability.member_status(member)
    except NotFound:  # the core's words are for the member ("you are not in…"), not the manager
        raise Refusal(f"<@{member}> is not in the lead rotation, so nothing was changed. "
                      "Add them to the routing config first.") from None
    return member, list(req.args[1:]), f"For <@{member}>: "


async def _is_member(req: Request, slack_id: str) -> bool:
    try:
        await req.service.availability.member_status(slack_id)
    except NotFound:
        return False
    return True


async def _person_named(req: Request, word: str) -> str:
    """The member `word` names: Slack's mention, a member's id, or a plain `@name`."""
    if word.startswith("<@"):
        match = SLACK_MENTION.fullmatch(word)
        if match is None:
            raise Refusal(f"`{escape(word)}` is not a Slack mention; pick the person from Slack's "
                          "@-list. Nothing was changed.")
        return match.group(1)
    if BARE_ID.fullmatch(word):
        return word
    named = await req.service.admin.slack_ids_named(html.unescape(word))
    if len(named) != 1:
        many = "Several members are called" if named else "No member is called"
        raise Refusal(f"{many} `{escape(word)}`; pick the person from Slack's @-list. Nothing was changed.")
    return named[0]


async def _for(said: str, work: Awaitable[T], word: Callable[[T], str]) -> str:
    """The core's answer to a command about `said`'s member, in `word`s, refusals included: a
    manager reads "For <@U…>: …", whether it worked or not."""
    try:
        return said + word(await work)
    except RoutingError as refused:
        if not said:
            raise
        raise Refusal(said + availability_words.refusal(refused)) from None


async def pause(req: Request) -> str:
    """`pause`, `pause 2 days`, `pause until friday [reason]`: days counted in the member's own
    timezone (bot.slack.pause_words says what the words mean)."""
    member, args, said = await _subject(req)
    words = pause_words.read(args, await _member_today(req, member))
    reason = html.unescape(words.reason) if words.reason else None  # Slack escapes &, < and >
    pausing = req.service.availability.pause(member, until=words.until, reason=reason, actor=req.user)
    return await _for(said, pausing, availability_words.paused)


async def _member_today(req: Request, member: str) -> date:
    """The member's date now, in their timezone (UTC for someone not in the rotation: the core
    refuses their pause anyway, in its own words)."""
    try:
        zone = (await req.service.availability.member_status(member)).timezone
    except NotFound:
        zone = "UTC"
    return req.service.clock.now().astimezone(ZoneInfo(zone)).date()


async def resume(req: Request) -> str:
    member, args, said = await _subject(req)
    if args:
        raise Refusal("`/rotation resume` takes no words after it (a manager may name one member).")
    resuming = req.service.availability.resume(member, actor=req.user)
    return await _for(said, resuming, availability_words.resumed)


async def away(req: Request) -> str:
    member, args, said = await _subject(req)
    return await _for(said, _away(req, member, args), str)


async def _away(req: Request, member: str, args: list[str]) -> str:
    if not args:
        status = await req.service.availability.member_status(member)
        return replies.leaves_text(status.leaves, status.timezone)
    if args[0].lower() == "cancel":
        wanted = args[1].lstrip("#") if len(args) > 1 else ""
        if wanted and not LEAVE_NUMBER.fullmatch(wanted):
            raise Refusal(f"`{escape(wanted)}` is not a leave number; `/rotation away` lists them.")
        leave_id = int(wanted) if wanted else None
        cancelled = await req.service.availability.cancel_leave(member, actor=req.user, leave_id=leave_id)
        spans = ", ".join(f"{c.starts_on.isoformat()} to {c.ends_on.isoformat()}" for c in cancelled)
        return f"Cancelled your leave {spans}. You'll keep receiving leads as usual."
    if len(args) > 2:
        raise Refusal("Write `/rotation away START END`, e.g. `/rotation away 2030-02-03 2030-02-07`.")
    starts = parse_date(args[0], "start date")
    ends = parse_date(args[1], "end date") if len(args) == 2 else starts
    status = await req.service.availability.member_status(member)
    leave = await req.service.availability.add_leave(member, starts, ends, actor=req.user)
    return f"Leave scheduled: {replies.leave_line(leave, status.timezone)}."


async def calendar(req: Request) -> str:
    return await calendar_command.run(req.service, req.user, req.args)


class BlockReply:
    """An answer in Block Kit, with its text for notifications and clients without blocks."""

    def __init__(self, text: str, blocks: list[dict[str, Any]]) -> None:
        self.text, self.blocks = text, blocks


Answer = str | BlockReply | None


async def who(req: Request) -> BlockReply:
    wanted = html.unescape(req.args[0]) if req.args else None
    page = await who_page(req.deps, req.client, req.user, Place(wanted, 0))
    return BlockReply(page.text, page.blocks)


async def who_page(d: SlackDeps, client: AsyncWebClient, user: str, spot: Place) -> who_view.WhoPage:
    """A page of `who` for `user`: a member sees their queues, a manager who is not one every
    queue, and a named queue is that queue alone; anyone else is refused (privacy)."""
    try:
        mine = [seat.queue for seat in (await d.service.availability.member_status(user)).seats]
    except NotFound:  # not a member: only a manager may look
        if not await d.is_manager(client, user):
            raise Refusal(WHO_NOT_MEMBER) from None
        mine = []
    if spot.queue is not None:
        names = await d.service.admin.queue_names()
        # people type EMEA for emea; an exact name wins if two differ only in case
        queue = spot.queue if spot.queue in names else next(
            (n for n in names if n.casefold() == spot.queue.casefold()), None)
        if queue is None:
            raise Refusal(f"There is no queue named `{escape(spot.queue[:100])}`. "
                          f"Queues: {clip(', '.join(names), 2000)}.")
        return who_view.build(await d.service.ledger.standings(queue), spot)
    everything = await d.service.ledger.standings()
    return who_view.build([q for q in everything if not mine or q.name in mine], spot)


async def on_who_page(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond,
                      client: AsyncWebClient, context: AsyncBoltContext) -> None:
    """A `who` page button: the same answer turned to that page, in place of the last one."""
    await ack()
    page, failure = await attempt(who_page(deps(context), client, body["user"]["id"],
                                           Place.read(action.get("value"))))
    if page is None:
        await respond(text=failure or "", response_type="ephemeral", replace_original=True)
        return
    await respond(text=page.text, blocks=page.blocks, response_type="ephemeral", replace_original=True)


async def why(req: Request) -> str:
    if not req.args:
        raise Refusal("Which lead? Write `/rotation why LEAD_ID`, e.g. `/rotation why L-1042`.")
    lead_id = html.unescape(req.args[0])
    if not await req.deps.is_manager(req.client, req.user) \
            and not await req.service.assignment.was_offered_to(lead_id, req.user):
        raise Refusal(WHY_NOT_YOURS.format(lead=escape(lead_id[:100])))
    if not storable(lead_id):
        raise Refusal(f"There is no lead with id `{escape(lead_id[:100])}`.")
    return replies.why_text(await req.service.assignment.lead(lead_id), req.service.clock.now())


async def calibrate(req: Request) -> str | None:
    if not await req.deps.is_manager(req.client, req.user):
        return MANAGERS_ONLY
    member = await _member_meant(req, " ".join(req.args)) if req.args else None
    if not req.trigger_id:
        raise Refusal("Slack sent no trigger to open the calibration window; please try again.")
    await calibrate_modal.open_modal(req.deps, req.client, req.trigger_id, req.user, member)
    return None


async def _member_meant(req: Request, words: str) -> str:
    """The Slack ID behind a mention (`<@U123|alice>`), a bare ID, or a member's name."""
    match = MENTION.match(words)
    if match is not None:
        return match.group(1) or match.group(2)
    named = await req.service.admin.slack_ids_named(html.unescape(words))
    if len(named) == 1:
        return named[0]
    if named:
        raise Refusal(f"Several members are called `{escape(words)}`; pick one from Slack's "
                      "@-mention list, e.g. `/rotation calibrate @alice`.")
    raise Refusal(f"`{escape(words)}` is not a member of the rotation; mention them from Slack's "
                  "@-mention list, e.g. `/rotation calibrate @alice`, or leave the name out "
                  "to choose in the window.")


SUBCOMMANDS: dict[str, Callable[[Request], Awaitable[Answer]]] = {
    "help": help_, "status": status, "pause": pause, "resume": resume, "away": away,
    "calendar": calendar, "who": who, "why": why, "calibrate": calibrate,
    "add": people_command.add, "remove": people_command.remove, "history": people_command.history,
    "reassign": people_command.reassign,
    "report": report_command.run,
}


USUAL = ("status", "pause", "resume", "who")


def unknown(name: str) -> str:
    """A word that is no subcommand: the nearest one if it looks like a typo, else the usual few
    (never the whole help, which buried the one line that mattered)."""
    close = difflib.get_close_matches(name, list(SUBCOMMANDS), n=1, cutoff=0.6)
    said = f"I don't know `{escape(clip(name, 100))}`."
    if close:
        return f"{said} Did you mean `/rotation {close[0]}`? (`/rotation help` lists them all.)"
    usual = ", ".join(f"`/rotation {word}`" for word in USUAL)
    return f"{said} The usual ones are {usual}; `/rotation help` lists them all."


async def run(req: Request, name: str) -> Answer:
    handler = SUBCOMMANDS.get(name)
    if handler is None:
        return unknown(name)
    result, failure = await attempt(handler(req))
    return failure if failure is not None else result


async def on_rotation(ack: AsyncAck, command: dict[str, str], respond: AsyncRespond,
                      client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    words = (command.get("text") or "").split()
    name, args = (words[0].lower(), words[1:]) if words else ("help", [])
    req = Request(deps(context), client, command["user_id"], args, command.get("trigger_id"))
    answer = await run(req, name)
    if isinstance(answer, BlockReply):
        await respond(text=answer.text, blocks=answer.blocks, response_type="ephemeral")
    elif answer:
        await respond(text=clip(answer, ANSWER_LIMIT), response_type="ephemeral")

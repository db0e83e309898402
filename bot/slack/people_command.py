"""`/rotation add | remove | history | reassign`: a manager runs the team from Slack.

Why the profile is read here: the core takes a person's name, email and timezone as plain
data; Slack's `users.info` is where they live, so the Slack layer reads them and hands them
over. Everything else (who may do what, level seats, the config's rules) is the core's or
the permission check's, answered in plain words, with nothing changed on a refusal.

History opens as a modal (the same one the History buttons open) and pages with More.
"""

from __future__ import annotations

import html
import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.routing.admin.people import PersonChange, Profile
from bot.routing.assignment.reassign import Reassigned
from bot.routing.errors import RoutingError
from bot.slack import admin_words
from bot.slack.answers import Refusal, attempt, escape
from bot.slack.deps import SlackDeps, deps
from bot.slack.history_view import history_modal, read_more_value, shown_so_far

if TYPE_CHECKING:
    from bot.slack.commands import Request

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
MAX_LEAD_ID = 200
SLACKBOT = "USLACKBOT"  # Slackbot's user id in every workspace; its users.info says is_bot false
ADD_USAGE = ("Write `/rotation add @member [to QUEUE[,QUEUE…]] [weight W | share S% | priority N]`, "
             "e.g. `/rotation add @dana to emea share 20%`.")
REMOVE_USAGE = "Write `/rotation remove @member [from QUEUE]`."
REASSIGN_USAGE = "Write `/rotation reassign LEAD_ID @member`, e.g. `/rotation reassign L-1042 @bob`."


def managers_only(what: str) -> str:
    return f"{what} is for managers, sorry: ask one of them. Nothing was changed."


async def person_of(d: SlackDeps, word: str) -> str:
    """The Slack user `word` names: Slack's mention, a user id, or a member's `@name`."""
    mention = MENTION.fullmatch(word)
    if mention is not None:
        return mention.group(1)
    if USER_ID.fullmatch(word.lstrip("@")):
        return word.lstrip("@")
    if word.startswith("<@"):
        raise Refusal(f"`{escape(word)}` is not a Slack mention; pick the person from Slack's @-list. "
                      "Nothing was changed.")
    named = await d.service.admin.slack_ids_named(html.unescape(word))
    if len(named) != 1:
        many = "Several members are called" if named else "No member is called"
        raise Refusal(f"{many} `{escape(word)}`; pick the person from Slack's @-list. Nothing was changed.")
    return named[0]


def not_a_person(slack_id: str, user: dict[str, Any], who: str) -> str | None:
    """Why this Slack user can never take a lead (a bot, an app, Slackbot, a deactivated
    account), or None for a person: they would be offered leads nobody ever accepts.

    Slackbot is the one bot whose `is_bot` is false, so it is known by its id."""
    if user.get("deleted"):
        return f"{who} is deactivated in Slack; nothing was changed."
    if slack_id == SLACKBOT:
        return "Slackbot is a bot, not a person, so it cannot take leads; nothing was changed."
    if user.get("is_bot"):
        return f"{who} is a bot, not a person, so it cannot take leads; nothing was changed."
    return None


async def profile_of(client: AsyncWebClient, slack_id: str, *, mention: bool = True) -> Profile:
    """Name, email and timezone from the person's Slack profile (users.info); a bot or a
    deactivated account is refused here, before the core changes anything.

    `mention=False` names them by their Slack name instead of `<@id>`, for plain-text places
    (a modal's field errors) where Slack does not turn a mention into a name."""
    try:
        answer = await client.users_info(user=slack_id)
    except SlackApiError as error:
        log.warning("users.info %s failed: %s", slack_id, error)
        raise Refusal(f"Slack could not tell me who <@{slack_id}> is, so nobody was added. "
                      "Pick the person from Slack's @-list.") from None
    user: dict[str, Any] = answer.get("user") or {}
    profile: dict[str, Any] = user.get("profile") or {}
    name = str(user.get("real_name") or profile.get("real_name") or profile.get("display_name")
               or user.get("name") or slack_id)
    refused = not_a_person(slack_id, user, f"<@{slack_id}>" if mention else name)
    if refused is not None:
        raise Refusal(refused)
    return Profile(slack_id, name, profile.get("email") or None, user.get("tz") or None)


def parse_add(args: list[str]) -> tuple[tuple[str, ...], str | None]:
    """The words after the person: `to Q[,Q…]` and one of `weight W`, `share S%`, `priority N`."""
    queues: list[str] = []
    weight: str | None = None
    words = [html.unescape(w) for w in args]
    i = 0
    while i < len(words):
        word = words[i].lower()
        if word == "to":
            i += 1
            while i < len(words) and words[i].lower() not in ("weight", "share", "priority"):
                queues += [q for q in words[i].split(",") if q]
                i += 1
            if not queues:
                raise Refusal(f"To which queue? {ADD_USAGE}")
            continue
        if word in ("weight", "share", "priority") and i + 1 < len(words) and weight is None:
            value = words[i + 1]
            weight = {"weight": value, "share": value if value.endswith("%") else value + "%",
                      "priority": f"priority {value}"}[word]
            i += 2
            continue
        raise Refusal(f"I did not understand `{escape(words[i])}`. {ADD_USAGE}")
    return tuple(queues), weight


def reassigned_words(done: Reassigned) -> str:
    who = f"<@{done.member.slack_id}>"
    lead = f"`{escape(done.lead_id)}`"
    said = [f"Lead {lead} is now offered to {who}; they get a DM with Accept and Pass."]
    if done.previous is not None:
        was = "had accepted it" if done.previous_state == "accepted" else "had it"
        said.append(f"<@{done.previous.slack_id}> {was}: it no longer counts against them, "
                    "and they are told.")
    if not done.in_leads_queue:
        said.append(f"{escape(done.member.name)} is not in the lead's queue, so it counts in their "
                    f"{escape(done.queue)} ledger.")
    return " ".join(said)


async def add(req: Request) -> str:
    if not await req.deps.is_manager(req.client, req.user):
        return managers_only("Adding people")
    if not req.args:
        raise Refusal(f"Whom should I add? {ADD_USAGE}")
    slack_id = await person_of(req.deps, req.args[0])
    queues, weight = parse_add(req.args[1:])
    profile = await profile_of(req.client, slack_id)
    try:
        added = await req.service.admin.add_person(PersonChange(profile, queues, weight), actor=req.user)
    except RoutingError as refused:
        raise Refusal(admin_words.refusal(refused)) from None
    return admin_words.person_added(added)


async def remove(req: Request) -> str:
    if not await req.deps.is_manager(req.client, req.user):
        return managers_only("Removing people")
    if not req.args:
        raise Refusal(f"Whom should I remove? {REMOVE_USAGE}")
    slack_id = await person_of(req.deps, req.args[0])
    rest = req.args[1:]
    if rest and (rest[0].lower() != "from" or len(rest) != 2):
        raise Refusal(f"I did not understand `{escape(' '.join(rest))}`. {REMOVE_USAGE}")
    queue = html.unescape(rest[1]) if rest else None
    try:
        removed = await req.service.admin.remove_person(slack_id, queue=queue, actor=req.user)
    except RoutingError as refused:
        raise Refusal(admin_words.refusal(refused)) from None
    return admin_words.person_removed(removed)


async def reassign(req: Request) -> str:
    if not await req.deps.is_manager(req.client, req.user):
        return managers_only("Reassigning leads")
    if len(req.args) != 2:
        raise Refusal(REASSIGN_USAGE)
    lead_id = html.unescape(req.args[0])[:MAX_LEAD_ID + 1]
    slack_id = await person_of(req.deps, req.args[1])
    return reassigned_words(await req.service.assignment.reassign(lead_id, slack_id, actor=req.user))


async def may_see_history(d: SlackDeps, client: AsyncWebClient, viewer: str, member: str) -> bool:
    """Managers see anyone's history; a member sees their own."""
    return viewer == member or await d.is_manager(client, viewer)


HISTORY_NOT_YOURS = ("A member's history is for managers; you can see your own with `/rotation history`. "
                     "Nothing was shown.")


async def open_history(d: SlackDeps, client: AsyncWebClient, trigger_id: str, viewer: str,
                       member: str) -> None:
    if not await may_see_history(d, client, viewer, member):
        raise Refusal(HISTORY_NOT_YOURS)
    try:
        page = await d.service.admin.history(member)
    except RoutingError as refused:
        raise Refusal(admin_words.refusal(refused)) from None
    await client.views_open(trigger_id=trigger_id, view=history_modal(page))


async def history(req: Request) -> str | None:
    member = await person_of(req.deps, req.args[0]) if req.args else req.user
    if len(req.args) > 1:
        raise Refusal("Write `/rotation history` for yours, or `/rotation history @member` (managers).")
    if not await may_see_history(req.deps, req.client, req.user, member):
        raise Refusal(HISTORY_NOT_YOURS)
    if not req.trigger_id:
        raise Refusal("Slack sent no trigger to open the history window; please try again.")
    await open_history(req.deps, req.client, req.trigger_id, req.user, member)
    return None


async def on_more(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                  context: AsyncBoltContext) -> None:
    """More: the next (older) page, in the same modal."""
    await ack()
    d, viewer = deps(context), body["user"]["id"]
    view = body.get("view")
    wanted = read_more_value(action.get("value"))
    if wanted is None or not isinstance(view, dict) or not isinstance(view.get("id"), str):
        return  # not our modal's button (a forged or stale click): nothing to page
    member, before = wanted
    allowed, _ = await attempt(may_see_history(d, client, viewer, member))
    if not allowed:
        return
    page, failure = await attempt(d.service.admin.history(member, before=before))
    if page is None:
        log.warning("history page failed: %s", failure)
        return
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"),
                                  view=history_modal(page, shown_before=shown_so_far(view)))
    except SlackApiError as error:  # closed meanwhile, or clicked twice (the hash moved on)
        log.info("history page not shown: %s", error)

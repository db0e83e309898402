"""Rendering the outbox's neutral events as Slack messages (pure: no client, no I/O).

Why pure: the same `render()` feeds the Slack transport and a console transport that only
logs the text, and the Accept/Pass handlers reuse the lead card when they update a DM.
What a message needs from outside (the team's Open lead template, whether it goes in a
thread) is passed in; the runtime looks it up when it sends (`bot.slack.runtime`).

Lead values are shown as plain_text or neutralised mrkdwn (`bot.slack.lead_text`); every
text is clipped to Slack's limit for where it goes; times are `<!date^…>` tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
    UserSelectElement,
)

from bot.note_words import note_words
from bot.routing.errors import NotFound
from bot.routing.events import (
    Event,
    EventKind,
    LeadAssigned,
    LeadCard,
    LeadMoved,
    LeadReassigned,
    LeadUnassigned,
    ManagersNote,
    MemberNote,
    SlaExhausted,
    StatusPaused,
    Way,
    event_of,
    lead_card,
)
from bot.routing.results import LeadRecord
from bot.slack import ids, status_view
from bot.slack.answers import MESSAGE_TEXT_LIMIT, clip, escape
from bot.slack.block_json import blocks_json
from bot.slack.dates import parse_moment, slack_date
from bot.slack.lead_text import lead_url, literal, mrkdwn, one_line, plain, shown

CARD_FIELDS = (("company", "Company"), ("email", "Email"), ("phone", "Phone"),
               ("country", "Country"), ("source", "Source"))
CAUSES = {
    "new": "New lead for you",
    "pass": "A lead passed on to you",
    "sla": "A lead re-offered to you (not accepted in time)",
    "pending": "A waiting lead, now yours",
    "manager": "A lead a manager gave you",
}
# A follow-up in the announcement's thread: why the lead was offered again.
REOFFERS = {
    "pass": "Passed on",
    "sla": "Not accepted in time",
    "pending": "It was waiting",
    "manager": "A manager reassigned it",
}
HEADER_LIMIT = 150  # Slack's limits: a header's text,
FIELD_LIMIT = 2000  # a section field,
TEXT_LIMIT = 3000  # a section's or context element's text,
BLOCK_ID_LIMIT = 255  # a block_id
REASSIGN_PREFIX = "reassign:"  # the escalation actions' block_id: "reassign:{lead_id}"


class Confirm(ConfirmObject):
    """Slack's confirmation dialog, with its parts where `blocks_json` reads a model's parts.

    slack_sdk's ConfirmObject lists no `attributes` (its own to_dict builds the JSON), so
    blocks_json would send `"confirm": {}`; here the text objects are the attributes, and the
    JSON is the same as to_dict()'s.
    """

    attributes = {"title", "text", "confirm", "deny", "style"}  # noqa: RUF012 (as slack_sdk declares it)

    def __init__(self, *, title: str, text: str, confirm: str, deny: str) -> None:
        super().__init__(title=title, text=PlainTextObject(text=text, emoji=False), confirm=confirm,
                         deny=deny)
        for name in ("title", "text", "confirm", "deny"):
            setattr(self, name, getattr(self, f"_{name}"))


PASS_CONFIRM = Confirm(
    title="Pass this lead?", text="It goes to the next rep in the rotation, and you can't take it back.",
    confirm="Pass it on", deny="Keep it")


@dataclass(frozen=True, slots=True)
class Extras:
    """What a message needs besides its event: the team's Open lead template, whether it is a
    follow-up in the lead's thread, now (for the dates' fallback year) and the zone of the
    dates' fallback words."""

    lead_url: str | None = None
    in_thread: bool = False
    now: datetime | None = None
    zone: str = "UTC"  # the zone a date's fallback words are in (the rep's, when it is about them)


def lead_title(lead: dict[str, Any]) -> str:
    """`L-1 — Jane Doe (Acme)`: the id always, name and company where given (raw text)."""
    title = str(lead.get("id", "?"))
    name, company = lead.get("name"), lead.get("company")
    if name:
        title += f" — {name}"
    if company:
        title += f" ({company})" if name else f" — {company}"
    return title


def lead_line(lead: dict[str, Any]) -> str:
    """The one-line plain text: id, name, company, email (the contract's minimum; raw text)."""
    email = lead.get("email")
    return lead_title(lead) + (f", {email}" if email else "")


def _title_with(lead: dict[str, Any], show: Callable[[object], str]) -> str:
    title = show(lead.get("id", "?"))
    name, company = lead.get("name"), lead.get("company")
    if name:
        title += f" — {show(name)}"
    if company:
        title += f" ({show(company)})" if name else f" — {show(company)}"
    return title


def shown_title(lead: dict[str, Any]) -> str:
    """The title for a plain_text object: each value one line, &<> escaped, not a link."""
    return _title_with(lead, shown)


def literal_line(lead: dict[str, Any]) -> str:
    """`lead_line` for our own mrkdwn (a notification's text): nothing in it formats or links."""
    email = lead.get("email")
    return _title_with(lead, literal) + (f", {literal(email, email=True)}" if email else "")


def action_value(event: LeadAssigned) -> str:
    """Accept/Pass button value: the assignment, and the lead to look it up by."""
    return f"{event.assignment_id}:{event.lead['id']}"


def parse_action_value(value: str) -> tuple[int, str]:
    """The assignment id and lead id a lead button carries ("<assignment>:<lead>"); a
    NotFound in plain words for a value no button of ours carries."""
    assignment, _, lead_id = value.partition(":")
    if not assignment.isdigit() or not lead_id:
        raise NotFound("This button no longer works: it names no lead. Nothing was changed.")
    return int(assignment), lead_id


def card_section(lead: LeadCard) -> SectionBlock:
    """The lead itself: its title and fields, every value plain text."""
    fields = [plain(f"{label}: {shown(lead[key], email=key == 'email')}", FIELD_LIMIT)
              for key, label in CARD_FIELDS if lead.get(key) not in (None, "")]
    return SectionBlock(text=plain(shown_title(lead)), fields=fields[:10] or None)


def where_line(queue: str | None, rule: str | None, *, first: bool = False) -> str:
    return f"{'Queue' if first else 'queue'} *{literal(queue or '-')}* · rule *{literal(rule or '-')}*"


def card_blocks(lead: LeadCard, heading: str, *, queue: str | None, rule: str | None,
                summary: str | None) -> list[Block]:
    """The DM's body without buttons (kept when the message is updated after a click)."""
    blocks: list[Block] = [HeaderBlock(text=plain(heading, HEADER_LIMIT)), card_section(lead)]
    if queue or rule:
        blocks.append(ContextBlock(elements=[mrkdwn(where_line(queue, rule, first=True))]))
    if summary:
        blocks.append(ContextBlock(elements=[plain(one_line(summary))]))
    return blocks


def open_lead_button(lead_id: str, template: str | None) -> ButtonElement | None:
    """The Open lead link, from the team's template only (never a URL the lead brought)."""
    url = lead_url(template, lead_id)
    if url is None:
        return None
    return ButtonElement(text="Open lead", action_id=ids.Action.OPEN_LEAD, url=url)


def deadline(event: LeadAssigned) -> datetime | None:
    """When the offer's SLA runs out: the offer's time plus the queue's minutes."""
    if not event.sla_minutes or not event.offered_at:
        return None
    try:
        return parse_moment(event.offered_at) + timedelta(minutes=event.sla_minutes)
    except ValueError:
        return None


def sla_words(event: LeadAssigned, now: datetime | None, zone: str = "UTC") -> tuple[str, str]:
    """(the notification's sentence, the DM's context line) about the SLA; ("", "") without one."""
    sla = event.sla_minutes
    if not sla:
        return "", ""
    minutes = f"{sla} minute{'' if sla == 1 else 's'}"
    due = deadline(event)
    if due is None:
        return f" Accept within {minutes}.", f"Accept within {minutes}, or it may move to the next rep."
    when = slack_date(due, "{time}", now=now, fallback_zone=zone)
    return (f" Accept by {when} (within {minutes}).",
            f"Accept by {slack_date(due, now=now, fallback_zone=zone)} (within {minutes}), "
            "or it may move to the next rep.")


def assigned_dm(event: LeadAssigned | dict[str, Any],
                extras: Extras | None = None) -> tuple[str, list[Block]]:
    """The rep's offer: the card, the SLA's deadline, Accept / Pass (confirmed) / Open lead."""
    event = _lead_assigned_event(event)
    extras = extras or Extras()
    lead = event.lead
    heading = CAUSES.get(event.cause, CAUSES["new"])
    said, line = sla_words(event, extras.now, extras.zone)
    text = f"{heading}: {literal_line(lead)}." + said
    buttons = [
        ButtonElement(text="Accept", action_id=ids.Action.ACCEPT, style="primary",
                      value=action_value(event)),
        ButtonElement(text="Pass", action_id=ids.Action.PASS, value=action_value(event),
                      confirm=PASS_CONFIRM),
    ]
    link = open_lead_button(str(lead["id"]), extras.lead_url)
    if link is not None:
        buttons.append(link)
    blocks = card_blocks(lead, heading, queue=event.queue, rule=event.rule, summary=event.summary)
    if line:
        blocks.append(ContextBlock(elements=[mrkdwn(line)]))
    blocks.append(ActionsBlock(block_id=ids.BlockId.LEAD_ACTIONS, elements=buttons))
    return text, blocks


def _lead_assigned_event(event: LeadAssigned | dict[str, Any]) -> LeadAssigned:
    """An event, or its stored payload (what tests and the console hold)."""
    if isinstance(event, LeadAssigned):
        return event
    read = event_of({"cause": "new", "assignee": {}, "summary": "", **event,
                     "event": EventKind.LEAD_ASSIGNED.value})
    assert isinstance(read, LeadAssigned)
    return read


def announcement(event: LeadAssigned) -> str:
    """The channel's line: the lead, who has it, the queue and rule (nothing in it formats)."""
    assignee = event.assignee.get("name", "?")
    return (f"Lead {literal_line(event.lead)} → {literal(assignee)} "
            f"({literal(event.queue or '-')}, rule {literal(event.rule or '-')})")


def announcement_blocks(event: LeadAssigned, extras: Extras) -> list[Block]:
    offered = _offered_at(event)
    when = f" · {slack_date(offered, now=extras.now, fallback_zone=extras.zone)}" if offered else ""
    status = f"Offered to *{literal(event.assignee.get('name', '?'))}*{when}"
    blocks: list[Block] = [
        card_section(event.lead),
        ContextBlock(elements=[mrkdwn(f"{status} · {where_line(event.queue, event.rule)}")]),
    ]
    link = open_lead_button(str(event.lead["id"]), extras.lead_url)
    if link is not None:
        blocks.append(ActionsBlock(block_id=ids.BlockId.LEAD_ACTIONS, elements=[link]))
    return blocks


def reoffer_reply(event: LeadAssigned) -> str:
    """A re-offer as a reply in the lead's thread: why, and who has it now."""
    why = REOFFERS.get(event.cause)
    who = f"now offered to *{literal(event.assignee.get('name', '?'))}*"
    return f"{why}: {who}." if why else f"Offered to *{literal(event.assignee.get('name', '?'))}*."


def _offered_at(event: LeadAssigned) -> datetime | None:
    try:
        return parse_moment(event.offered_at) if event.offered_at else None
    except ValueError:
        return None


def escalation_actions(lead_id: str, template: str | None) -> ActionsBlock | None:
    """Reassign to… (a user select), Take it, Open lead: what a manager does about a lead.

    The block_id is `reassign:{lead_id}` (the select's payload carries no value of its own),
    and Take it carries the lead id as its value; both are read by bot.slack.escalation_actions.
    """
    block_id = REASSIGN_PREFIX + lead_id
    if len(block_id) > BLOCK_ID_LIMIT:
        return None
    elements: list[Any] = [
        UserSelectElement(placeholder="Reassign to…", action_id=ids.Action.REASSIGN_TO),
        ButtonElement(text="Take it", action_id=ids.Action.TAKE_LEAD, value=lead_id),
    ]
    link = open_lead_button(lead_id, template)
    if link is not None:
        elements.append(link)
    return ActionsBlock(block_id=block_id, elements=elements)


def lead_post_blocks(words: str, lead: LeadCard, extras: Extras) -> list[Block]:
    """A post about a lead someone must act on: our words, the card, the managers' buttons."""
    blocks: list[Block] = [SectionBlock(text=mrkdwn(words)), card_section(lead)]
    actions = escalation_actions(str(lead.get("id", "")), extras.lead_url) if lead.get("id") else None
    if actions is not None:
        blocks.append(actions)
    return blocks


def note_text(text: str, lead: LeadCard | None) -> str:
    """A note's words, escaped, on one line; the lead's id in it neutralised like any lead value."""
    words = escape(one_line(text))
    lead_id = str(lead.get("id", "")) if lead else ""
    return words.replace(escape(lead_id), literal(lead_id)) if lead_id else words


def waiting_text(event: LeadUnassigned) -> str:
    return (f"Lead {literal_line(event.lead)} in {literal(event.queue or '-')} "
            f"is waiting: {escape(one_line(event.reason or 'nobody is available'))}")


ENDED = {"passed": "passed on by", "expired": "not accepted in time by", "reassigned": "taken from"}


def _step_moment(step: dict[str, Any], key: str) -> datetime | None:
    try:
        return parse_moment(step[key]) if step.get(key) else None
    except (ValueError, TypeError):
        return None


def story_lines(record: LeadRecord, now: datetime | None = None) -> tuple[str, str | None, bool]:
    """(where the lead is now, what happened before or None, whether it waits for someone)."""
    steps = record.assignments
    last = steps[-1] if steps else None
    earlier = [f"{ENDED.get(step['state'], escape(step['state']) + ':')} "
               f"{literal(step['assignee']['name'])}" for step in steps[:-1]]
    if last is not None and last["state"] in ENDED:
        earlier.append(f"{ENDED[last['state']]} {literal(last['assignee']['name'])}")
    before = ("Earlier: " + " · ".join(earlier)) if earlier else None
    if last is None or record.status == "unassigned" or last["state"] not in ("offered", "accepted"):
        return f"*Waiting for someone* in *{literal(record.queue or '-')}*", before, True
    name = literal(last["assignee"]["name"])
    if last["state"] == "accepted":
        at = _step_moment(last, "accepted_at")
        return (f":white_check_mark: Accepted by *{name}*"
                + (f" · {slack_date(at, now=now)}" if at else "")), before, False
    at = _step_moment(last, "assigned_at")
    return f"Offered to *{name}*" + (f" · {slack_date(at, now=now)}" if at else ""), before, False


def announcement_now(record: LeadRecord, extras: Extras) -> tuple[str, list[Block]]:
    """A channel's first post about a lead, as it should read now: the card, where the lead
    is (offered, accepted, waiting), what happened before; Open lead kept, and the managers'
    buttons while it waits."""
    lead = lead_card(record.lead_id, record.fields)
    status, before, waiting = story_lines(record, extras.now)
    blocks: list[Block] = [
        card_section(lead),
        ContextBlock(elements=[mrkdwn(f"{status} · {where_line(record.queue, record.rule)}")]),
    ]
    if before:
        blocks.append(ContextBlock(elements=[mrkdwn(before)]))
    actions = escalation_actions(record.lead_id, extras.lead_url) if waiting else None
    link = None if waiting else open_lead_button(record.lead_id, extras.lead_url)
    if actions is not None:
        blocks.append(actions)
    elif link is not None:
        blocks.append(ActionsBlock(block_id=ids.BlockId.LEAD_ACTIONS, elements=[link]))
    return clip(f"Lead {literal_line(lead)}: {status}", MESSAGE_TEXT_LIMIT), blocks


def closed_offer(lead: LeadCard, words: str, extras: Extras, *, queue: str | None = None,
                 rule: str | None = None, summary: str | None = None) -> tuple[str, list[Block]]:
    """An offer DM once it is over (accepted, passed, moved on): the card and what happened
    in place of Accept and Pass; Open lead stays."""
    blocks = card_blocks(lead, "Lead", queue=queue, rule=rule, summary=summary)
    blocks.append(SectionBlock(text=mrkdwn(words)))
    link = open_lead_button(str(lead.get("id", "")), extras.lead_url) if lead.get("id") else None
    if link is not None:
        blocks.append(ActionsBlock(block_id=ids.BlockId.LEAD_ACTIONS, elements=[link]))
    return clip(words, MESSAGE_TEXT_LIMIT), blocks


def render(kind: str, payload: dict[str, Any], extras: Extras | None = None) -> dict[str, Any]:
    """One outbox message as chat.postMessage arguments: channel, text, blocks (or None).

    The text is clipped to MESSAGE_TEXT_LIMIT: a lead may carry 64 KiB of fields, and Slack
    cuts past 40,000 characters without a mark."""
    message = _render(kind, payload, extras or Extras())
    message["text"] = clip(message["text"], MESSAGE_TEXT_LIMIT)
    return message


Rendered = dict[str, Any]  # chat.postMessage arguments: channel, text, blocks


def _lead_assigned(event: Event, way: Way, channel: str, extras: Extras) -> Rendered:
    assert isinstance(event, LeadAssigned)
    if way is Way.DM:
        text, blocks = assigned_dm(event, extras)
        return {"channel": channel, "text": text, "blocks": blocks_json(blocks)}
    if extras.in_thread:
        return {"channel": channel, "text": reoffer_reply(event), "blocks": None}
    return {"channel": channel, "text": announcement(event),
            "blocks": blocks_json(announcement_blocks(event, extras))}


def _lead_unassigned(event: Event, way: Way, channel: str, extras: Extras) -> Rendered:
    assert isinstance(event, LeadUnassigned)
    text = waiting_text(event)
    words = (f"*Waiting for someone* in *{literal(event.queue or '-')}*: "
             f"{escape(one_line(event.reason or 'nobody is available'))}")
    blocks = lead_post_blocks(words, event.lead, extras)
    return {"channel": channel, "text": text, "blocks": blocks_json(blocks)}


def _status_paused(event: Event, way: Way, channel: str, extras: Extras) -> Rendered:
    assert isinstance(event, StatusPaused)
    text, blocks = status_view.paused_dm(event, channel)
    return {"channel": channel, "text": text, "blocks": blocks_json(blocks)}


def _member_note(event: Event, way: Way, channel: str, extras: Extras) -> Rendered:
    assert isinstance(event, MemberNote)
    return {"channel": channel, "text": note_text(event.text, event.lead), "blocks": None}


def _managers_note(event: Event, way: Way, channel: str, extras: Extras) -> Rendered:
    assert isinstance(event, ManagersNote)
    return _for_managers(note_text(event.text, event.lead), event.lead, channel, extras)


def _for_managers(text: str, lead: LeadCard | None, channel: str, extras: Extras) -> Rendered:
    """A note for the managers; about a lead, it carries the card and the buttons to act."""
    if not lead or not lead.get("id"):
        return {"channel": channel, "text": text, "blocks": None}
    blocks = lead_post_blocks(text, lead, extras)
    return {"channel": channel, "text": text, "blocks": blocks_json(blocks)}


def _lead_note(event: Event, way: Way, channel: str, extras: Extras) -> Rendered:
    """A lead moved on or reassigned, told to its rep (and a queue's channel): one line."""
    assert isinstance(event, LeadMoved | LeadReassigned)
    return {"channel": channel, "text": note_text(note_words(event), event.lead), "blocks": None}


def _sla_exhausted(event: Event, way: Way, channel: str, extras: Extras) -> Rendered:
    """The managers are asked to step in: the line, the card and the buttons."""
    assert isinstance(event, SlaExhausted)
    return _for_managers(note_text(note_words(event), event.lead), event.lead, channel, extras)


# Which events Slack shows, and how; an event missing here is never sent to Slack.
RENDERERS: dict[EventKind, Callable[[Event, Way, str, Extras], Rendered]] = {
    EventKind.LEAD_ASSIGNED: _lead_assigned,
    EventKind.LEAD_UNASSIGNED: _lead_unassigned,
    EventKind.STATUS_PAUSED: _status_paused,
    EventKind.MEMBER_NOTE: _member_note,
    EventKind.MANAGERS_NOTE: _managers_note,
    EventKind.LEAD_MOVED: _lead_note,
    EventKind.LEAD_REASSIGNED: _lead_note,
    EventKind.SLA_EXHAUSTED: _sla_exhausted,
}


def log_render(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A message in words for the log (no Slack token): the lead's values as they came, since
    a log shows them literally anyway (its writer escapes control characters), with none of
    the zero-width spaces or entities that keep them inert in Slack."""
    channel = destination(kind, payload)
    event = event_of(payload)
    if isinstance(event, LeadAssigned):
        if kind == Way.DM:
            sla = event.sla_minutes
            text = f"{CAUSES.get(event.cause, CAUSES['new'])}: {lead_line(event.lead)}." + (
                f" Accept within {sla} minute{'' if sla == 1 else 's'}." if sla else "")
        else:
            text = (f"Lead {lead_line(event.lead)} → {event.assignee.get('name', '?')} "
                    f"({event.queue or '-'}, rule {event.rule or '-'})")
    elif isinstance(event, LeadUnassigned):
        text = (f"Lead {lead_line(event.lead)} in {event.queue or '-'} is waiting: "
                f"{event.reason or 'nobody is available'}")
    elif isinstance(event, MemberNote | ManagersNote | StatusPaused):
        text = event.text
    elif isinstance(event, LeadMoved | LeadReassigned | SlaExhausted):
        text = note_words(event)
    else:
        raise ValueError(f"Slack shows no {event.kind.value!r} events")
    return {"channel": channel, "text": clip(text, MESSAGE_TEXT_LIMIT), "blocks": None}


def destination(kind: str, payload: dict[str, Any]) -> str:
    """Where a dm/channel message goes; ValueError for anything else."""
    channel = payload.get("to") if kind == Way.DM else payload.get("channel")
    if kind not in (Way.DM, Way.CHANNEL) or not channel:
        raise ValueError(f"cannot render a {kind!r} message without a destination: {payload.get('event')!r}")
    return str(channel)


def _render(kind: str, payload: dict[str, Any], extras: Extras) -> Rendered:
    channel = destination(kind, payload)
    event = event_of(payload)
    renderer = RENDERERS.get(event.kind)
    if renderer is None:
        raise ValueError(f"Slack shows no {event.kind.value!r} events")
    return renderer(event, Way(kind), channel, extras)

"""Rendering the outbox's neutral events as Slack messages (pure: no client, no I/O).

Why pure: the same `render()` feeds the Slack transport and a console transport that only
logs the text, and the Accept/Pass handlers reuse the lead card when they update a DM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.routing.errors import NotFound
from bot.routing.events import (
    Event,
    EventKind,
    LeadAssigned,
    LeadCard,
    LeadUnassigned,
    ManagersNote,
    MemberNote,
    StatusPaused,
    Way,
    event_of,
)
from bot.slack import ids, status_view
from bot.slack.answers import MESSAGE_TEXT_LIMIT, clip, escape
from bot.slack.block_json import blocks_json

CARD_FIELDS = (("company", "Company"), ("email", "Email"), ("phone", "Phone"),
               ("country", "Country"), ("source", "Source"))
CAUSES = {
    "new": "New lead for you",
    "pass": "A lead passed on to you",
    "sla": "A lead re-offered to you (not accepted in time)",
    "pending": "A waiting lead, now yours",
}


def lead_title(lead: dict[str, Any]) -> str:
    """`L-1 — Jane Doe (Acme)`: the id always, name and company where given."""
    title = str(lead.get("id", "?"))
    name, company = lead.get("name"), lead.get("company")
    if name:
        title += f" — {name}"
    if company:
        title += f" ({company})" if name else f" — {company}"
    return title


def lead_line(lead: dict[str, Any]) -> str:
    """The one-line plain text: id, name, company, email (the contract's minimum)."""
    email = lead.get("email")
    return lead_title(lead) + (f", {email}" if email else "")


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


def card_blocks(lead: LeadCard, heading: str, *, queue: str | None, rule: str | None,
                summary: str | None) -> list[Block]:
    """The DM's body without buttons (kept when the message is updated after a click)."""
    fields = [MarkdownTextObject(text=clip(f"*{label}*\n{escape(lead[key])}", 2000))
              for key, label in CARD_FIELDS if lead.get(key) not in (None, "")]
    fields.append(MarkdownTextObject(text=clip(f"*Queue / rule*\n{escape(queue or '-')}"
                                               f" / {escape(rule or '-')}", 2000)))
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=clip(f"*{heading}:* {escape(lead_title(lead))}", 3000)),
                     fields=fields[:10]),
    ]
    if summary:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=clip(escape(summary), 3000))]))
    return blocks


def assigned_dm(event: LeadAssigned) -> tuple[str, list[Block]]:
    lead = event.lead
    heading = CAUSES.get(event.cause, CAUSES["new"])
    sla = event.sla_minutes
    text = f"{heading}: {escape(lead_line(lead))}" + (f". Accept within {sla} minutes." if sla else ".")
    buttons = [
        ButtonElement(text="Accept", action_id=ids.Action.ACCEPT, style="primary",
                      value=action_value(event)),
        ButtonElement(text="Pass", action_id=ids.Action.PASS, value=action_value(event)),
    ]
    url = lead.get("url")
    if isinstance(url, str) and url.startswith(("http://", "https://")) and len(url) <= 3000:
        buttons.append(ButtonElement(text="Open lead", action_id=ids.Action.OPEN_LEAD, url=url))
    blocks = card_blocks(lead, heading, queue=event.queue, rule=event.rule, summary=event.summary)
    if sla:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"Accept within {sla} minute{'' if sla == 1 else 's'}, or it may move to the next rep.")]))
    blocks.append(ActionsBlock(block_id=ids.Block.LEAD_ACTIONS, elements=buttons))
    return text, blocks


def announcement(event: LeadAssigned) -> str:
    assignee = event.assignee.get("name", "?")
    return (f"Lead {escape(lead_line(event.lead))} → {escape(assignee)} "
            f"({escape(event.queue or '-')}, rule {escape(event.rule or '-')})")


def render(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One outbox message as chat.postMessage arguments: channel, text, blocks (or None).

    The text is clipped to MESSAGE_TEXT_LIMIT: a lead may carry 64 KiB of fields, and Slack
    cuts past 40,000 characters without a mark."""
    message = _render(kind, payload)
    message["text"] = clip(message["text"], MESSAGE_TEXT_LIMIT)
    return message


Rendered = dict[str, Any]  # chat.postMessage arguments: channel, text, blocks


def _lead_assigned(event: Event, way: Way, channel: str) -> Rendered:
    assert isinstance(event, LeadAssigned)
    if way is Way.DM:
        text, blocks = assigned_dm(event)
        return {"channel": channel, "text": text, "blocks": blocks_json(blocks)}
    return {"channel": channel, "text": announcement(event), "blocks": None}


def _lead_unassigned(event: Event, way: Way, channel: str) -> Rendered:
    assert isinstance(event, LeadUnassigned)
    text = (f"Lead {escape(lead_line(event.lead))} in {escape(event.queue or '-')} "
            f"is waiting: {escape(event.reason or 'nobody is available')}")
    return {"channel": channel, "text": text, "blocks": None}


def _status_paused(event: Event, way: Way, channel: str) -> Rendered:
    assert isinstance(event, StatusPaused)
    text, blocks = status_view.paused_dm(event, channel)
    return {"channel": channel, "text": text, "blocks": blocks_json(blocks)}


def _note(event: Event, way: Way, channel: str) -> Rendered:
    assert isinstance(event, MemberNote | ManagersNote)
    return {"channel": channel, "text": escape(event.text), "blocks": None}


# Which events Slack shows, and how; an event missing here is never sent to Slack.
RENDERERS: dict[EventKind, Callable[[Event, Way, str], Rendered]] = {
    EventKind.LEAD_ASSIGNED: _lead_assigned,
    EventKind.LEAD_UNASSIGNED: _lead_unassigned,
    EventKind.STATUS_PAUSED: _status_paused,
    EventKind.MEMBER_NOTE: _note,
    EventKind.MANAGERS_NOTE: _note,
}


def _render(kind: str, payload: dict[str, Any]) -> Rendered:
    channel = payload.get("to") if kind == Way.DM else payload.get("channel")
    if kind not in (Way.DM, Way.CHANNEL) or not channel:
        raise ValueError(f"cannot render a {kind!r} message without a destination: {payload.get('event')!r}")
    event = event_of(payload)
    renderer = RENDERERS.get(event.kind)
    if renderer is None:
        raise ValueError(f"Slack shows no {event.kind.value!r} events")
    return renderer(event, Way(kind), channel)

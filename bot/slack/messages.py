"""Rendering the outbox's neutral events as Slack messages (pure: no client, no I/O).

Why pure: the same `render()` feeds the Slack transport and a console transport that only
logs the text, and the Accept/Pass handlers reuse the lead card when they update a DM.
"""

from __future__ import annotations

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


def action_value(payload: dict[str, Any]) -> str:
    """Accept/Pass button value: the assignment, and the lead to look it up by."""
    return f"{payload['assignment_id']}:{payload['lead']['id']}"


def parse_action_value(value: str) -> tuple[int, str]:
    """The assignment id and lead id a lead button carries ("<assignment>:<lead>"); a
    NotFound in plain words for a value no button of ours carries."""
    assignment, _, lead_id = value.partition(":")
    if not assignment.isdigit() or not lead_id:
        raise NotFound("This button no longer works: it names no lead. Nothing was changed.")
    return int(assignment), lead_id


def lead_card(lead: dict[str, Any], heading: str, payload: dict[str, Any]) -> list[Block]:
    """The DM's body without buttons (kept when the message is updated after a click)."""
    fields = [MarkdownTextObject(text=clip(f"*{label}*\n{escape(lead[key])}", 2000))
              for key, label in CARD_FIELDS if lead.get(key) not in (None, "")]
    fields.append(MarkdownTextObject(text=clip(f"*Queue / rule*\n{escape(payload.get('queue') or '-')}"
                                               f" / {escape(payload.get('rule') or '-')}", 2000)))
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=clip(f"*{heading}:* {escape(lead_title(lead))}", 3000)),
                     fields=fields[:10]),
    ]
    if payload.get("summary"):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=clip(escape(payload["summary"]),
                                                                          3000))]))
    return blocks


def assigned_dm(payload: dict[str, Any]) -> tuple[str, list[Block]]:
    lead = payload["lead"]
    heading = CAUSES.get(payload.get("cause") or "new", CAUSES["new"])
    sla = payload.get("sla_minutes")
    text = f"{heading}: {escape(lead_line(lead))}" + (f". Accept within {sla} minutes." if sla else ".")
    buttons = [
        ButtonElement(text="Accept", action_id=ids.Action.ACCEPT, style="primary",
                      value=action_value(payload)),
        ButtonElement(text="Pass", action_id=ids.Action.PASS, value=action_value(payload)),
    ]
    url = lead.get("url")
    if isinstance(url, str) and url.startswith(("http://", "https://")) and len(url) <= 3000:
        buttons.append(ButtonElement(text="Open lead", action_id=ids.Action.OPEN_LEAD, url=url))
    blocks = lead_card(lead, heading, payload)
    if sla:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"Accept within {sla} minute{'' if sla == 1 else 's'}, or it may move to the next rep.")]))
    blocks.append(ActionsBlock(block_id=ids.Block.LEAD_ACTIONS, elements=buttons))
    return text, blocks


def announcement(payload: dict[str, Any]) -> str:
    lead = payload["lead"]
    assignee = (payload.get("assignee") or {}).get("name", "?")
    return (f"Lead {escape(lead_line(lead))} → {escape(assignee)} "
            f"({escape(payload.get('queue') or '-')}, rule {escape(payload.get('rule') or '-')})")


def render(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One outbox message as chat.postMessage arguments: channel, text, blocks (or None).

    The text is clipped to MESSAGE_TEXT_LIMIT: a lead may carry 64 KiB of fields, and Slack
    cuts past 40,000 characters without a mark."""
    message = _render(kind, payload)
    message["text"] = clip(message["text"], MESSAGE_TEXT_LIMIT)
    return message


def _render(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    event = payload.get("event")
    channel = payload.get("to") if kind == "dm" else payload.get("channel")
    if kind not in ("dm", "channel") or not channel:
        raise ValueError(f"cannot render a {kind!r} message without a destination: {event!r}")
    if event == "lead_assigned" and kind == "dm":
        text, blocks = assigned_dm(payload)
        return {"channel": channel, "text": text, "blocks": blocks_json(blocks)}
    if event == "lead_assigned":
        return {"channel": channel, "text": announcement(payload), "blocks": None}
    if event == "lead_unassigned":
        text = (f"Lead {escape(lead_line(payload['lead']))} in {escape(payload.get('queue') or '-')} "
                f"is waiting: {escape(payload.get('reason') or 'nobody is available')}")
        return {"channel": channel, "text": text, "blocks": None}
    if event == "status_paused" and kind == "dm":
        text, blocks = status_view.paused_dm(payload)
        return {"channel": channel, "text": text, "blocks": blocks_json(blocks)}
    if event in ("managers_note", "member_note"):
        return {"channel": channel, "text": escape(payload.get("text") or ""), "blocks": None}
    raise ValueError(f"unknown outbox event {event!r}")

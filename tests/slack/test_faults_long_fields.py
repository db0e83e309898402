"""Attack: a lead whose fields fill the 64 KiB intake limit, shown in Slack.

Slack cuts a message's text past 40,000 characters without a mark, and refuses blocks over
their limits; every text we send stops short of them, with a visible cut.
"""

from __future__ import annotations

from typing import Any

import pytest
from slack_harness import MANAGER, Bot

from bot.slack import messages

HUGE = "N" * 60_000
LEAD = {"id": "L-HUGE", "name": HUGE, "company": HUGE[:3000], "email": "x@example.com"}
EVENT = {"event": "lead_assigned", "assignment_id": 1, "cause": "new", "lead": LEAD, "queue": "emea",
         "rule": "r", "assignee": {"slack_id": "U01ALICE", "name": "Alice"}, "summary": HUGE}


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    found = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            found.append(block["text"]["text"])
        found += [field["text"] for field in block.get("fields") or []]
    return found


@pytest.mark.parametrize(("kind", "payload"), [
    ("dm", EVENT | {"to": "U01ALICE"}),
    ("channel", EVENT | {"channel": "C0EMEA"}),
    ("channel", {"event": "lead_unassigned", "channel": "C0EMEA", "lead": LEAD, "queue": "emea",
                 "reason": HUGE}),
    ("dm", {"event": "member_note", "to": "U01ALICE", "text": HUGE}),
])
def test_every_message_about_a_huge_lead_fits_slacks_limits(kind: str, payload: dict[str, Any]) -> None:
    message = messages.render(kind, payload)
    assert len(message["text"]) <= 4_000 and message["text"].endswith("…")
    for text in texts(message["blocks"] or []):
        assert len(text) <= 3_000


async def test_why_on_a_huge_lead_is_answered_within_slacks_limit(bot: Bot) -> None:
    await bot.service.assignment.route({"id": "L-HUGE", "name": HUGE, "country": "DE", "notes": HUGE[:4000]})
    answer = await bot.command("why L-HUGE", user=MANAGER)
    assert "L-HUGE" in answer
    assert len(answer) <= 40_000

"""blocks_json must give exactly what slack_sdk's to_dict() gives, and fail where it fails."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ImageElement,
    RichTextBlock,
    RichTextElementParts,
    RichTextSectionElement,
    SectionBlock,
)

from bot.slack import messages, status_view
from bot.slack.block_json import blocks_json

LEAD = {"id": "L-7", "name": "Ana <Núñez>", "company": "Acme & Co", "email": "ana@acme.example",
        "phone": "+44 20 7946 0000", "country": "GB", "source": "web", "url": "https://crm.example/L-7"}
ASSIGNED = {"event": "lead_assigned", "to": "U01ALICE", "assignment_id": 12, "lead": LEAD, "cause": "new",
            "assignee": {"slack_id": "U01ALICE", "name": "Alice"},
            "queue": "emea", "rule": "gb-web", "summary": "Alice was furthest behind her share (lag 1.5)"}
DMS = [
    ASSIGNED,
    ASSIGNED | {"cause": "pass", "sla_minutes": 15},
    ASSIGNED | {"cause": "sla", "lead": {"id": "L-8"}, "summary": None, "queue": None},
    ASSIGNED | {"lead": LEAD | {"url": "ftp://not-a-link"}, "rule": "x" * 3000},
]


@pytest.mark.parametrize("payload", DMS)
def test_lead_dms_serialise_as_to_dict_does(payload: dict[str, Any]) -> None:
    _, blocks = messages.assigned_dm(payload)
    assert blocks_json(blocks) == [block.to_dict() for block in blocks]
    assert messages.render("dm", payload)["blocks"] == [block.to_dict() for block in blocks]


def test_status_pause_dm_serialises_as_to_dict_does() -> None:
    payload = {"event": "status_paused", "to": "U01ALICE", "status_text": "Vacationing",
               "status_emoji": ":palm_tree:", "until": "2026-12-01T17:00:00+00:00", "text": ""}
    _, blocks = status_view.paused_dm(payload)
    assert messages.render("dm", payload)["blocks"] == [block.to_dict() for block in blocks]


def test_empty_lists_are_kept_only_where_slack_allows_them() -> None:
    blocks = [RichTextBlock(elements=[RichTextSectionElement(elements=[])]),
              SectionBlock(text="*hi*", fields=[]),
              SectionBlock(text="pic", accessory=ImageElement(image_url="https://x.example/a.png",
                                                              alt_text="a")),
              RichTextBlock(elements=[RichTextSectionElement(elements=[RichTextElementParts.Text(text="t")])])]
    got = blocks_json(blocks)
    assert got == [block.to_dict() for block in blocks]
    assert got[0]["elements"][0]["elements"] == []
    assert "fields" not in got[1]


@pytest.mark.parametrize("broken", [
    lambda: ActionsBlock(elements=[ButtonElement(text="x" * 76, action_id="too-long")]),
    lambda: ActionsBlock(elements=[ButtonElement(text=str(n), action_id=f"a{n}") for n in range(26)]),
    lambda: ActionsBlock(elements=[ButtonElement(text="ok", action_id="a", style="loud")]),
])
def test_a_model_that_to_dict_rejects_is_rejected_with_the_same_words(broken: Any) -> None:
    block = broken()
    with pytest.raises(SlackObjectFormationError) as ours:
        blocks_json([block])
    with pytest.raises(SlackObjectFormationError) as theirs:
        block.to_dict()
    assert str(ours.value) == str(theirs.value)

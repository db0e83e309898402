"""Attack: lead fields written to format, forge or link a Slack message.

A lead comes from a form anyone can post. Its name with a newline must not write a line of
the bot's own ("✅ Accepted by …"); `*`, `_`, `~` and backticks must not format; a bare URL
must not become a link; `<!channel>` and `<@U…>` must not mention; a 60,000-character name
must fit Slack's limits; and the Open lead button must never point where the lead says.
Every message is sent the real way (delivery loop → Slack runtime → fake Slack) and read
back as Slack received it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from slack_harness import MANAGER, SECRET, Bot
from sqlalchemy import insert, select, update

from bot.delivery.loop import DeliveryLoop
from bot.delivery.transports import default_transports
from bot.routing.events import LeadUnassigned, ManagersNote, Recipient, lead_card
from bot.routing.outbox import outbox_row
from bot.slack.lead_text import ZWSP
from bot.store.models import OutboxMessage, Team
from bot.web.metrics import Metrics

try:  # works whether or not tests/ is a package
    from tests import slack_requests as sr
except ImportError:
    import slack_requests as sr  # type: ignore[no-redef]

FORGED = "Jane\n:white_check_mark: Accepted by <@U0MANAGER1> after 1m\u2028✅ Accepted by Bob"
FORMATTED = "*Bold* _italic_ ~struck~ `code`"
LINKED = "https://evil.example/login"
MENTIONS = "<!channel> <!here> <@U0MANAGER1> <#C0EMEA>"
ATTACK = {"id": "L-ATT", "name": FORGED, "company": FORMATTED, "source": LINKED, "phone": MENTIONS,
          "email": "jane@acme.co.uk", "country": "GB", "url": "https://evil.example/phish"}
TEMPLATE = "https://crm.example.com/leads/{id}"


async def deliver(bot: Bot) -> None:
    loop = DeliveryLoop(bot.service.db, default_transports(bot.runtime, None, None), service=bot.service,
                        clock=bot.service.clock, metrics=Metrics())
    await loop.drain()


async def set_lead_url(bot: Bot, template: str | None) -> None:
    async with bot.service.db.transaction() as connection:
        settings = (await connection.execute(select(Team.settings))).scalar_one()
        await connection.execute(update(Team).values(settings={**settings, "lead_url": template}))


def text_objects(node: Any) -> list[dict[str, Any]]:
    """Every Block Kit text object in a message's blocks."""
    if isinstance(node, list):
        return [t for item in node for t in text_objects(item)]
    if not isinstance(node, dict):
        return []
    found = [node] if node.get("type") in ("plain_text", "mrkdwn") and "text" in node else []
    return found + [t for value in node.values() for t in text_objects(value)]


def sent_texts(call: Any) -> list[tuple[str, str]]:
    """(type, text) of everything Slack was given to show: the text and each text object."""
    objects = text_objects(call.body.get("blocks"))
    return [("mrkdwn", call.body["text"])] + [(t["type"], t["text"]) for t in objects]


def buttons_urls(call: Any) -> list[str]:
    return [e["url"] for b in call.body.get("blocks") or [] if b["type"] == "actions"
            for e in b["elements"] if e.get("url")]


@pytest.fixture
async def attacked(bot: Bot) -> list[Any]:
    """The attack lead routed and every message about it sent: the DM and the announcement."""
    outcome = await bot.service.assignment.route(dict(ATTACK))
    assert outcome.assignee is not None
    await deliver(bot)
    calls = [c for c in bot.slack.calls_to("chat.postMessage") if c.status == 200]
    assert len(calls) == 2
    return calls


def dm_of(attacked: list[Any]) -> Any:
    """The rep's DM of the two (the DM and the announcement are sent side by side, in either order)."""
    [dm] = [c for c in attacked if c.body["channel"] != "C0EMEA"]
    return dm


def test_no_line_of_the_bots_own_is_written_by_a_name(attacked: list[Any]) -> None:
    for call in attacked:
        for kind, text in sent_texts(call):
            for line in text.split("\n"):
                assert not re.match(r"\s*(:white_check_mark:|✅) Accepted by", line), (kind, text)
            assert "\u2028" not in text


def test_formatting_characters_do_not_format(attacked: list[Any]) -> None:
    for call in attacked:
        for kind, text in sent_texts(call):
            if kind == "mrkdwn":  # each formatting character of the lead's is followed by a zero-width space
                for word in ("*Bold*", "_italic_", "~struck~", "`code`"):
                    assert word not in text, (word, text)
        plain = [t for k, t in sent_texts(call) if k == "plain_text"]
        if call.body.get("blocks"):
            assert any(FORMATTED in t for t in plain)  # shown as it is, in plain text
    assert f"*{ZWSP}Bold*{ZWSP}" in dm_of(attacked).body["text"]


def test_bare_urls_and_domains_do_not_become_links(attacked: list[Any]) -> None:
    for call in attacked:
        for _, text in sent_texts(call):
            assert "https://" not in text and "evil.example" not in text, text
        assert buttons_urls(call) == []  # no template: no Open lead, and never the lead's own url


def test_mentions_cannot_be_written(attacked: list[Any]) -> None:
    for call in attacked:
        for _, text in sent_texts(call):
            assert not re.search(r"<[!@#](?!date\^)", text), text  # only our own dates
    assert "&lt;!channel&gt;" in str(dm_of(attacked).body["blocks"])


async def test_open_lead_comes_from_the_template_with_the_id_quoted(bot: Bot) -> None:
    await set_lead_url(bot, TEMPLATE)
    await bot.service.assignment.route(dict(ATTACK) | {"id": "L/1?x=#2"})
    await deliver(bot)
    for call in bot.slack.calls_to("chat.postMessage"):
        assert buttons_urls(call) == ["https://crm.example.com/leads/L%2F1%3Fx%3D%232"]


async def test_a_huge_name_is_clipped_in_every_text_slack_is_sent(bot: Bot) -> None:
    await bot.service.assignment.route({"id": "L-HUGE", "name": "N" * 60_000, "company": "C" * 30_000,
                                        "country": "GB"})
    await deliver(bot)
    calls = bot.slack.calls_to("chat.postMessage")
    assert calls and all(c.status == 200 for c in calls)
    for call in calls:
        assert len(call.body["text"]) <= 4_000
        for block in call.body.get("blocks") or []:
            limit = 150 if block["type"] == "header" else 3_000
            for obj in text_objects(block.get("text")):
                assert len(obj["text"]) <= limit
            for field in block.get("fields") or []:
                assert len(field["text"]) <= 2_000


async def test_why_shows_a_forged_name_on_one_line(bot: Bot, attacked: list[Any]) -> None:
    answer = await bot.command("why L-ATT", user=MANAGER)
    title = answer.split("\n")[0]
    assert title.startswith("*Lead L-ATT*") and "Accepted by" in title  # the name, on the title's line
    assert not any(line.lstrip().startswith(("✅", ":white_check_mark:")) for line in answer.split("\n"))


async def owe(bot: Bot, key: str, event: Any, to: Recipient) -> None:
    row = outbox_row(key, event, to, "L-ESC", bot.service.clock.now())
    async with bot.service.db.transaction() as connection:
        await connection.execute(insert(OutboxMessage).values(**row))


@pytest.mark.parametrize("event", [
    ManagersNote("Lead L-ESC was not accepted after 3 offers; please step in.",
                 lead_card("L-ESC", {"name": "Ko *Ltd*", "company": "Acme"})),
    LeadUnassigned(queue="emea", lead=lead_card("L-ESC", {"name": "Ko *Ltd*"}), reason="everyone is paused"),
], ids=["escalation", "waiting"])
async def test_escalations_and_waiting_leads_carry_the_card_and_the_managers_buttons(
        bot: Bot, event: Any) -> None:
    await set_lead_url(bot, TEMPLATE)
    await owe(bot, "esc", event, Recipient.channel("C0EMEA"))
    await deliver(bot)
    [post] = bot.slack.calls_to("chat.postMessage")
    [actions] = [b for b in post.body["blocks"] if b["type"] == "actions"]
    assert actions["block_id"] == "reassign:L-ESC"
    select_, take, link = actions["elements"]
    assert (select_["type"], select_["action_id"]) == ("users_select", "lead_reassign_to")
    assert (take["action_id"], take["value"]) == ("lead_take", "L-ESC")
    assert link["url"] == "https://crm.example.com/leads/L-ESC"
    shown = text_objects(post.body["blocks"])
    assert any(t["type"] == "plain_text" and "Ko *Ltd*" in t["text"] for t in shown)


async def test_a_pass_click_after_the_confirm_dialog_still_passes(bot: Bot) -> None:
    """Slack sends the click only once the rep confirmed: the action id is Pass's own."""
    outcome = await bot.service.assignment.route({"id": "L-P", "country": "GB"})
    assert outcome.assignee is not None
    reply = await bot.post(sr.block_action(
        SECRET, "lead_pass", f"{outcome.assignment_id}:L-P", user_id=outcome.assignee.slack_id,
        message={"ts": "1700000000.000300"}, channel_id="D1", response_url=bot.slack.response_url(),
        block_id="lead_actions"))
    assert reply.status == 200
    await bot.slack.wait_for("chat.update")
    assert (await bot.service.assignment.lead("L-P")).assignments[0]["state"] == "passed"

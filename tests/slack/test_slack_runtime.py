"""The runtime: request signing, delivering outbox messages, retries, and no-token mode."""

from __future__ import annotations

import time

import pytest
from slack_harness import SECRET, Bot, FakeSlack, settings_for, sr
from slack_sdk.errors import SlackApiError
from sqlalchemy import select, update

from bot.config.settings import Settings
from bot.routing.service import RoutingService
from bot.slack.messages import render
from bot.slack.runtime import SlackRuntime
from bot.store.models import Team

LEAD = {"id": "L-50", "name": "Jane Doe", "company": "Acme Ltd", "email": "jane@acme.co.uk",
        "country": "GB", "source": "web", "url": "https://crm.example.com/leads/50"}


async def test_unsigned_bad_and_stale_requests_get_401(bot: Bot) -> None:
    body, headers = sr.slash_command(SECRET, "status")
    unsigned = {"Content-Type": headers["Content-Type"]}
    assert (await bot.post((body, unsigned))).status == 401
    assert (await bot.post(sr.slash_command("wrong-secret", "status"))).status == 401
    stale = int(time.time()) - 6 * 60
    assert (await bot.post(sr.slash_command(SECRET, "status", timestamp=stale))).status == 401
    for garbage in ("yesterday", "", "1.5e9"):
        body, headers = sr.slash_command(SECRET, "status")
        response = await bot.post((body, headers | {"X-Slack-Request-Timestamp": garbage}))
        assert response.status == 401, garbage
    assert bot.slack.responses == [] and bot.slack.calls == []


async def test_signed_request_authorizes_lazily_with_auth_test(bot: Bot) -> None:
    assert bot.slack.calls == []  # nothing at start-up
    await bot.command("help")
    assert len(bot.slack.calls_to("auth.test")) >= 1
    assert bot.runtime.client.session is not None  # the one shared session


async def set_lead_url(bot: Bot, template: str) -> None:
    """The config's `lead_url`, as the team's settings hold it."""
    async with bot.service.db.transaction() as connection:
        settings = (await connection.execute(select(Team.settings))).scalar_one()
        await connection.execute(update(Team).values(settings={**settings, "lead_url": template}))


async def test_deliver_sends_the_dm_and_the_announcement(bot: Bot) -> None:
    await set_lead_url(bot, "https://crm.example.com/leads/{id}")
    outcome = await bot.service.assignment.route(dict(LEAD))
    owed = await bot.outbox()
    assert [kind for kind, _ in owed] == ["dm", "channel"]
    results = [await bot.runtime.deliver(kind, payload) for kind, payload in owed]
    dm, announcement = bot.slack.calls_to("chat.postMessage")
    assert outcome.assignee is not None
    assert dm.body["channel"] == outcome.assignee.slack_id
    assert results[0] == {"channel": f"D{outcome.assignee.slack_id}", "ts": dm.response["ts"]}
    text = str(dm.body["blocks"])
    for shown in ("L-50", "Jane Doe", "Acme Ltd", "jane@acme.co.uk", "GB", "web", "emea", "EMEA"):
        assert shown in text
    actions = next(b for b in dm.body["blocks"] if b["type"] == "actions")
    accept, passed, link = actions["elements"]
    assert (accept["action_id"], passed["action_id"]) == ("lead_accept", "lead_pass")
    assert accept["value"] == passed["value"] == f"{outcome.assignment_id}:L-50"
    assert link["url"] == "https://crm.example.com/leads/L-50"  # the team's template, not the lead's url
    assert announcement.body["channel"] == "C0EMEA"
    assert "L-50" in announcement.body["text"] and outcome.assignee.name in announcement.body["text"]
    assert results[1]["channel"] == "C0EMEA"


async def test_deliver_retries_a_rate_limit(bot: Bot) -> None:
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    result = await bot.runtime.deliver("channel", {"event": "managers_note", "channel": "C0MGR",
                                                   "text": "Lead L-1 needs a hand"})
    first, second = bot.slack.calls_to("chat.postMessage")
    assert (first.status, second.status) == (429, 200)
    assert result["ts"] == second.response["ts"]


async def test_deliver_raises_on_failure(bot: Bot) -> None:
    bot.slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(SlackApiError):
        await bot.runtime.deliver("dm", {"event": "managers_note", "to": "U0MANAGER1", "text": "hi"})


def test_render_is_pure_and_readable() -> None:
    payload = {"event": "lead_unassigned", "channel": "C0APAC", "queue": "apac",
               "lead": {"id": "L-9", "name": "Ko <Ltd>"}, "reason": "everyone is outside working hours"}
    message = render("channel", payload)
    waiting = "Lead L-9 — Ko &lt;Ltd&gt; in apac is waiting: everyone is outside working hours"
    assert (message["channel"], message["text"]) == ("C0APAC", waiting)
    assert message["blocks"][-1]["block_id"] == "reassign:L-9"  # the managers' buttons
    with pytest.raises(ValueError):
        render("webhook", payload)


async def test_no_token_means_no_runtime(slack: FakeSlack, service: RoutingService) -> None:
    assert SlackRuntime.from_settings(Settings(), service) is None
    runtime = SlackRuntime.from_settings(settings_for(slack, slack_app_token=None), service)
    assert runtime is not None
    await runtime.start()  # no app token: HTTP only, nothing to connect
    await runtime.close()
    await runtime.close()


async def test_no_token_unused_warning_when_slack_bot_token_is_set(
        slack: FakeSlack, service: RoutingService, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    # Bolt reads SLACK_BOT_TOKEN itself and would warn that our client's (same) token wins.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    runtime = SlackRuntime.from_settings(settings_for(slack), service)
    assert runtime is not None
    try:
        assert not [r for r in caplog.records if "will be unused" in r.getMessage()]
        runtime.app.logger.warning("other Bolt warnings still show")
        assert [r.getMessage() for r in caplog.records] == ["other Bolt warnings still show"]
    finally:
        await runtime.close()

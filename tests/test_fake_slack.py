"""Tests of the test doubles: FakeSlack and the signed-request builders.

They drive the fake with the real slack_sdk client and feed the builders'
output to the real SignatureVerifier and Bolt, so that the doubles other tests
rely on behave like Slack where it matters.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

try:  # works whether or not tests/ is a package
    from tests import slack_requests as sr
    from tests.fake_slack import FakeSlack
except ImportError:
    import slack_requests as sr  # type: ignore[no-redef]
    from fake_slack import FakeSlack  # type: ignore[no-redef]

SECRET = "test-signing-secret"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.api_url)


# -- FakeSlack ---------------------------------------------------------------


async def test_auth_test_answers_like_slack(slack: FakeSlack, client: AsyncWebClient) -> None:
    resp = await client.auth_test()
    assert resp["ok"] is True
    assert (resp["user_id"], resp["bot_id"], resp["team_id"]) == ("UBOT", "BBOT", "T0TEAM")
    assert resp["team"] == "Test Team" and resp["user"] == "rotation"
    assert resp["url"].startswith("https://")
    [call] = slack.calls_to("auth.test")
    assert call.token == "xoxb-test"
    assert slack.api_url.endswith("/api/")


async def test_post_message_is_recorded_with_its_json_body(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*L-1*"}}]
    first = await client.chat_postMessage(channel="U01ALICE", text="New lead L-1", blocks=blocks)
    second = await client.chat_postMessage(channel="C0EMEA", text="again")

    [call, _] = slack.calls_to("chat.postMessage")
    assert call.body == {"channel": "U01ALICE", "text": "New lead L-1", "blocks": blocks}
    assert call.headers["content-type"].startswith("application/json")
    assert call.headers["authorization"] == "Bearer xoxb-test"
    # Posting to a user ID lands in the DM, whose D-ID Slack returns.
    assert first["channel"] == "DU01ALICE"
    assert second["channel"] == "C0EMEA"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == blocks and first["message"]["bot_id"] == "BBOT"
    assert call.response["ts"] == first["ts"]


async def test_get_and_query_string_methods_are_recorded(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.set_user(
        "U01ALICE", real_name="Alice", status_text="Vacationing", status_emoji=":palm_tree:"
    )
    slack.set_usergroup("S0SALES", ["U01ALICE", "U02BOB"])

    user = (await client.users_info(user="U01ALICE"))["user"]
    assert user["real_name"] == "Alice" and user["tz"] == "America/New_York"
    assert user["profile"]["status_text"] == "Vacationing"
    assert user["profile"]["status_expiration"] == 0
    unknown = (await client.users_info(user="U09ZED"))["user"]
    assert unknown["id"] == "U09ZED" and unknown["profile"]["status_text"] == ""

    dm = await client.conversations_open(users=["U01ALICE"])
    assert dm["channel"]["id"] == "DU01ALICE"
    members = await client.usergroups_users_list(usergroup="S0SALES")
    assert members["users"] == ["U01ALICE", "U02BOB"]
    with pytest.raises(SlackApiError) as err:
        await client.usergroups_users_list(usergroup="S0NOPE")
    assert err.value.response["error"] == "no_such_subteam"

    # users.info is a GET: its arguments arrive as query parameters.
    assert slack.calls_to("users.info")[0].http_verb == "GET"
    assert slack.calls_to("users.info")[0].body == {"user": "U01ALICE"}
    assert slack.calls_to("conversations.open")[0].body == {"users": "U01ALICE"}


async def test_views_and_ephemeral(slack: FakeSlack, client: AsyncWebClient) -> None:
    view = {
        "type": "modal",
        "callback_id": "calibrate",
        "title": {"type": "plain_text", "text": "x"},
    }
    opened = await client.views_open(trigger_id="t", view=view)
    assert opened["view"]["id"].startswith("V") and opened["view"]["callback_id"] == "calibrate"
    updated = await client.views_update(view_id=opened["view"]["id"], view=view)
    assert updated["view"]["id"] == opened["view"]["id"]
    await client.views_publish(user_id="U01ALICE", view={"type": "home", "blocks": []})
    assert slack.home_views["U01ALICE"]["type"] == "home"
    eph = await client.chat_postEphemeral(channel="C1", user="U01ALICE", text="psst")
    assert eph["message_ts"]
    assert (await client.api_call("reactions.add", json={"name": "x"}))["ok"] is True


async def test_a_call_without_a_token_is_not_authed(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        await AsyncWebClient(base_url=slack.api_url).chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "not_authed"


async def test_a_queued_429_is_retried_after_retry_after(
    slack: FakeSlack, client: AsyncWebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The handler sleeps Retry-After plus random() seconds; pin the jitter at 0.
    monkeypatch.setattr(builtin_async_handlers.random, "random", lambda: 0.0)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    slack.fail_next("chat.postMessage", status=429, retry_after=1)

    started = time.monotonic()
    resp = await client.chat_postMessage(channel="C1", text="hi")
    elapsed = time.monotonic() - started

    assert resp["ok"] is True
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]
    assert elapsed >= 1.0


async def test_a_429_carries_retry_after_and_ratelimited(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=7)
    async with aiohttp.ClientSession() as http:
        url = slack.api_url + "chat.postMessage"
        headers = {"Authorization": "Bearer x"}
        async with http.post(url, json={"channel": "C1"}, headers=headers) as resp:
            assert resp.status == 429
            assert resp.headers["Retry-After"] == "7"
            assert await resp.json() == {"ok": False, "error": "ratelimited"}
        async with http.post(url, json={"channel": "C1"}, headers=headers) as resp:
            assert resp.status == 200  # each fault is used once


async def test_a_queued_500_raises_without_a_retry_handler(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
    slack.fail_next("chat.postMessage", status=500)
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 500
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"] is True


async def test_a_logical_error_is_an_ok_false_200(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C404", text="hi")
    assert err.value.response.status_code == 200
    assert err.value.response["error"] == "channel_not_found"


async def test_wait_for_sees_background_calls_and_explains_timeouts(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    task = asyncio.create_task(client.chat_postMessage(channel="C1", text="later"))
    [call] = await slack.wait_for("chat.postMessage")
    assert call.body["text"] == "later"
    await task
    with pytest.raises(AssertionError, match=r"2 call\(s\) to chat.postMessage, got 1"):
        await slack.wait_for("chat.postMessage", count=2, timeout=0.05)
    slack.clear()
    assert slack.calls == []


async def test_response_url_posts_are_recorded(slack: FakeSlack) -> None:
    url = slack.response_url("r7")
    assert url == f"http://127.0.0.1:{slack.port}/response/r7"
    async with aiohttp.ClientSession() as http, http.post(url, json={"text": "done"}) as resp:
        assert resp.status == 200
    assert slack.responses == [{"text": "done"}]
    assert slack.responses_by_name["r7"] == [{"text": "done"}]


# -- signed requests -----------------------------------------------------------


def _verifies(body: str, headers: dict[str, str], secret: str = SECRET) -> bool:
    return SignatureVerifier(secret).is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )


def _payload(body: str) -> dict[str, Any]:
    return json.loads(parse_qs(body)["payload"][0])


def test_every_builder_signs_like_slack() -> None:
    built = [
        sr.slash_command(SECRET, "status"),
        sr.block_action(SECRET, "accept", "L-1"),
        sr.view_submission(SECRET, "calibrate", {"b": {"a": "x"}}),
        sr.event_callback(SECRET, {"type": "app_home_opened", "user": "U01ALICE"}),
        sr.url_verification(SECRET),
    ]
    for body, headers in built:
        assert headers["X-Slack-Signature"].startswith("v0=")
        assert _verifies(body, headers)
        assert not _verifies(body, headers, secret="wrong")
        assert not _verifies(body + " ", headers)
    assert sr.sign(SECRET, b"raw", timestamp=1) == sr.sign(SECRET, "raw", timestamp="1")


def test_an_old_timestamp_fails_verification() -> None:
    body, headers = sr.slash_command(SECRET, "status", timestamp=int(time.time()) - 301)
    assert not _verifies(body, headers)


def test_payload_shapes() -> None:
    body, headers = sr.slash_command(SECRET, "calibrate <@U02BOB|bob>", response_url="http://r")
    form = {k: v[0] for k, v in parse_qs(body).items()}
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form["command"] == "/rotation" and form["text"] == "calibrate <@U02BOB|bob>"
    assert form["user_id"] == "U01ALICE" and form["response_url"] == "http://r"
    assert {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_name",
        "api_app_id",
        "trigger_id",
    } <= form.keys()

    msg = {"ts": "1700000000.000200", "text": "lead"}
    action = _payload(sr.block_action(SECRET, "accept", "L-1", message=msg, channel_id="D1")[0])
    assert action["type"] == "block_actions" and action["actions"][0]["value"] == "L-1"
    assert action["container"] == {
        "type": "message",
        "message_ts": msg["ts"],
        "channel_id": "D1",
        "is_ephemeral": False,
    }
    assert action["message"] == msg and action["channel"]["id"] == "D1"
    in_view = _payload(sr.block_action(SECRET, "pick", None, view={"id": "V9"})[0])
    assert in_view["container"] == {"type": "view", "view_id": "V9"} and "channel" not in in_view

    values = {
        "dates": {"start": sr.datepicker("2025-01-02")},
        "who": {"member": sr.users_select("U02BOB")},
        "why": {"reason": "PTO"},
    }
    sub = _payload(sr.view_submission(SECRET, "away", values, private_metadata="m")[0])
    state = sub["view"]["state"]["values"]
    assert state["dates"]["start"]["selected_date"] == "2025-01-02"
    assert state["why"]["reason"] == {"type": "plain_text_input", "value": "PTO"}
    assert sub["view"]["callback_id"] == "away" and sub["view"]["private_metadata"] == "m"

    body, headers = sr.event_callback(SECRET, {"type": "user_change"}, event_id="Ev9", retry_num=1)
    envelope = json.loads(body)
    assert envelope["type"] == "event_callback" and envelope["event_id"] == "Ev9"
    assert headers["X-Slack-Retry-Num"] == "1"
    assert headers["X-Slack-Retry-Reason"] == "http_timeout"


async def test_bolt_routes_the_built_requests(slack: FakeSlack, client: AsyncWebClient) -> None:
    """The strongest shape check: real Bolt dispatches each payload to its listener."""
    app = AsyncApp(client=client, signing_secret=SECRET, process_before_response=True)
    seen: list[str] = []

    @app.command("/rotation")
    async def command(ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack()
        seen.append("command:" + command["text"])
        await respond("ok")

    @app.action("accept")
    async def accept(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen.append("action:" + body["actions"][0]["value"])

    @app.view("calibrate")
    async def calibrate(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        seen.append("view:" + view["state"]["values"]["b"]["a"]["value"])

    @app.event("user_change")
    async def user_change(event: dict[str, Any]) -> None:
        seen.append("event:" + event["user"]["profile"]["status_text"])

    requests = [
        sr.slash_command(SECRET, "status", response_url=slack.response_url()),
        sr.block_action(SECRET, "accept", "L-1"),
        sr.view_submission(SECRET, "calibrate", {"b": {"a": "x"}}),
        sr.event_callback(SECRET, sr.user_change_event("U01ALICE", status_text="OOO")),
    ]
    for body, headers in requests:
        response = await app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
        assert response.status == 200, response.body

    assert seen == ["command:status", "action:L-1", "view:x", "event:OOO"]
    assert slack.responses[0]["text"] == "ok"
    assert len(slack.calls_to("auth.test")) == 1

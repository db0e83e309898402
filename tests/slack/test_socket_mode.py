"""Socket Mode: the real runtime connects to FakeSlack's websocket and answers envelopes.

Why: with SLACK_APP_TOKEN set, Slack reaches the bot only over the socket, so the HTTP
tests prove nothing about it. These connect the real `SlackRuntime` (Bolt's
AsyncSocketModeHandler, slack_sdk's aiohttp client) and push envelopes as Slack does.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from slack_harness import FakeSlack, settings_for, sr

from bot.config.settings import Settings
from bot.routing.service import RoutingService
from bot.slack.runtime import SlackAppTokenRefused, SlackRuntime
from bot.web.server import serve

APP_TOKEN = "xapp-1-A0ROTATION-1234-abcdef"
_envelope_ids = itertools.count(1)


def slash_command_envelope(text: str, response_url: str) -> dict[str, Any]:
    """`/rotation text` from U01ALICE as Slack sends it over the socket: the HTTP form's fields, as JSON."""
    body, _headers = sr.slash_command("unused-in-socket-mode", text, response_url=response_url)
    return {"envelope_id": f"env-{next(_envelope_ids)}", "type": "slash_commands",
            "accepts_response_payload": True, "payload": dict(parse_qsl(body))}


@pytest.fixture
async def runtime(slack: FakeSlack, service: RoutingService) -> AsyncIterator[SlackRuntime]:
    # No signing secret: in Socket Mode nothing is signed, and none is needed.
    settings = settings_for(slack, slack_app_token=APP_TOKEN, slack_signing_secret=None)
    runtime = SlackRuntime.from_settings(settings, service)
    assert runtime is not None
    handler = None
    try:
        # bounded: slack_sdk retries a refused or failed connection forever
        await asyncio.wait_for(runtime.start(), timeout=5)
        handler = runtime._socket
        await slack.wait_for_socket_open()
        yield runtime
    finally:
        await runtime.close()
        # A socket client left open keeps reconnecting and hangs the event loop's
        # shutdown, so a close() that leaks it must fail a test, not hang the suite.
        if handler is not None and not handler.client.closed:
            await handler.close_async()


async def command(slack: FakeSlack, text: str) -> str:
    """Send `/rotation text` as U01ALICE over the socket; once acked, return the ephemeral answer."""
    before = len(slack.responses)
    envelope = slash_command_envelope(text, slack.response_url("socket"))
    await slack.socket_send(envelope)
    await slack.wait_for_ack(envelope["envelope_id"])
    answer = (await slack.wait_for_responses(before + 1))[before]
    assert answer.get("response_type") == "ephemeral", answer
    return str(answer["text"])


async def test_start_opens_one_socket_with_the_app_token(slack: FakeSlack, runtime: SlackRuntime) -> None:
    await runtime.start()  # a second start keeps the connection it has
    [opened] = slack.calls_to("apps.connections.open")
    assert opened.token == APP_TOKEN
    assert slack.sockets_open == 1
    assert slack.sockets_closed == 0


async def test_status_is_acked_over_the_socket_and_answered_on_response_url(
        slack: FakeSlack, runtime: SlackRuntime) -> None:
    envelope = slash_command_envelope("status", slack.response_url("socket"))
    await slack.socket_send(envelope)
    # An empty ack with the envelope's id; the answer follows on the response URL.
    assert await slack.wait_for_ack(envelope["envelope_id"]) == {"envelope_id": envelope["envelope_id"]}
    [answer] = await slack.wait_for_responses()
    assert slack.responses_by_name["socket"] == [answer]
    assert answer["response_type"] == "ephemeral"
    assert "Alice Moreau" in answer["text"] and "*active*" in answer["text"]
    # Web API calls made on the way use the bot token; only the socket uses the app token.
    others = [c for c in slack.calls if c.method != "apps.connections.open"]
    assert others and all(c.token == "xoxb-test" for c in others), [(c.method, c.token) for c in others]


async def test_each_envelope_gets_its_own_ack(slack: FakeSlack, runtime: SlackRuntime) -> None:
    first = slash_command_envelope("help", slack.response_url("first"))
    second = slash_command_envelope("help", slack.response_url("second"))
    await slack.socket_send(first)
    await slack.socket_send(second)
    await slack.wait_for_ack(first["envelope_id"])
    await slack.wait_for_ack(second["envelope_id"])
    await slack.wait_for_responses(2)
    assert len(slack.responses_by_name["first"]) == len(slack.responses_by_name["second"]) == 1
    acked = sorted(frame["envelope_id"] for frame in slack.socket_messages)
    assert acked == sorted([first["envelope_id"], second["envelope_id"]])  # once each


async def test_pause_over_the_socket_pauses_the_member(slack: FakeSlack, runtime: SlackRuntime) -> None:
    assert (await runtime.service.availability.member_status("U01ALICE")).state == "active"
    answer = await command(slack, "pause")
    assert "paused" in answer, answer
    assert (await runtime.service.availability.member_status("U01ALICE")).state == "paused"
    answer = await command(slack, "resume")
    assert "back in the rotation" in answer, answer
    assert (await runtime.service.availability.member_status("U01ALICE")).state == "active"


async def test_close_disconnects_the_socket(slack: FakeSlack, runtime: SlackRuntime) -> None:
    assert slack.sockets_open == 1 and runtime._socket is not None
    socket_client = runtime._socket.client  # slack_sdk's; closed, it will not reconnect
    await runtime.close()
    await slack.wait_for_socket_closed()
    assert slack.sockets_open == 0
    assert socket_client.closed
    assert runtime.client.session is not None and runtime.client.session.closed
    await runtime.close()  # safe twice


# -- starting when Slack says no, or is out of reach ------------------------------------

async def test_a_refused_app_token_fails_start_in_plain_words(slack: FakeSlack,
                                                               service: RoutingService) -> None:
    settings = settings_for(slack, slack_app_token="xoxb-a-bot-token-by-mistake", slack_signing_secret=None)
    runtime = SlackRuntime.from_settings(settings, service)
    assert runtime is not None
    try:
        with pytest.raises(SlackAppTokenRefused) as refused:
            await asyncio.wait_for(runtime.start(), timeout=5)
        assert "SLACK_APP_TOKEN" in str(refused.value) and "not_allowed_token_type" in str(refused.value)
        assert "xapp-" in str(refused.value)
        assert len(slack.calls_to("apps.connections.open")) == 1  # asked once, not retried
        assert slack.sockets_open == 0
    finally:
        await runtime.close()


@pytest.mark.parametrize("status, error", [(503, None), (200, "internal_error")])
async def test_slack_down_at_start_is_retried_in_the_background(slack: FakeSlack, service: RoutingService,
                                                                status: int, error: str | None) -> None:
    for _ in range(2):  # the first ask and (for a 5xx) slack_sdk's one quick retry
        slack.fail_next("apps.connections.open", status=status, error=error)
    runtime = SlackRuntime.from_settings(settings_for(slack, slack_app_token=APP_TOKEN,
                                                      slack_signing_secret=None), service)
    assert runtime is not None
    runtime.socket_ping_interval = 0.2
    try:
        await asyncio.wait_for(runtime.start(), timeout=5)  # returns although no socket is open
        await slack.wait_for_socket_open()  # the background task got a ticket once Slack recovered
        assert len(slack.calls_to("apps.connections.open")) >= 2
        answer = await command(slack, "help")
        assert "/rotation" in answer
    finally:
        await runtime.close()
    assert slack.sockets_open == 0


def unreachable_api_url() -> str:
    """A Web API URL on a port nobody listens on: Slack out of reach."""
    with socket.socket() as closed_port:
        closed_port.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{closed_port.getsockname()[1]}/api/"


async def test_close_while_still_connecting_stops_trying(service: RoutingService) -> None:
    nowhere = unreachable_api_url()
    runtime = SlackRuntime.from_settings(Settings(slack_bot_token="xoxb-test", slack_app_token=APP_TOKEN,
                                                  slack_api_url=nowhere), service)
    assert runtime is not None
    await asyncio.wait_for(runtime.start(), timeout=5)
    connecting = runtime._connecting
    assert connecting is not None and not connecting.done()
    await asyncio.wait_for(runtime.close(), timeout=5)
    assert connecting.done()


def serve_settings(tmp_path: Path, slack_api_url: str, app_token: str) -> Settings:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'rotation.db'}", host="127.0.0.1",
                    port=port, slack_bot_token="xoxb-test", slack_app_token=app_token,
                    slack_api_url=slack_api_url, delivery="inline")


async def test_serve_with_a_refused_app_token_exits_1(slack: FakeSlack, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    settings = serve_settings(tmp_path, slack.api_url, "xoxb-a-bot-token-by-mistake")
    assert await asyncio.wait_for(serve(settings), timeout=30) == 1
    assert any("Slack refused SLACK_APP_TOKEN" in record.getMessage() for record in caplog.records)


async def test_serve_answers_http_while_slack_is_out_of_reach(tmp_path: Path) -> None:
    nowhere = unreachable_api_url()
    settings = serve_settings(tmp_path, nowhere, APP_TOKEN)
    stop, started = asyncio.Event(), asyncio.Event()
    serving = asyncio.create_task(serve(settings, stop=stop, started=started))
    await asyncio.wait_for(started.wait(), timeout=30)
    health_url = f"http://127.0.0.1:{settings.port}/healthz"
    async with aiohttp.ClientSession() as http, http.get(health_url) as health:
        assert health.status == 200
    stop.set()
    assert await asyncio.wait_for(serving, timeout=30) == 0

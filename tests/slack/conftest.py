"""Fixtures for the Slack layer's tests (the harness itself is in slack_harness.py).

Why a separate harness module: tests import `Bot` and the constants by name, and a module
called `conftest` is ambiguous when tests/ and tests/slack/ both have one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_harness import EXAMPLE, Bot, FakeSlack, settings_for

from bot.config.routing import load_file
from bot.routing.service import RoutingService
from bot.slack.runtime import SlackRuntime
from bot.store.db import Database


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[RoutingService]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'rotation.db'}")
    await db.migrate()
    routing = RoutingService(db)
    await routing.apply_config(load_file(EXAMPLE))
    yield routing
    await db.dispose()


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    """Extra Settings for the bot; override with `@pytest.mark.parametrize("bot_settings", ...)`."""
    return {}


@pytest.fixture
async def bot(slack: FakeSlack, service: RoutingService, bot_settings: dict[str, Any]) -> AsyncIterator[Bot]:
    runtime = SlackRuntime.from_settings(settings_for(slack, **bot_settings), service)
    assert runtime is not None
    app = web.Application()
    app.router.add_post("/slack/events", runtime.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    http = aiohttp.ClientSession()
    try:
        yield Bot(slack, service, runtime, str(server.make_url("/slack/events")), http)
    finally:
        await http.close()
        await server.close()
        await runtime.close()

"""Fixtures for the Slack layer's tests (the harness itself is in slack_harness.py).

Why a separate harness module: tests import `Bot` and the constants by name, and a module
called `conftest` is ambiguous when tests/ and tests/slack/ both have one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from slack_harness import EXAMPLE, Bot, FakeSlack, example_bot, running_bot

from bot.config.routing import load_file
from bot.routing.service import RoutingService
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
    await routing.admin.apply_config(load_file(EXAMPLE))
    yield routing
    await db.dispose()


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    """Extra Settings for the bot; override with `@pytest.mark.parametrize("bot_settings", ...)`."""
    return {}


@pytest.fixture
async def bot(slack: FakeSlack, service: RoutingService, bot_settings: dict[str, Any]) -> AsyncIterator[Bot]:
    async with running_bot(slack, service, **bot_settings) as running:
        yield running


@pytest.fixture
async def backend_bot(slack: FakeSlack, database_url: str) -> AsyncIterator[Bot]:
    """The bot on SQLite and on a real PostgreSQL (`database_url`), loaded with the example team."""
    async with example_bot(slack, database_url) as running:
        yield running

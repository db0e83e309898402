"""Fixtures for tests/delivery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from delivery_support import FakeSlack


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'rotation.db'}"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        yield slack

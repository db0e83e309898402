"""`rotation sources`, `rotation sources parked [NAME]`, `rotation sources replay ID…|--all`,
as a user types them (click's runner, a real SQLite file)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sources_support import SOURCES, TOKEN, apply_sources

from bot.cli import main
from bot.routing.service import RoutingService
from bot.sources.config import SourceConfig
from bot.sources.intake import SourceIntake
from bot.sources.kind import RawRequest
from bot.store.db import Database


def prepare(url: str, bodies: list[dict[str, object]], sources: list[dict[str, object]] = SOURCES) -> None:
    """A database with SOURCES applied and `bodies` sent to the `feed` source."""

    async def run() -> None:
        db = Database(url)
        await db.migrate()
        service = RoutingService(db)
        await apply_sources(service, sources)
        feed = SourceConfig(name="feed", kind="json")
        for body in bodies:
            request = RawRequest("POST", {"Authorization": f"Bearer {TOKEN}"}, json.dumps(body).encode())
            await SourceIntake(service).receive(feed, request, TOKEN, "application/json")
        await db.dispose()

    asyncio.run(run())


@pytest.fixture
def rotation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return str(result.output)

    run.url = url  # type: ignore[attr-defined]
    return run


def test_sources_lists_each_source_with_its_address_and_counts(rotation) -> None:  # type: ignore[no-untyped-def]
    prepare(rotation.url, [{"id": "C-1"}, {"id": "C-2"}, {"name": "no id"}])
    output = rotation("sources")
    line = next(line for line in output.splitlines() if line.startswith("feed "))
    assert "POST /sources/feed" in line
    assert line.split()[-3:] == ["2", "1", "0"]  # leads, parked, replayed
    assert "POST /sources/salesforce" in output


def test_parked_shows_why_and_what_then_replay_routes_it(rotation) -> None:  # type: ignore[no-untyped-def]
    prepare(rotation.url, [{"name": "no id", "ref": "P-9"}, {"nothing": True}])
    listed = rotation("sources", "parked", "feed")
    assert "#1  feed (json)" in listed and "why: no `id`" in listed and '"ref": "P-9"' in listed
    assert "2 parked" in listed
    assert "Nothing is parked for typeform." in rotation("sources", "parked", "typeform")
    still = rotation("sources", "replay", "1", code=1)
    assert "#1 (feed): still parked: no `id`" in still
    fixed = [s if s["name"] != "feed" else {**s, "fields": {"id": "ref"}} for s in SOURCES]
    prepare(rotation.url, [], fixed)
    replayed = rotation("sources", "replay", "--all", code=1)  # #2 has no ref either
    assert "#1 (feed): routed as lead P-9" in replayed
    assert "#2 (feed): still parked" in replayed
    assert "#1" not in rotation("sources", "parked")
    assert "#9: no parked request has this id" in rotation("sources", "replay", "9", code=1)


def test_replay_needs_ids_or_all(rotation) -> None:  # type: ignore[no-untyped-def]
    prepare(rotation.url, [])
    assert "Give the ids" in rotation("sources", "replay", code=2)
    assert "Nothing is parked." in rotation("sources", "replay", "--all")

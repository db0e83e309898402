"""bot.web.server.serve in-process: start, answer, stop cleanly; refuse a taken port."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
from pathlib import Path

import aiohttp
import pytest
from web_support import AUTH, CONFIG, TOKEN, free_port

from bot.config.settings import Settings
from bot.routing.results import Calibration
from bot.routing.service import RoutingService
from bot.store.db import Database
from bot.web.server import serve


def settings_for(tmp_path: Path, port: int) -> Settings:
    config = tmp_path / "routing.yaml"
    config.write_text(CONFIG)
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'rotation.db'}",
                    routing_config=str(config), intake_token=TOKEN, host="127.0.0.1", port=port)


async def start_and_stop(settings: Settings) -> None:
    """Serve until started, then stop; it must end with 0."""
    stop, started = asyncio.Event(), asyncio.Event()
    serving = asyncio.create_task(serve(settings, stop=stop, started=started))
    await asyncio.wait_for(started.wait(), 30)
    stop.set()
    assert await asyncio.wait_for(serving, 30) == 0


async def test_serve_answers_until_stopped_then_returns_0(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stop, started = asyncio.Event(), asyncio.Event()
    serving = asyncio.create_task(serve(settings_for(tmp_path, port), stop=stop, started=started))
    await asyncio.wait_for(started.wait(), 30)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"http://127.0.0.1:{port}/leads", json={"id": "S-1"}, headers=AUTH) as response:
            assert response.status == 201
        async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert "rotation_leads_received_total" in await response.text()
    stop.set()
    assert await asyncio.wait_for(serving, 30) == 0


async def test_serve_returns_1_when_the_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code = await asyncio.wait_for(serve(settings_for(tmp_path, taken.getsockname()[1])), 30)
    assert code == 1


async def test_serve_warns_when_no_routing_config_was_ever_applied(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bare = dataclasses.replace(settings_for(tmp_path, port), routing_config=None)
    for settings, warned in ((bare, True), (settings_for(tmp_path, port), False), (bare, False)):
        caplog.clear()
        await start_and_stop(settings)
        said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert any("ROTATION_CONFIG" in line for line in said) is warned  # the third: applied before


async def test_a_restart_keeps_calibrations_and_a_changed_config_says_what_it_set_back(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = settings_for(tmp_path, port)
    caplog.set_level(logging.INFO)

    async def restart() -> list[str]:
        caplog.clear()
        await start_and_stop(settings)
        return [r.getMessage() for r in caplog.records if r.levelname in ("INFO", "WARNING")]

    await restart()
    service = RoutingService(Database(settings.database_url))
    try:
        seat = (await service.admin.export_config())["queues"][0]["members"][0]["slack_id"]
        await service.admin.calibrate(Calibration(queue="emea", slack_id=seat, active=False),
                                      actor="U0MANAGER")
        calibrated = await service.admin.export_config()

        said = await restart()  # a deploy: the same ROTATION_CONFIG
        assert any("says what was last applied" in line for line in said)
        assert await service.admin.export_config() == calibrated

        edited = CONFIG.replace("timezone: UTC", "timezone: Europe/Paris")
        Path(settings.routing_config or "").write_text(edited)
        said = await restart()  # someone edited the file: it wins, and serve says what it set back
        assert any("set back 1 calibration made in Slack" in line for line in said)
        assert await service.admin.export_config() != calibrated
    finally:
        await service.db.dispose()


async def test_serve_says_so_in_words_when_the_database_cannot_be_reached(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # nobody listens here once the socket is closed
    settings = dataclasses.replace(settings_for(tmp_path, closed),
                                   database_url=f"postgresql+asyncpg://rotation:secret@127.0.0.1:{closed}/x")
    assert await asyncio.wait_for(serve(settings), 30) == 1
    [said] = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert said.startswith(f"cannot use the database at postgresql+asyncpg://rotation:***@127.0.0.1:{closed}/x")
    assert "secret" not in said and not any(r.exc_info for r in caplog.records)  # no traceback


async def test_serve_warns_at_start_that_intake_is_switched_off(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_for(tmp_path, free_port())
    for token, warned in ((None, True), (TOKEN, False)):
        caplog.clear()
        await start_and_stop(dataclasses.replace(settings, intake_token=token))
        said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert any(line.startswith("lead intake is switched off: ROTATION_INTAKE_TOKEN is not set, so POST "
                                   "/leads and GET /leads/{id} answer 503") for line in said) is warned


THIRDS_WITHOUT_CATCH_ALL = """
members:
  - {slack_id: U01A, name: A}
  - {slack_id: U01B, name: B}
  - {slack_id: U01C, name: C}
queues:
  - name: thirds
    members: [{slack_id: U01A, share: 33.3%}, {slack_id: U01B, share: 33.3%}, {slack_id: U01C, share: 33.3%}]
rules:
  - {name: Germany, when: {field: country, op: equals, value: DE}, queue: thirds}
"""


async def test_serve_logs_the_configs_warnings_and_notes_and_names_its_database(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(tmp_path, free_port())
    config = Path(settings.routing_config or "")
    config.write_text(THIRDS_WITHOUT_CATCH_ALL)
    await start_and_stop(settings)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    about_config = [line for line in warned if line.startswith(f"ROTATION_CONFIG {config}:")]
    assert any(": warning: no catch-all rule" in line for line in about_config), warned
    assert any(": note: " in line and "within rounding of 100%" in line for line in about_config), warned
    said = [r.getMessage() for r in caplog.records if r.levelname == "INFO"]
    assert f"database: sqlite+aiosqlite:///{tmp_path / 'rotation.db'}" in said


async def test_serve_says_a_config_with_no_rules_has_no_rules(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_for(tmp_path, free_port())
    Path(settings.routing_config or "").write_text(CONFIG.split("rules:")[0])
    await start_and_stop(settings)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("the routing config in the database has no rules" in line for line in warned), warned
    assert not any("no routing config has been applied" in line for line in warned)  # it was: untrue

"""`rotation serve` writes owners back: a lead POSTed, its owner PATCHed to the fake HubSpot by
the delivery process; a write owed when serve stops goes out after the next start."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from crm_support import FakeHubSpot, config_text

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "intake-secret"
CRM = "{kind: hubspot, object: contacts, record_id_field: hubspot_id}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Serve:
    def __init__(self, tmp: Path, crm_url: str, token: str, delivery: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = tmp / "routing.yaml"
        config.write_text(config_text(CRM))
        self.log = tmp / "serve.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ROTATION_"))} | {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'rotation.db'}", "ROTATION_CONFIG": str(config),
            "ROTATION_INTAKE_TOKEN": TOKEN, "HOST": "127.0.0.1", "PORT": str(self.port),
            "PYTHONPATH": str(ROOT), "ROTATION_DELIVERY": delivery,
            "HUBSPOT_TOKEN": token, "HUBSPOT_API_URL": crm_url}
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT)
        async with aiohttp.ClientSession() as http:
            for _ in range(400):
                assert self.process.poll() is None, self.log.read_text()
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"serve did not start:\n{self.log.read_text()}")

    async def lead(self, lead_id: str, **fields: str) -> None:
        async with aiohttp.ClientSession() as http, http.post(
                f"{self.url}/leads", json={"id": lead_id, **fields},
                headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            assert response.status == 201, await response.text()

    async def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        for _ in range(600):
            if self.process.poll() is not None:
                assert self.process.returncode == 0, self.log.read_text()
                return
            await asyncio.sleep(0.05)
        self.process.kill()
        raise AssertionError(f"serve did not stop:\n{self.log.read_text()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
async def hubspot() -> AsyncIterator[FakeHubSpot]:
    async with FakeHubSpot() as fake:
        fake.add_owner("alice@example.com", owner_id="101", user_id=9001)
        fake.add_owner("bob@example.com", owner_id="202", user_id=9002)
        fake.add_record("contacts", "501")
        fake.add_record("contacts", "502")
        yield fake


@pytest.mark.parametrize("delivery", ["process", "inline"])
async def test_serve_sets_the_owner_of_each_new_lead(
        tmp_path: Path, hubspot: FakeHubSpot, delivery: str) -> None:
    serve = Serve(tmp_path, hubspot.url, hubspot.token, delivery)
    try:
        await serve.start()
        await serve.lead("L-1", hubspot_id="501")
        await serve.lead("L-2", hubspot_id="502")
        await hubspot.wait_for("update", 2)
        assert (hubspot.owner_of("contacts", "501"), hubspot.owner_of("contacts", "502")) == ("101", "202")
        await serve.stop()
    finally:
        serve.kill()


async def test_a_write_owed_when_serve_stops_goes_out_after_it_starts_again(
        tmp_path: Path, hubspot: FakeHubSpot) -> None:
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens: HubSpot unreachable
    serve = Serve(tmp_path, down, hubspot.token, "process")
    try:
        await serve.start()
        await serve.lead("L-1", hubspot_id="501")
        for _ in range(400):  # its first attempt has failed
            if "HubSpot could not be reached" in serve.log.read_text():
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(serve.log.read_text())
        await serve.stop()
        assert hubspot.calls == []
        serve.env["HUBSPOT_API_URL"] = hubspot.url  # HubSpot is back
        await serve.start()
        await hubspot.wait_for("update", 1, timeout=30)
        assert hubspot.owner_of("contacts", "501") == "101"
        await serve.stop()
    finally:
        serve.kill()

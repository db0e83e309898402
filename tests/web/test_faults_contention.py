"""Attack: a queue's row lock held by a stuck transaction while leads keep arriving.

The lead must not wait forever, nor get a 500: it answers 503 with Retry-After (try again),
stores nothing, and goes through once the lock is gone.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from web_support import ServeFactory

from bot.routing import service as service_module


async def test_a_lead_behind_a_stuck_lock_answers_503_then_goes_through(
    serve: ServeFactory, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "LOCK_TIMEOUT", "300ms")
    served = await serve(url=postgres_url)
    async with served.db.engine.connect() as stuck:
        await stuck.begin()
        await stuck.execute(text("SELECT id FROM queues WHERE name = 'emea' FOR UPDATE"))
        async with served.http.post(f"{served.url}/leads", json={"id": "L-STUCK"},
                                    headers={"Authorization": "Bearer test-intake-token"}) as answer:
            body = await answer.json()
            assert answer.status == 503, body
            assert answer.headers.get("Retry-After", "").isdigit()
            assert "try again" in body["error"].lower() or "again" in body["error"].lower()
        await stuck.rollback()
    assert (await served.counts())["leads"] == 0
    status, body = await served.post_lead({"id": "L-STUCK"})
    assert status == 201 and body["status"] == "assigned"


async def test_a_lock_on_the_health_probes_row_is_busy_not_broken(
    serve: ServeFactory, postgres_url: str
) -> None:
    """Attack (found from outside): a transaction holding `alembic_version` (a migration in
    a rolling deploy) turned /healthz 503 on every replica while leads still committed."""
    served = await serve(url=postgres_url)
    async with served.http.get(f"{served.url}/healthz") as first:
        assert first.status == 200
    async with served.db.engine.connect() as holder:
        await holder.begin()
        await holder.execute(text("SELECT version_num FROM alembic_version FOR UPDATE"))
        served.db._writes_seen = (-1e9, True)  # the last probe is stale: /healthz probes again now
        async with served.http.get(f"{served.url}/healthz") as during:
            assert during.status == 200  # the probe is still waiting for the row: the last answer
        await asyncio.sleep(2.5)  # the probe's 2 s lock_timeout has passed: its answer is fresh now
        async with served.http.get(f"{served.url}/healthz") as after:
            assert after.status == 200, await after.text()
        status, _ = await served.post_lead({"id": "L-WHILE-LOCKED"})
        assert status == 201
        await holder.rollback()

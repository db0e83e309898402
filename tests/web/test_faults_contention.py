"""Attack: a queue's row lock held by a stuck transaction while leads keep arriving.

The lead must not wait forever, nor get a 500: it answers 503 with Retry-After (try again),
stores nothing, and goes through once the lock is gone.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from web_support import ServeFactory

from bot.routing import transactions


async def test_a_lead_behind_a_stuck_lock_answers_503_then_goes_through(
    serve: ServeFactory, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transactions, "LOCK_TIMEOUT", "300ms")
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


async def test_a_locked_queue_does_not_hold_up_leads_for_other_queues(
    serve: ServeFactory, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack (found from outside): with one queue's row locked, leads for other queues waited
    behind it (one routing worker per replica), and a backlog's 503s came 5 s apart."""
    monkeypatch.setattr(transactions, "LOCK_TIMEOUT", "30s")
    served = await serve(url=postgres_url)
    async with served.db.engine.connect() as stuck:
        await stuck.begin()
        await stuck.execute(text("SELECT id FROM queues WHERE name = 'emea' FOR UPDATE"))
        blocked = asyncio.create_task(served.post_lead({"id": "L-EMEA"}))
        await asyncio.sleep(0.3)  # its transaction now waits for the lock
        others = [served.post_lead({"id": f"L-QUIET-{i}", "country": "XX"}) for i in range(3)]
        answers = await asyncio.wait_for(asyncio.gather(*others), timeout=10)
        assert [status for status, _ in answers] == [201, 201, 201]
        assert {body["queue"] for _, body in answers} == {"quiet"}
        assert not blocked.done()
        await stuck.rollback()
    status, body = await blocked
    assert status == 201 and body["queue"] == "emea"

"""Attack: a queue's row lock held by a stuck transaction while leads keep arriving.

The lead must not wait forever, nor get a 500: it answers 503 with Retry-After (try again),
stores nothing, and goes through once the lock is gone.
"""

from __future__ import annotations

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

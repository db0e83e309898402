"""Write-back to Pipedrive: persons' owner_id, deals' user_id, users found by email, the API
token in the query, 429 with Retry-After or x-ratelimit-reset."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from crm_support import FakePipedrive, Team, config_text, crm_rows

from bot.config.settings import Settings

PERSONS = "{kind: pipedrive, object: persons, record_id_field: person_id}"
DEALS = "{kind: pipedrive, object: deals, record_id_field: deal_id}"


@pytest.fixture
async def pipedrive() -> AsyncIterator[FakePipedrive]:
    async with FakePipedrive() as fake:
        fake.add_user("alice@example.com", 11)
        fake.add_user("bob@example.com", 12)
        fake.add_user("bob@example.com.old", 99, active=False)
        for record in ("71", "72", "73"):
            fake.add_record("persons", record)
            fake.add_record("deals", record)
        yield fake


def settings_for(fake: FakePipedrive, token: str | None = None) -> Settings:
    return Settings(pipedrive_api_token=token or fake.api_token, pipedrive_api_url=fake.url)


async def test_a_persons_owner_is_set_and_users_are_found_by_email(
        database_url: str, pipedrive: FakePipedrive) -> None:
    team = await Team(database_url, config_text(PERSONS),
                      settings_for(pipedrive)).start()
    try:
        await team.route("L-1", person_id=71)
        await team.route("L-2", person_id="72")
        await team.deliver()
        # the two leads' writes are sent side by side, in either order
        by_path = {c.path: c for c in pipedrive.calls_to("update")}
        first, second = by_path["/api/v1/persons/71"], by_path["/api/v1/persons/72"]
        assert len(by_path) == 2
        assert (first.verb, first.body) == ("PUT", {"owner_id": 11})
        assert first.query == {"api_token": pipedrive.api_token}
        assert second.body == {"owner_id": 12}
        assert pipedrive.owner_of("persons", "72") == 12
        [find] = [c for c in pipedrive.calls_to("users_find") if c.query["term"].startswith("bob")]
        assert find.query == {"term": "bob@example.com", "search_by_email": "1",
                              "api_token": pipedrive.api_token}
        assert all(r.sent_at is not None for r in await crm_rows(team.db))
    finally:
        await team.close()


async def test_a_deals_owner_is_its_user_id(sqlite_url: str, pipedrive: FakePipedrive) -> None:
    config = config_text(DEALS, alice="crm_owner_id: 12")
    team = await Team(sqlite_url, config, settings_for(pipedrive)).start()
    try:
        await team.route("L-1", deal_id="73")
        await team.deliver()
        [call] = pipedrive.calls_to("update")
        assert (call.path, call.body) == ("/api/v1/deals/73", {"user_id": 12})
        assert pipedrive.calls_to("users_find") == []  # the config's id: no lookup
    finally:
        await team.close()


async def test_a_429_waits_for_the_windows_reset(sqlite_url: str, pipedrive: FakePipedrive) -> None:
    team = await Team(sqlite_url, config_text(PERSONS),
                      settings_for(pipedrive)).start()
    try:
        pipedrive.fail_next("update", 429)  # x-ratelimit-reset: 2, no Retry-After
        pipedrive.fail_next("update", 429, retry_after="30")
        await team.route("L-1", person_id="71")
        await team.deliver()
        [row] = await crm_rows(team.db)
        assert "Request over limit" in row.last_error
        assert (row.available_at - team.clock.now()).total_seconds() >= 2
        team.later(5)
        await team.deliver()
        [row] = await crm_rows(team.db)
        assert row.sent_at is None and (row.available_at - team.clock.now()).total_seconds() >= 30
        team.later(31)
        await team.deliver()
        assert [c.status for c in pipedrive.calls_to("update")] == [429, 429, 200]
        assert pipedrive.owner_of("persons", "71") == 11
    finally:
        await team.close()


async def test_a_refused_token_is_given_up_and_never_shown(sqlite_url: str, pipedrive: FakePipedrive) -> None:
    team = await Team(sqlite_url, config_text(PERSONS),
                      settings_for(pipedrive, token="secret-but-wrong")).start()
    try:
        await team.route("L-1", person_id="71")
        await team.deliver()
        [row] = await crm_rows(team.db)
        assert row.failed_at is not None and "Pipedrive answered 401" in row.last_error
        assert "secret-but-wrong" not in row.last_error
    finally:
        await team.close()

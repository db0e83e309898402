"""Write-back to Salesforce: client-credentials OAuth with refresh on INVALID_SESSION_ID, or a
given token; OwnerId with Sforce-Auto-Assign: FALSE; users found by email with SOQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from crm_support import FakeSalesforce, Team, config_text, crm_rows, notes

from bot.config.settings import Settings

CRM = "{kind: salesforce, object: Lead, record_id_field: sf_id}"
ALICE = "005S7000000AlicAAA"
BOB = "005S7000000BobbAAA"
RECORDS = ("00QS7000001aaaaMAA", "00QS7000001bbbbMAA", "00QS7000001ccccMAA")


@pytest.fixture
async def salesforce() -> AsyncIterator[FakeSalesforce]:
    async with FakeSalesforce() as fake:
        fake.add_user("alice@example.com", ALICE)
        fake.add_user("o'brien@example.com", BOB)
        fake.add_user("carol@example.com", "005S7000000CaroAAA", active=False)
        for record in RECORDS:
            fake.add_record("Lead", record)
        yield fake


def credentials(fake: FakeSalesforce, **overrides: str) -> Settings:
    given = {"salesforce_instance_url": fake.url, "salesforce_client_id": fake.client_id,
             "salesforce_client_secret": fake.client_secret} | overrides
    return Settings(**given)


async def test_the_owner_is_set_with_a_client_credentials_token(
        database_url: str, salesforce: FakeSalesforce) -> None:
    team = await Team(database_url, config_text(CRM, bob="email: o'brien@example.com"),
                      credentials(salesforce)).start()
    try:
        await team.route("L-1", sf_id=RECORDS[0])
        await team.route("L-2", sf_id=RECORDS[1])
        await team.deliver()
        [token] = salesforce.calls_to("token")
        assert token.body == {"grant_type": "client_credentials", "client_id": salesforce.client_id,
                              "client_secret": salesforce.client_secret}
        # the two leads' writes are sent side by side, in either order
        by_path = {c.path: c for c in salesforce.calls_to("update")}
        first, second = (by_path[f"/services/data/v62.0/sobjects/Lead/{record}"] for record in RECORDS[:2])
        assert len(by_path) == 2 and first.verb == "PATCH"
        assert first.body == {"OwnerId": ALICE} and first.status == 204
        assert second.body == {"OwnerId": BOB}
        assert first.headers["Sforce-Auto-Assign"] == "FALSE"  # the org's assignment rules stay out
        assert first.headers["Authorization"] == f"Bearer {salesforce.issued[0]}"
        assert salesforce.owner_of("Lead", RECORDS[1]) == BOB  # a quote in the email, escaped in SOQL
        [bobs] = [c.query["q"] for c in salesforce.calls_to("query") if "brien" in c.query["q"]]
        assert "Email = 'o\\'brien@example.com'" in bobs
        assert "IsActive = true" in bobs
        assert all(r.sent_at is not None for r in await crm_rows(team.db))
    finally:
        await team.close()


async def test_an_expired_session_gets_a_new_token_and_the_call_again(
        database_url: str, salesforce: FakeSalesforce) -> None:
    team = await Team(database_url, config_text(CRM, bob=f"crm_owner_id: {BOB}"),
                      credentials(salesforce)).start()
    try:
        await team.route("L-1", sf_id=RECORDS[0])
        await team.deliver()
        salesforce.expire_sessions()  # the session timed out while the bot was idle
        await team.route("L-2", sf_id=RECORDS[1])
        await team.deliver()
        assert len(salesforce.calls_to("token")) == 2
        assert [c.status for c in salesforce.calls_to("update")] == [204, 401, 204]
        assert salesforce.calls_to("update")[1].response[0]["errorCode"] == "INVALID_SESSION_ID"
        assert salesforce.owner_of("Lead", RECORDS[1]) == BOB
        second = (await crm_rows(team.db))[1]
        assert second.sent_at is not None and second.attempts == 1  # one attempt, refreshed within it
    finally:
        await team.close()


async def test_a_given_token_is_used_and_its_expiry_said_in_words(
        sqlite_url: str, salesforce: FakeSalesforce) -> None:
    token = salesforce.give_token()
    team = await Team(sqlite_url, config_text(CRM),
                      Settings(salesforce_instance_url=salesforce.url, salesforce_token=token)).start()
    try:
        await team.route("L-1", sf_id=RECORDS[0])
        await team.deliver()
        assert salesforce.owner_of("Lead", RECORDS[0]) == ALICE
        assert salesforce.calls_to("token") == []
        salesforce.expire_sessions()
        await team.route("L-2", sf_id=RECORDS[1])
        await team.deliver()
        second = (await crm_rows(team.db))[1]
        assert second.failed_at is not None and "SALESFORCE_TOKEN" in second.last_error
        assert any("SALESFORCE_CLIENT_ID" in note for note in await notes(team.db))
    finally:
        await team.close()


async def test_wrong_client_credentials_are_given_up_with_salesforces_words(
        sqlite_url: str, salesforce: FakeSalesforce) -> None:
    team = await Team(sqlite_url, config_text(CRM),
                      credentials(salesforce, salesforce_client_secret="not-it")).start()
    try:
        await team.route("L-1", sf_id=RECORDS[0])
        await team.deliver()
        [row] = await crm_rows(team.db)
        assert row.failed_at is not None
        assert "invalid_client (invalid client credentials)" in row.last_error
    finally:
        await team.close()


async def test_the_orgs_api_limit_is_tried_again_and_an_inactive_user_is_no_owner(
        sqlite_url: str, salesforce: FakeSalesforce) -> None:
    team = await Team(sqlite_url, config_text(CRM), credentials(salesforce)).start()
    try:
        salesforce.fail_next("update", 403)  # REQUEST_LIMIT_EXCEEDED
        await team.route("L-1", sf_id=RECORDS[0])
        await team.deliver()
        [row] = await crm_rows(team.db)
        assert row.sent_at is None and row.failed_at is None and "REQUEST_LIMIT_EXCEEDED" in row.last_error
        team.later(600)
        await team.deliver()
        assert salesforce.owner_of("Lead", RECORDS[0]) == ALICE

        for n in (2, 3):  # Bob has no user with his email; Carol's user is inactive
            await team.route(f"L-{n}", sf_id=RECORDS[n - 1])
        await team.deliver()
        rows = await crm_rows(team.db)
        assert [r.failed_at is not None for r in rows] == [False, True, True]
        assert "no Salesforce owner has the email carol@example.com" in rows[2].last_error
    finally:
        await team.close()


async def test_writes_in_flight_together_share_one_refresh(
        sqlite_url: str, salesforce: FakeSalesforce) -> None:
    config = config_text(CRM, alice=f"crm_owner_id: {ALICE}", bob=f"crm_owner_id: {BOB}",
                         carol=f"crm_owner_id: {ALICE}")
    team = await Team(sqlite_url, config, credentials(salesforce)).start()
    try:
        await team.route("L-0", sf_id=RECORDS[0])
        await team.deliver()  # the first token
        salesforce.expire_sessions()
        for n, record in enumerate(RECORDS):
            await team.route(f"L-{n + 1}", sf_id=record)
        stop = asyncio.Event()
        running = asyncio.create_task(team.loop.run(stop))
        try:
            await salesforce.wait_for("update", 1 + len(RECORDS))
        finally:
            stop.set()
            await running
        assert len(salesforce.calls_to("token")) == 2  # one refresh for all three
        assert [salesforce.owner_of("Lead", r) for r in RECORDS] == [BOB, ALICE, ALICE]
    finally:
        await team.close()

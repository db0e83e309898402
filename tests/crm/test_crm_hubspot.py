"""Write-back to HubSpot through the outbox: owner set per assignment, moved on reassignment,
looked up once by email, 429s honoured, lasting failures visible, nothing lost on a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from email.utils import format_datetime

import pytest
from crm_support import FakeHubSpot, Team, config_text, crm_rows, failures, notes

from bot.config.settings import Settings
from bot.delivery.claims import claim

CRM = "{kind: hubspot, object: contacts, record_id_field: hubspot_id}"


@pytest.fixture
async def hubspot() -> AsyncIterator[FakeHubSpot]:
    async with FakeHubSpot() as fake:
        fake.add_owner("alice@example.com", owner_id="101", user_id=9001)
        fake.add_owner("Bob@Example.com", owner_id="202", user_id=9002)
        fake.add_owner("zoe@example.com", owner_id="303", user_id=9003, archived=True)
        for record in ("501", "502", "503", "504", "505", "506"):
            fake.add_record("contacts", record)
        yield fake


def settings_for(fake: FakeHubSpot) -> Settings:
    return Settings(hubspot_token=fake.token, hubspot_api_url=fake.url)


async def team_for(url: str, fake: FakeHubSpot, **members: str) -> Team:
    return await Team(url, config_text(CRM, **members), settings_for(fake)).start()


async def test_each_assignment_sets_the_owner_once_and_a_pass_moves_it(
        database_url: str, hubspot: FakeHubSpot) -> None:
    team = await team_for(database_url, hubspot)
    try:
        outcome = await team.route("L-1", name="Ann", hubspot_id="501")
        assert outcome.assignee.slack_id == "U01ALICE"
        await team.deliver()
        [patch] = hubspot.calls_to("update")
        assert (patch.verb, patch.path) == ("PATCH", "/crm/v3/objects/contacts/501")
        assert patch.body == {"properties": {"hubspot_owner_id": "101"}}  # the owner's id, not its userId
        assert patch.headers["Authorization"] == f"Bearer {hubspot.token}"
        assert hubspot.owner_of("contacts", "501") == "101"
        await team.deliver()
        assert len(hubspot.calls_to("update")) == 1  # sent once, recorded as sent

        assignment = (await team.service.assignment.lead("L-1")).assignments[-1]
        await team.service.assignment.pass_lead(assignment["assignment_id"], actor="U01ALICE")
        await team.deliver()
        owners = [c.body["properties"]["hubspot_owner_id"] for c in hubspot.calls_to("update")]
        assert owners == ["101", "202"]
        assert hubspot.owner_of("contacts", "501") == "202"  # Bob's, looked up ignoring case
        rows = await crm_rows(team.db)
        assert [r.sent_at is not None for r in rows] == [True, True]
        assert rows[1].result["ok"] is True
    finally:
        await team.close()


async def test_owners_are_listed_once_for_many_leads(sqlite_url: str, hubspot: FakeHubSpot) -> None:
    team = await team_for(sqlite_url, hubspot, carol="crm_owner_id: 202")
    try:
        for n in range(6):
            await team.route(f"L-{n}", hubspot_id=f"50{n + 1}")
        await team.deliver()
        assert len(hubspot.calls_to("owners")) == 1  # Alice and Bob both from one listing; Carol configured
        owners = [hubspot.owner_of("contacts", f"50{n + 1}") for n in range(6)]
        assert owners == ["101", "202", "202", "101", "202", "202"]
        assert hubspot.calls_to("owners")[0].query == {"limit": "500", "archived": "false"}
    finally:
        await team.close()


async def test_owners_are_found_on_every_page(sqlite_url: str) -> None:
    async with FakeHubSpot(page_size=1) as fake:
        for n in range(4):
            fake.add_owner(f"other{n}@example.com", owner_id=f"9{n}", user_id=n)
        fake.add_owner("alice@example.com", owner_id="101", user_id=9001)
        fake.add_record("contacts", "501")
        team = await team_for(sqlite_url, fake)
        try:
            await team.route("L-1", hubspot_id="501")
            await team.deliver()
            assert fake.owner_of("contacts", "501") == "101"
            assert [c.query.get("after") for c in fake.calls_to("owners")] == [None, "1", "2", "3", "4"]
        finally:
            await team.close()


async def test_a_429_is_retried_after_its_retry_after(database_url: str, hubspot: FakeHubSpot) -> None:
    team = await team_for(database_url, hubspot)
    try:
        hubspot.fail_next("update", 429, retry_after="7")
        await team.route("L-1", hubspot_id="501")
        await team.deliver()
        [row] = await crm_rows(team.db)
        assert row.sent_at is None and row.attempts == 0  # a rate limit is not a failed attempt
        assert "429" in row.last_error and "secondly limit" in row.last_error
        assert (row.available_at - team.clock.now()).total_seconds() >= 7
        team.later(5)
        await team.deliver()
        assert len(hubspot.calls_to("update")) == 1  # not before the Retry-After
        team.later(3)
        await team.deliver()
        assert [c.status for c in hubspot.calls_to("update")] == [429, 200]
        assert hubspot.owner_of("contacts", "501") == "101"
    finally:
        await team.close()


async def test_a_retry_after_given_as_a_date_is_honoured(sqlite_url: str, hubspot: FakeHubSpot) -> None:
    team = await team_for(sqlite_url, hubspot)
    try:
        await team.route("L-1", hubspot_id="501")
        when = team.clock.now().replace(microsecond=0)
        hubspot.fail_next("update", 503, retry_after=format_datetime(when + timedelta(seconds=120),
                                                                     usegmt=True))
        await team.deliver()
        [row] = await crm_rows(team.db)
        assert row.sent_at is None
        assert (row.available_at - when).total_seconds() >= 100  # the date, read from the wall clock
        team.later(125)
        await team.deliver()
        assert hubspot.owner_of("contacts", "501") == "101"
    finally:
        await team.close()


async def test_an_earlier_assignment_never_overtakes_a_later_one(
        database_url: str, hubspot: FakeHubSpot) -> None:
    team = await team_for(database_url, hubspot)
    try:
        hubspot.fail_next("update", 502)
        await team.route("L-1", hubspot_id="501")
        await team.deliver()  # Alice's write fails and waits for its retry
        assignment = (await team.service.assignment.lead("L-1")).assignments[-1]
        await team.service.assignment.pass_lead(assignment["assignment_id"], actor="U01ALICE")
        await team.deliver()  # Bob's goes out at once
        assert hubspot.owner_of("contacts", "501") == "202"
        team.later(400)
        await team.deliver()  # Alice's retry comes due: skipped, Bob stays the owner
        assert hubspot.owner_of("contacts", "501") == "202"
        assert [c.status for c in hubspot.calls_to("update")] == [502, 200]
        first, second = await crm_rows(team.db)
        assert first.sent_at is not None and second.sent_at is not None
        assert first.result["skipped"] == f"assignment {second.payload['assignment_id']} came later"
        assert second.result["crm_owner_id"] == "202"
    finally:
        await team.close()


async def test_an_email_no_owner_has_is_given_up_visibly(database_url: str, hubspot: FakeHubSpot) -> None:
    team = await team_for(database_url, hubspot, alice="email: alice@elsewhere.example")
    try:
        await team.route("L-1", hubspot_id="501")
        await team.deliver()
        [row] = await crm_rows(team.db)
        assert row.failed_at is not None and row.attempts == 1  # at once: retrying cannot help
        assert "no HubSpot owner has the email alice@elsewhere.example" in row.last_error
        assert failures(team.metrics) == 1
        [note] = await notes(team.db)
        assert note.startswith("The CRM owner of lead L-1 could not be set to <@U01ALICE> after 1 attempt(s)")
        assert "alice@elsewhere.example" in note and "crm_owner_id" in note
        assert hubspot.calls_to("update") == []
    finally:
        await team.close()


async def test_an_archived_owner_does_not_count(sqlite_url: str, hubspot: FakeHubSpot) -> None:
    team = await team_for(sqlite_url, hubspot, alice="email: zoe@example.com")
    try:
        await team.route("L-1", hubspot_id="501")
        await team.deliver()
        [row] = await crm_rows(team.db)
        assert row.failed_at is not None and "zoe@example.com" in row.last_error
    finally:
        await team.close()


async def test_a_record_hubspot_does_not_have_is_given_up_with_its_words(
        sqlite_url: str, hubspot: FakeHubSpot) -> None:
    team = await team_for(sqlite_url, hubspot)
    try:
        await team.route("L-1", hubspot_id="999")
        await team.deliver()
        [row] = await crm_rows(team.db)
        assert row.failed_at is not None and row.attempts == 1
        assert "HubSpot answered 404" in row.last_error and "OBJECT_NOT_FOUND" in row.last_error
        assert len(await notes(team.db)) == 1
    finally:
        await team.close()


async def test_a_record_id_that_is_not_an_id_never_reaches_a_url(
        sqlite_url: str, hubspot: FakeHubSpot) -> None:
    team = await team_for(sqlite_url, hubspot)
    try:
        await team.route("L-1", hubspot_id="../../owners")
        await team.route("L-2")  # no hubspot_id at all
        await team.deliver()
        first, second = await crm_rows(team.db)
        assert first.failed_at is not None and "is not an id this CRM uses" in first.last_error
        assert second.failed_at is not None and "has no hubspot_id field" in second.last_error
        assert hubspot.calls_to("update") == []
    finally:
        await team.close()


async def test_a_refused_token_is_given_up(sqlite_url: str, hubspot: FakeHubSpot) -> None:
    wrong = Settings(hubspot_token="wrong", hubspot_api_url=hubspot.url)
    team = await Team(sqlite_url, config_text(CRM), wrong).start()
    try:
        await team.route("L-1", hubspot_id="501")
        await team.deliver()
        [row] = await crm_rows(team.db)
        assert row.failed_at is not None and "401" in row.last_error
        assert "INVALID_AUTHENTICATION" in row.last_error
    finally:
        await team.close()


async def test_a_message_owed_at_a_restart_is_sent_by_the_next_process(
        database_url: str, hubspot: FakeHubSpot) -> None:
    from bot.store.db import Database

    team = await team_for(database_url, hubspot)
    try:
        hubspot.fail_next("update", 500)
        await team.route("L-1", hubspot_id="501")
        await team.route("L-2", hubspot_id="502")
        await team.deliver()  # L-1's attempt fails; L-2 gets through
        await team.transport.close()
        await team.db.dispose()  # the process stops here
        team.later(400)
        fresh = Database(database_url)
        team.service.db = fresh
        team.loop = team.new_loop(fresh)  # a new process: its own loop, transport and owner cache
        await team.deliver()
        assert hubspot.owner_of("contacts", "501") == "101"
        assert hubspot.owner_of("contacts", "502") == "202"
        assert [r.sent_at is not None for r in await crm_rows(fresh)] == [True, True]
    finally:
        await team.close()


async def test_a_running_loop_after_a_crash_mid_send_sets_the_owner_once_its_claim_runs_out(
        database_url: str, hubspot: FakeHubSpot) -> None:
    team = await team_for(database_url, hubspot)
    try:
        await team.route("L-1", hubspot_id="501")
        await team.route("L-2", hubspot_id="502")
        # A process claimed L-1's write and died before sending it: the row stays leased.
        [claimed] = await claim(team.db, team.clock.now(), lease=timedelta(seconds=30), limit=1,
                                skip_kinds=("dm", "channel"))
        assert (claimed.kind, claimed.lead_id) == ("crm", "L-1")
        stop = asyncio.Event()
        running = asyncio.create_task(team.loop.run(stop))  # the next process, running as serve runs it
        try:
            await hubspot.wait_for("update", 1)  # L-2 at once
            assert hubspot.owner_of("contacts", "501") is None  # L-1 still leased to the dead process
            team.later(31)
            team.loop.wake.set()
            await hubspot.wait_for("update", 2)
        finally:
            stop.set()
            await running
        assert hubspot.owner_of("contacts", "501") == "101" and hubspot.owner_of("contacts", "502") == "202"
        assert len(hubspot.served("update")) == 2
    finally:
        await team.close()

"""`rotation config check`'s CRM look: members whose email matches no owner are named when the
CRM answers; when it cannot be asked, a note says nothing was checked."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from crm_support import FakeHubSpot, FakePipedrive, config_text

from bot.config.routing import load_text
from bot.config.settings import Settings
from bot.crm.check import check_owners, owner_problems

HUBSPOT = "{kind: hubspot, object: contacts}"


async def test_members_no_owner_matches_are_named() -> None:
    async with FakeHubSpot() as fake:
        fake.add_owner("alice@example.com", owner_id="101", user_id=1)
        config = load_text(config_text(HUBSPOT, bob="email: bob@typo.example", carol="crm_owner_id: 303"))
        problems = await owner_problems(config, Settings(hubspot_token=fake.token, hubspot_api_url=fake.url))
    [bob] = problems
    assert (bob.level, bob.path) == ("warning", "members[1].email")
    assert "no HubSpot owner has the email bob@typo.example (U02BOB)" in bob.render("routing.yaml")
    assert len(fake.calls_to("owners")) == 1


async def test_a_member_with_neither_email_nor_owner_id_is_named() -> None:
    async with FakePipedrive() as fake:
        fake.add_user("alice@example.com", 11)
        fake.add_user("bob@example.com", 12)
        config = load_text(config_text("{kind: pipedrive, object: persons}", carol="timezone: UTC"))
        settings = Settings(pipedrive_api_token=fake.api_token, pipedrive_api_url=fake.url)
        [carol] = await owner_problems(config, settings)
    assert carol.path == "members[2]" and "U03CAROL has no email and no crm_owner_id" in carol.message


async def test_a_crm_that_cannot_be_asked_is_a_note() -> None:
    config = load_text(config_text(HUBSPOT))
    async with FakeHubSpot() as fake:
        refused = await owner_problems(config, Settings(hubspot_token="wrong", hubspot_api_url=fake.url))
        fake.fail_next("owners", 503)
        down = await owner_problems(config, Settings(hubspot_token=fake.token, hubspot_api_url=fake.url))
    [note] = refused
    assert note.level == "note" and "HubSpot answered 401" in note.message
    assert "named in the managers' channel" in note.message
    assert [p.level for p in down] == ["note"]
    [unset] = await owner_problems(config, Settings())
    assert unset.level == "note" and "HUBSPOT_TOKEN" in unset.message


def test_no_crm_section_checks_nothing() -> None:
    assert check_owners(load_text(config_text(HUBSPOT).replace("crm: " + HUBSPOT, "")), Settings()) == []


async def test_rotation_config_check_names_them(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(config_text(HUBSPOT, bob="email: bob@typo.example"))
    async with FakeHubSpot() as fake:
        fake.add_owner("alice@example.com", owner_id="101", user_id=1)
        fake.add_owner("carol@example.com", owner_id="103", user_id=3)
        env = os.environ | {"HUBSPOT_TOKEN": fake.token, "HUBSPOT_API_URL": fake.url}
        check = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "config", "check", str(path), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await check.communicate()
    assert check.returncode == 0  # the config applies; the warning says what will not work
    said = f"{path}: warning: members[1].email: no HubSpot owner has the email bob@typo.example"
    assert said in err.decode()
    assert "1 warning(s) above" in out.decode()

"""The config's `crm:` and `crm_owner_id`: checked in words, kept by apply, shown by export,
and a config without them keeps the digest it had before they existed."""

from __future__ import annotations

import hashlib
import json

import pytest
from crm_support import config_text

from bot.config.routing import ConfigInvalid, check_text, load_text
from bot.routing.admin.roster import config_digest
from bot.routing.service import RoutingService
from bot.store.db import Database


@pytest.mark.parametrize(("crm", "words"), [
    ("{kind: hubspot, object: leads}", 'HubSpot write-back sets the owner of contacts or deals, not "leads"'),
    ("{kind: salesforce, object: lead}", '(write "Lead")'),
    ("{kind: zoho, object: leads}", "crm.kind"),
    ("{kind: pipedrive, object: persons, api_version: v62.0}", "api_version is for Salesforce only"),
    ("{kind: pipedrive, object: persons, owner: x}", "crm.owner"),
])
def test_a_crm_section_that_cannot_work_is_refused_in_words(crm: str, words: str) -> None:
    with pytest.raises(ConfigInvalid) as refused:
        check_text(config_text(crm), "routing.yaml")
    rendered = "\n".join(p.render("routing.yaml") for p in refused.value.problems)
    assert words in rendered


def test_an_owner_id_is_text_whether_quoted_or_not() -> None:
    config = load_text(config_text("{kind: pipedrive, object: persons}", alice="crm_owner_id: 12",
                                   bob='crm_owner_id: "005S7000000BobbAAA"'))
    assert [m.crm_owner_id for m in config.members] == ["12", "005S7000000BobbAAA", None]
    with pytest.raises(ConfigInvalid):
        load_text(config_text("{kind: pipedrive, object: persons}", alice="crm_owner_id: '12/../x'"))


async def test_apply_keeps_and_export_shows_the_crm_and_owner_ids(database_url: str) -> None:
    db = Database(database_url)
    await db.migrate()
    try:
        service = RoutingService(db)
        text = config_text("{kind: salesforce, object: Contact, record_id_field: sf_contact}",
                           alice="email: alice@example.com, crm_owner_id: 005S7000000AlicAAA")
        await service.admin.apply_config(load_text(text), actor="test")
        exported = await service.admin.export_config()
        assert exported["crm"] == {"kind": "salesforce", "object": "Contact", "record_id_field": "sf_contact"}
        assert exported["members"][0]["crm_owner_id"] == "005S7000000AlicAAA"
        assert "crm_owner_id" not in exported["members"][1]
        again = load_text(json.dumps(exported))  # the export applies as it is
        assert again.crm is not None and again.members[0].crm_owner_id == "005S7000000AlicAAA"
    finally:
        await db.dispose()


def test_a_config_without_crm_keeps_its_digest() -> None:
    config = load_text(config_text("{kind: hubspot, object: contacts}"))
    plain = config.model_copy(update={"crm": None,
                                      "members": [m.model_copy(update={"crm_owner_id": None})
                                                  for m in config.members]})
    dumped = plain.model_dump(mode="json")
    del dumped["crm"], dumped["lead_url"]  # lead_url came later still, and is left out the same way
    for member in dumped["members"]:
        del member["crm_owner_id"]
    before = hashlib.sha256(json.dumps(dumped, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert config_digest(plain) == before  # what a database applied before these keys existed
    assert config_digest(config) != before

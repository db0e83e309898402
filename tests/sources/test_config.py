"""`sources:` in the routing config: every mistake named at its line, as `config check` says it."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import yaml
from sources_support import SOURCES, TEAM, apply_sources

from bot.config.routing import ConfigInvalid, load_text
from bot.routing.admin.roster import config_digest
from bot.routing.service import RoutingService
from bot.sources.config import SourceConfig, missing_secrets
from bot.sources.registry import KIND_BY_NAME
from bot.sources.stored import unset_secrets
from bot.store.db import Database


def problems(sources: list[dict[str, object]]) -> list[str]:
    text = yaml.safe_dump({**yaml.safe_load(TEAM), "sources": sources}, sort_keys=False)
    with pytest.raises(ConfigInvalid) as caught:
        load_text(text, "routing.yaml")
    return [problem.render("routing.yaml") for problem in caught.value.problems]


def test_the_config_takes_exactly_the_registered_kinds() -> None:
    [problem] = problems([{"name": "crm", "kind": "zapier"}])
    listed = re.findall(r"'([a-z]+)'", problem.split("use one of", 1)[1])
    assert listed == list(KIND_BY_NAME)
    for name, kind in KIND_BY_NAME.items():  # each loads with what its kind says it needs
        entry = {"name": "x", "kind": name} | ({"secret_env": "X"} if kind.needs_secret_env else {})
        entry |= {"organization_id": "00D000000000001"} if "organization_id" in kind.options else {}
        assert SourceConfig.model_validate(entry).kind == name


def test_an_unknown_kind_is_named_with_its_place() -> None:
    [problem] = problems([{"name": "crm", "kind": "zapier"}])
    assert problem.startswith("routing.yaml:")
    assert "sources[0].kind: 'zapier' is not a kind of source; use one of 'json', 'form'" in problem


def test_a_signed_kind_without_secret_env_and_salesforce_without_its_org() -> None:
    found = problems([{"name": "tf", "kind": "typeform"}, {"name": "sf", "kind": "salesforce"}])
    assert any("sources[0]: a typeform source needs `secret_env`" in p for p in found)
    assert any("sources[1]: a salesforce source needs `organization_id`" in p for p in found)


def test_duplicate_names_are_refused() -> None:
    found = problems([{"name": "web", "kind": "form"}, {"name": "feed", "kind": "json"},
                      {"name": "Web", "kind": "form"}])
    [problem] = found
    assert re.match(r"routing\.yaml:\d+: sources\[2\]\.name: 'Web' is also the name of sources\[0\]", problem)


def test_a_name_used_twice_is_named_along_with_the_other_mistakes() -> None:
    found = problems([{"name": "web", "kind": "zapier"}, {"name": "web", "kind": "form"}])
    assert len(found) == 2
    assert "sources[0].kind" in found[0]
    assert "sources[1].name: 'web' is also the name of sources[0]" in found[1]


def test_options_of_another_kind_paths_and_names_are_checked() -> None:
    found = problems([
        {"name": "tf", "kind": "typeform", "secret_env": "TF", "redirect": "https://example.com"},
        {"name": "j", "kind": "json", "fields": {"id": "data.[bad"}},
        {"name": "has space", "kind": "json"},
        {"name": "f", "kind": "form", "redirect": "example.com/thanks"},
        {"name": "s", "kind": "salesforce", "organization_id": "00D0000"},
    ])
    text = "\n".join(found)
    assert "`redirect` is only for form sources" in text
    assert "sources[1].fields: the path for 'id' is not a JMESPath expression" in text
    assert "sources[2].name" in text
    assert "sources[3].redirect: 'example.com/thanks' is not a web address" in text
    assert "sources[4].organization_id" in text


def test_a_valid_list_loads_and_missing_secrets_are_named_for_serve() -> None:
    text = yaml.safe_dump({**yaml.safe_load(TEAM), "sources": [
        {"name": "tf", "kind": "typeform", "secret_env": "TF_SECRET"},
        {"name": "web", "kind": "form", "honeypot": "website"},
        {"name": "partner", "kind": "json", "fields": {"id": "data.uid"}}]})
    config = load_text(text)
    assert [s.name for s in config.sources] == ["tf", "web", "partner"]
    assert missing_secrets(config.sources, {"TF_SECRET": "x"}) == []
    [missing] = missing_secrets(config.sources, {})
    assert missing.startswith("sources[0] (tf, typeform): the environment variable TF_SECRET is not set")
    assert SourceConfig(name="x", kind="json").fields == {}


def test_a_config_without_sources_keeps_the_digest_it_had_before_sources_existed() -> None:
    config = load_text(TEAM)
    dumped = config.model_dump(mode="json")
    assert "sources" not in dumped
    for later in ("crm", "lead_url"):  # added after sources, left out of the digest while unset too
        dumped.pop(later, None)
    for member in dumped["members"]:
        member.pop("crm_owner_id", None)
    before = hashlib.sha256(json.dumps(dumped, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert config_digest(config) == before
    with_sources = load_text(TEAM + "sources: [{name: web, kind: form}]\n")
    assert config_digest(with_sources) != before


async def test_serve_can_name_the_applied_sources_whose_secret_is_unset(db: Database) -> None:
    service = RoutingService(db)
    await apply_sources(service, SOURCES)
    unset = await service.transactions.read(lambda c: unset_secrets(c, {"TYPEFORM_SECRET": "x"}))
    assert len(unset) == 6
    assert not any("TYPEFORM_SECRET" in line for line in unset)
    assert any("(pipedrive, pipedrive): the environment variable PIPEDRIVE_AUTH is not set" in line
               for line in unset)

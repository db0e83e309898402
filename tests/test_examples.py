"""The shipped example config does what its comments say, on the shipped example leads."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.config.routing import load_file
from bot.routing.rules.matching import compile_rules, first_match

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def matched_rule(fields: dict[str, str]) -> str:
    config = load_file(EXAMPLES / "routing.yaml")
    rules = compile_rules(tuple(r.model_dump(mode="json", exclude_none=True, by_alias=True)
                                for r in config.rules))
    tried = first_match(rules, fields)
    return tried[-1].name if tried and tried[-1].matched else "-"


def test_small_us_companies_not_met_at_an_event_are_shared_even_with_no_source() -> None:
    with (EXAMPLES / "leads.csv").open(newline="") as handle:
        rows = [{k: v for k, v in row.items() if v != ""} for row in csv.DictReader(handle)]
    small_us = [r for r in rows if r.get("country") == "US" and 0 < float(r.get("employees") or 0) < 50
                and r.get("source") != "event" and not r.get("email", "").endswith("@gmail.com")]
    assert any("source" not in r for r in small_us), "the example has no small US lead without a source"
    assert {r["id"]: matched_rule(r) for r in small_us} == {r["id"]: "US small business" for r in small_us}


def test_the_lead_the_readme_routes_is_shipped_and_valid() -> None:
    from bot.lead_files import json_leads

    readme = (EXAMPLES.parent / "README.md").read_text()
    assert "rotation route examples/lead.json" in readme
    leads, listed = json_leads(EXAMPLES / "lead.json")
    assert not listed and leads[0]["id"] == "L-1"

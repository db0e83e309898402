"""Attacks on a rule's `matches` with pathological patterns and huge fields.

Python's backtracking `re` took 11 s for the example config's `.*\\.(co\\.uk|de|...)$` on a
20 KB email, inside the routing transaction, and the whole server waited. Rules now run
on RE2 (time linear in the field's length), and `config check` refuses, at their line,
the patterns RE2 cannot run. These tests assert answers, never durations.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.config.routing import ConfigInvalid, load_text
from bot.config.settings import Settings
from bot.routing.rules.matching import compile_rules, evaluate, first_match
from bot.web.app import create_app
from bot.web.metrics import Metrics

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "web"))
from web_support import AUTH, TOKEN, prepared_service, start_app

EXAMPLE = (Path(__file__).resolve().parents[3] / "examples" / "routing.yaml").read_text()
EMEA_GUESS = r".*\.(co\.uk|de|fr|nl|es|it|se|ie)$"  # the example config's pattern
FIELD = 60 * 1024


def matches(pattern: str, value: str) -> bool:
    return evaluate({"field": "f", "op": "matches", "value": pattern}, {"f": value}).matched


@pytest.mark.parametrize(("pattern", "value", "expected"), [
    (EMEA_GUESS, "a" * FIELD + "@example.de", True),
    (EMEA_GUESS, "a" * FIELD + "@example.com", False),
    (EMEA_GUESS, "a." * (FIELD // 2) + "@example.com", False),
    (EMEA_GUESS, "a." * (FIELD // 2) + "@EXAMPLE.CO.UK", True),
    (r"^(a+)+$", "a" * FIELD + "!", False),
    (r"^(a+)+$", "a" * FIELD, True),
    (r"(a|aa)*b", "a" * FIELD, False),
    (r"^(\w+\s?)*$", "word " * (FIELD // 5) + "!", False),
    (r"(x+x+)+y", "x" * FIELD, False),
])
def test_pathological_patterns_on_a_60_kb_field_decide_correctly(pattern: str, value: str,
                                                                 expected: bool) -> None:
    """Attack: catastrophic-backtracking patterns (nested or overlapping repeats, a greedy
    `.*` before an anchored alternation) against a 60 KB field."""
    assert matches(pattern, value) is expected


def test_matches_still_ignores_case_and_searches_anywhere() -> None:
    """Not an attack: RE2 keeps the documented semantics (case ignored, unanchored search)."""
    assert matches(r"\.DE$", "anna@firma.de") and matches(r"firma", "Anna@FIRMA.de")
    assert matches(r"^ANNA", "anna@x.de") and not matches(r"^firma", "anna@firma.de")
    assert matches(r"ÉCOLE", "contact@école.fr")


def test_a_field_that_is_not_valid_unicode_text_is_no_error() -> None:
    """Attack: a lone surrogate (JSON allows "\\ud800") in a field a pattern reads."""
    assert matches(r"\.de$", "\ud800@firma.de") and not matches(r"^x", "\ud800")


CONFIG = """
members: [{slack_id: U01ALICE, name: Alice}]
queues: [{name: q, members: [{slack_id: U01ALICE}]}]
rules:
  - name: r
    when:
      any:
        - {field: country, op: equals, value: DE}
        - {field: email, op: matches, value: 'PATTERN'}
    queue: q
"""


@pytest.mark.parametrize(("pattern", "words"), [
    (r"^(?=.*@)\w+", "lookahead `(?=…)` is not supported; patterns must run in time linear"),
    (r"^(?!.*@gmail)", "negative lookahead `(?!…)` is not supported"),
    (r"(?<=@)acme", "lookbehind `(?<=…)` is not supported"),
    (r"(?<!x)@acme", "negative lookbehind `(?<!…)` is not supported"),
    (r"(\w)\1", r"a backreference `\1` is not supported"),
    (r"(?P<a>x)(?P=a)", "a named backreference `(?P=…)` is not supported"),
    (r"a++b", "a possessive quantifier `++` is not supported"),
    (r"(?>a+)b", "an atomic group `(?>…)` is not supported"),
    (r"x{5000}", "a repetition count `{5000}` is too large (at most 1000)"),
    (r"\.de\Z", r"`\Z` is not supported; write `$`"),
    (r"(unclosed", "is not a valid regular expression: missing )"),
])
def test_config_check_refuses_what_re2_cannot_run_at_its_line(pattern: str, words: str) -> None:
    """Attack: a pattern only a backtracking engine can run (lookaround, backreferences,
    possessive or atomic groups) is refused at check, with file:line and path, in words."""
    with pytest.raises(ConfigInvalid) as caught:
        load_text(CONFIG.replace("PATTERN", pattern), "routing.yaml")
    found = [p.render("routing.yaml") for p in caught.value.problems]
    assert len(found) == 1, found
    assert found[0].startswith(f"routing.yaml:9: rules[0].when.any[1].value: {words}"), found


def test_a_list_given_as_a_pattern_is_refused() -> None:
    """A `matches` with a list (which `str()` would have made a character class) is refused."""
    with pytest.raises(ConfigInvalid) as caught:
        load_text(CONFIG.replace("'PATTERN'", "[a, b]"), "routing.yaml")
    assert [p.render("routing.yaml") for p in caught.value.problems] == [
        "routing.yaml:9: rules[0].when.any[1].value: matches compares one value, not a list "
        "(use in / not_in)"]


def test_a_stored_pattern_re2_cannot_run_never_matches_and_says_why() -> None:
    """A config applied before RE2 may hold such a pattern: its rule is skipped, in words,
    and the next rule routes the lead (no error for the lead)."""
    rules = compile_rules([
        {"name": "old", "queue": "a", "when": {"field": "email", "op": "matches", "value": "(?=.*@)x"}},
        {"name": "rest", "queue": "b"}])
    tried = first_match(rules, {"email": "x@y.de"})
    assert [(t.name, t.matched) for t in tried] == [("old", False), ("rest", True)]
    assert "cannot run" in tried[0].why and "lookahead" in tried[0].why


def test_the_example_config_still_passes_and_routes_the_same() -> None:
    """The example's patterns compile under RE2 and guess EMEA from the email as before."""
    config = load_text(EXAMPLE, "examples/routing.yaml")
    rules = compile_rules([rule.model_dump(exclude_none=True) for rule in config.rules])  # as stored

    def rule_for(lead: dict[str, str]) -> str:
        return first_match(rules, lead)[-1].name

    assert rule_for({"email": "anna@firma.de"}) == "EMEA"
    assert rule_for({"email": "tom@shop.co.uk", "country": ""}) == "EMEA"
    assert rule_for({"email": "tom@shop.co.uk", "country": "US"}) != "EMEA"
    assert rule_for({"email": "li@corp.com"}) != "EMEA"
    assert rule_for({"email": "x" * FIELD + "@corp.DE"}) == "EMEA"


async def test_healthz_answers_while_a_pathological_lead_is_routed(sqlite_url: str) -> None:
    """Attack through HTTP: leads with 60 KB emails that the example's EMEA pattern once
    took minutes on, sent with /healthz at the same time: every answer comes, and right."""
    service = await prepared_service(sqlite_url, config=EXAMPLE)
    runner, base = await start_app(create_app(
        service, Settings(intake_token=TOKEN, database_url=sqlite_url), metrics=Metrics()))
    emails = {"L-de": "a" * FIELD + "@firma.de", "L-com": "a." * (FIELD // 2) + "@corp.com"}
    try:
        async with aiohttp.ClientSession() as http:
            async def post(lead_id: str) -> tuple[int, dict[str, object]]:
                async with http.post(f"{base}/leads", json={"id": lead_id, "email": emails[lead_id]},
                                     headers=AUTH) as response:
                    return response.status, await response.json()

            async def health() -> int:
                async with http.get(f"{base}/healthz") as response:
                    return response.status

            de, com, *checks = await asyncio.gather(post("L-de"), post("L-com"),
                                                    *(health() for _ in range(5)))
        assert checks == [200] * 5
        assert de[0] == 201 and de[1]["queue"] == "emea" and de[1]["rule"] == "EMEA", de[1]["rule"]
        assert com[0] == 201 and com[1]["rule"] != "EMEA"
    finally:
        await runner.cleanup()
        await service.db.dispose()

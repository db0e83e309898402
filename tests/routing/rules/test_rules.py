"""Every operator and combinator; case, numbers sent as text, missing fields."""

from __future__ import annotations

import pytest

from bot.routing.rules.matching import evaluate, first_match

LEAD = {
    "country": "gb",
    "employees": "1,200",
    "email": "Ann@Acme.CO.UK",
    "source": "Webinar",
    "score": 42,
    "notes": "",
    "vip": True,
    "company": {"size": "500"},
}


@pytest.mark.parametrize(
    ("op", "field", "value", "expected"),
    [
        ("equals", "country", "GB", True),
        ("equals", "country", "DE", False),
        ("equals", "employees", 1200, True),
        ("equals", "vip", True, True),
        ("not_equals", "country", "DE", True),
        ("not_equals", "country", "Gb", False),
        ("in", "country", ["DE", "GB"], True),
        ("in", "score", ["41", "42"], True),
        ("not_in", "country", ["DE", "FR"], True),
        ("not_in", "country", ["gb"], False),
        ("contains", "email", "acme", True),
        ("contains", "email", "globex", False),
        ("starts_with", "email", "ann@", True),
        ("starts_with", "email", "bob@", False),
        ("ends_with", "email", ".co.uk", True),
        ("ends_with", "email", ".com", False),
        ("matches", "email", r"@acme\.(com|co\.uk)$", True),
        ("matches", "email", r"^bob", False),
        ("gt", "employees", 1000, True),
        ("gt", "employees", 1200, False),
        ("gte", "employees", "1200", True),
        ("lt", "score", 50, True),
        ("lt", "score", 42, False),
        ("lte", "score", 42, True),
        ("gt", "source", 5, False),  # not a number: false, not an error
        ("equals", "company.size", 500, True),
    ],
)
def test_operator(op: str, field: str, value: object, expected: bool) -> None:
    assert evaluate({"field": field, "op": op, "value": value}, LEAD).matched is expected


@pytest.mark.parametrize(
    "op",
    [
        "equals",
        "not_equals",
        "in",
        "not_in",
        "contains",
        "starts_with",
        "ends_with",
        "matches",
        "gt",
        "gte",
        "lt",
        "lte",
    ],
)
def test_a_missing_field_is_a_false_condition_and_says_so(op: str) -> None:
    value = ["x"] if op in ("in", "not_in") else "1"
    outcome = evaluate({"field": "region", "op": op, "value": value}, LEAD)
    assert outcome.matched is False
    assert outcome.why == "region is missing"


def test_exists_and_blank() -> None:
    assert evaluate({"field": "country", "op": "exists"}, LEAD).matched
    assert not evaluate({"field": "notes", "op": "exists"}, LEAD).matched
    assert not evaluate({"field": "region", "op": "exists"}, LEAD).matched
    assert evaluate({"field": "notes", "op": "blank"}, LEAD).matched
    assert evaluate({"field": "region", "op": "blank"}, LEAD).matched
    assert not evaluate({"field": "country", "op": "blank"}, LEAD).matched


def test_field_names_match_ignoring_case() -> None:
    assert evaluate({"field": "Country", "op": "equals", "value": "gb"}, LEAD).matched


def test_combinators() -> None:
    gb = {"field": "country", "op": "equals", "value": "GB"}
    de = {"field": "country", "op": "equals", "value": "DE"}
    big = {"field": "employees", "op": "gte", "value": 1000}
    assert evaluate({"all": [gb, big]}, LEAD).matched
    assert not evaluate({"all": [de, big]}, LEAD).matched
    assert evaluate({"any": [de, big]}, LEAD).matched
    assert not evaluate({"any": [de, {"not": big}]}, LEAD).matched
    assert evaluate({"not": de}, LEAD).matched
    assert evaluate({"all": [{"any": [de, gb]}, {"not": {"field": "region", "op": "exists"}}]}, LEAD).matched


def test_first_match_wins_and_the_catch_all_takes_the_rest() -> None:
    rules = [
        {"name": "germany", "when": {"field": "country", "op": "equals", "value": "DE"}, "queue": "de"},
        {"name": "uk", "when": {"field": "country", "op": "equals", "value": "GB"}, "queue": "uk"},
        {"name": "rest", "queue": "all"},
    ]
    tried = first_match(rules, LEAD)
    assert [(r.name, r.matched) for r in tried] == [("germany", False), ("uk", True)]
    assert tried[0].why == 'country "gb" is not "DE"'
    tried = first_match(rules, {"country": "JP"})
    assert tried[-1].queue == "all" and tried[-1].why == "catch-all"


@pytest.mark.parametrize(
    ("condition", "why"),
    [
        ({"field": "country", "op": "in", "value": ["DE", "FR"]}, 'country "gb" is not in ["DE", "FR"]'),
        ({"field": "score", "op": "in", "value": ["x", 42.0]}, "score 42 is in [\"x\", 42.0]"),
        ({"field": "employees", "op": "gt", "value": 1000}, 'employees "1,200" is > 1000'),
        ({"field": "score", "op": "gte", "value": 50}, "score 42 is not ≥ 50"),
        ({"field": "email", "op": "starts_with", "value": "bob"},
         'email "Ann@Acme.CO.UK" does not start with "bob"'),
        ({"field": "email", "op": "ends_with", "value": ".uk"}, 'email "Ann@Acme.CO.UK" ends with ".uk"'),
        # The quoted value is shown as it is, never rephrased with the operator.
        ({"field": "source", "op": "contains", "value": "does not contains"},
         'source "Webinar" does not contain "does not contains"'),
        ({"field": "notes", "op": "blank"}, "notes is blank"),
        ({"not": {"field": "vip", "op": "equals", "value": True}}, "vip true is true"),
    ],
)
def test_each_outcome_says_why_in_words(condition: dict[str, object], why: str) -> None:
    assert evaluate(condition, LEAD).why == why


def test_compiled_rules_agree_with_the_plain_ones() -> None:
    from bot.routing.rules.matching import compile_rules

    rules = [
        {"name": "big uk", "queue": "uk", "when": {"all": [
            {"field": "country", "op": "in", "value": ["GB", "IE"]},
            {"field": "employees", "op": "gte", "value": 5000}]}},
        {"name": "uk", "queue": "uk", "when": {"field": "country", "op": "equals", "value": "gb"}},
    ]
    compiled = compile_rules(rules)
    assert first_match(compiled, LEAD) == first_match(rules, LEAD)
    assert [r.name for r in first_match(compiled, LEAD)] == ["big uk", "uk"]
    assert first_match(compiled, LEAD)[0].why == 'employees "1,200" is not ≥ 5000'

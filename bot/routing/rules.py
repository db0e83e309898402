"""Rules: the first rule whose condition holds for a lead names the lead's queue.

Conditions are plain data (as in the routing config):
``{field, op, value}`` leaves combined with ``{all: [...]}``, ``{any: [...]}`` and
``{not: {...}}``. Strings compare ignoring case, numbers compare as numbers even when
the lead sends "1000", and a missing field makes a condition false (never an error);
every evaluation also says, in words, why it held or not, for the explanation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

VALUE_OPS = frozenset(
    {
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
    }
)
PRESENCE_OPS = frozenset({"exists", "blank"})
NUMBER_OPS = frozenset({"gt", "gte", "lt", "lte"})
LIST_OPS = frozenset({"in", "not_in"})
OPERATORS = VALUE_OPS | PRESENCE_OPS
COMBINATORS = ("all", "any", "not")

_SYMBOL = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Outcome:
    """Whether a condition held, and why, in a short phrase."""

    matched: bool
    why: str


@dataclass(frozen=True, slots=True)
class RuleResult:
    name: str
    queue: str
    matched: bool
    why: str


def field_value(lead: Mapping[str, Any], field: str) -> Any:
    """The lead's value for `field`: exact key, then any case, then a dotted path."""
    if field in lead:
        return lead[field]
    lowered = field.lower()
    for key, value in lead.items():
        if key.lower() == lowered:
            return value
    if "." in field:
        head, rest = field.split(".", 1)
        inner = field_value(lead, head)
        if isinstance(inner, Mapping):
            return field_value(inner, rest)
    return _MISSING


def as_number(value: Any) -> Decimal | None:
    """Read 1000, 1000.5, "1000", " 1,000 " as numbers; anything else is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", "").replace("_", ""))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().casefold()


def is_blank(value: Any) -> bool:
    return value is _MISSING or value is None or (isinstance(value, str) and not value.strip())


def same(lead_value: Any, rule_value: Any) -> bool:
    """Equality as a person means it: numbers by value, text ignoring case."""
    left, right = as_number(lead_value), as_number(rule_value)
    if left is not None and right is not None:
        return left == right
    return as_text(lead_value) == as_text(rule_value)


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return as_text(value) if isinstance(value, bool) else str(value)


def _text_test(name: str) -> Callable[[str, str], bool]:
    tests: dict[str, Callable[[str, str], bool]] = {
        "contains": lambda a, b: b in a,
        "starts_with": str.startswith,
        "ends_with": str.endswith,
    }
    return tests[name]


def evaluate(condition: Mapping[str, Any], lead: Mapping[str, Any]) -> Outcome:
    """Evaluate a condition tree against a lead's fields."""
    if "all" in condition:
        for child in condition["all"]:
            outcome = evaluate(child, lead)
            if not outcome.matched:
                return outcome
        return Outcome(True, " and ".join(evaluate(c, lead).why for c in condition["all"]))
    if "any" in condition:
        reasons = []
        for child in condition["any"]:
            outcome = evaluate(child, lead)
            if outcome.matched:
                return outcome
            reasons.append(outcome.why)
        return Outcome(False, "; ".join(reasons) or "no alternatives")
    if "not" in condition:
        inner = evaluate(condition["not"], lead)
        return Outcome(not inner.matched, inner.why)  # the inner fact is the reason either way
    return _evaluate_leaf(condition["field"], condition["op"], condition.get("value"), lead)


def _evaluate_leaf(field: str, op: str, expected: Any, lead: Mapping[str, Any]) -> Outcome:
    value = field_value(lead, field)
    if op == "blank":
        blank = is_blank(value)
        return Outcome(blank, f"{field} is {'blank' if blank else 'not blank'}")
    if op == "exists":
        present = not is_blank(value)
        return Outcome(present, f"{field} is {'given' if present else 'missing'}")
    if value is _MISSING or value is None:
        return Outcome(False, f"{field} is missing")
    shown = f"{field} {_show(value)}"
    if op in ("equals", "not_equals"):
        equal = same(value, expected)
        matched = equal if op == "equals" else not equal
        verb = "is" if equal else "is not"
        return Outcome(matched, f"{shown} {verb} {_show(expected)}")
    if op in LIST_OPS:
        found = any(same(value, option) for option in expected)
        matched = found if op == "in" else not found
        return Outcome(matched, f"{shown} {'is' if found else 'is not'} in {_show(expected)}")
    if op in NUMBER_OPS:
        number, bound = as_number(value), as_number(expected)
        if number is None or bound is None:
            return Outcome(False, f"{shown} is not a number")
        matched = {
            "gt": number > bound,
            "gte": number >= bound,
            "lt": number < bound,
            "lte": number <= bound,
        }[op]
        relation = _SYMBOL[op] if matched else f"not {_SYMBOL[op]}"
        return Outcome(matched, f"{shown} is {relation} {_show(expected)}")
    if op == "matches":
        matched = re.search(str(expected), str(value), re.IGNORECASE) is not None
        return Outcome(matched, f"{shown} {'matches' if matched else 'does not match'} /{expected}/")
    matched = _text_test(op)(as_text(value), as_text(expected))
    phrase = op.replace("_", " ")
    return Outcome(
        matched,
        f"{shown} {'' if matched else 'does not '}{phrase} {_show(expected)}".replace(
            "does not contains", "does not contain"
        )
        .replace("does not starts", "does not start")
        .replace("does not ends", "does not end"),
    )


def first_match(rules: Sequence[Mapping[str, Any]], lead: Mapping[str, Any]) -> list[RuleResult]:
    """Try rules in order; the list ends with the first that matched (if any did)."""
    tried: list[RuleResult] = []
    for rule in rules:
        when = rule.get("when")
        outcome = Outcome(True, "catch-all") if when is None else evaluate(when, lead)
        tried.append(RuleResult(rule["name"], rule["queue"], outcome.matched, outcome.why))
        if outcome.matched:
            break
    return tried

r"""Rules: the first rule whose condition holds for a lead names the lead's queue.

Conditions are plain data (as in the routing config):
``{field, op, value}`` leaves combined with ``{all: [...]}``, ``{any: [...]}`` and
``{not: {...}}``. Strings compare ignoring case, numbers compare as numbers even when
the lead sends "1000", and a missing field makes a condition false (never an error);
every evaluation also says, in words, why it held or not, for the explanation.

`matches` runs on RE2, not Python's `re`: a backtracking engine can take exponential
time on a field of a few kilobytes (`.*\.(co\.uk|de)$` on a 20 KB email stalled the server
for 11 s inside the routing transaction), while RE2 takes time linear in the field's
length. The price is RE2's syntax: no lookaround, backreferences or possessive
quantifiers, which `config check` refuses in words (`compile_pattern`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import re2

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
class ConditionResult:
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


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return as_text(value) if isinstance(value, bool) else str(value)


_TEXT_TESTS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda a, b: b in a,
    "starts_with": str.startswith,
    "ends_with": str.endswith,
}
_DENIED = {
    "contains": "does not contain",
    "starts_with": "does not start with",
    "ends_with": "does not end with",
}


class _Fields:
    """One lead's fields, each looked up, read as a number and folded to text once: a
    rule set tests the same few fields (country, employees, email) many times over."""

    __slots__ = ("_lead", "_seen")

    def __init__(self, lead: Mapping[str, Any]) -> None:
        self._lead = lead
        self._seen: dict[str, tuple[Any, Decimal | None, str]] = {}

    def get(self, field: str) -> tuple[Any, Decimal | None, str]:
        """(value, value as a number or None, value as folded text) for `field`."""
        seen = self._seen.get(field)
        if seen is None:
            value = field_value(self._lead, field)
            absent = value is _MISSING or value is None
            seen = (value, None, "") if absent else (value, as_number(value), as_text(value))
            self._seen[field] = seen
        return seen


Test = Callable[[_Fields], ConditionResult]


def compile_condition(condition: Mapping[str, Any]) -> Test:
    """A condition tree as a function of a lead's fields, its constants parsed once."""
    if "all" in condition:
        return _all_of([compile_condition(c) for c in condition["all"]])
    if "any" in condition:
        return _any_of([compile_condition(c) for c in condition["any"]])
    if "not" in condition:
        inner = compile_condition(condition["not"])
        # The inner fact is the reason either way.
        return lambda fields: ConditionResult(not (outcome := inner(fields)).matched, outcome.why)
    return _leaf(condition["field"], condition["op"], condition.get("value"))


def evaluate(condition: Mapping[str, Any], lead: Mapping[str, Any]) -> ConditionResult:
    """Evaluate a condition tree against a lead's fields."""
    return compile_condition(condition)(_Fields(lead))


def _all_of(children: list[Test]) -> Test:
    def test(fields: _Fields) -> ConditionResult:
        reasons = []
        for child in children:
            outcome = child(fields)
            if not outcome.matched:
                return outcome
            reasons.append(outcome.why)
        return ConditionResult(True, " and ".join(reasons))

    return test


def _any_of(children: list[Test]) -> Test:
    def test(fields: _Fields) -> ConditionResult:
        reasons = []
        for child in children:
            outcome = child(fields)
            if outcome.matched:
                return outcome
            reasons.append(outcome.why)
        return ConditionResult(False, "; ".join(reasons) or "no alternatives")

    return test


def _leaf(field: str, op: str, expected: Any) -> Test:
    if op in PRESENCE_OPS:
        return _presence(field, op)
    compare = _comparison(op, expected)

    def test(fields: _Fields) -> ConditionResult:
        value, number, text = fields.get(field)
        if value is _MISSING or value is None:
            return ConditionResult(False, f"{field} is missing")
        return compare(f"{field} {_show(value)}", value, number, text)

    return test


def _presence(field: str, op: str) -> Test:
    def test(fields: _Fields) -> ConditionResult:
        blank = is_blank(fields.get(field)[0])
        if op == "blank":
            return ConditionResult(blank, f"{field} is {'blank' if blank else 'not blank'}")
        return ConditionResult(not blank, f"{field} is {'missing' if blank else 'given'}")

    return test


Comparison = Callable[[str, Any, "Decimal | None", str], ConditionResult]


def _comparison(op: str, expected: Any) -> Comparison:
    """How a present value is compared with `expected`; `shown` is "field value"."""
    shown_expected = _show(expected)
    if op in ("equals", "not_equals"):
        want_number, want_text = as_number(expected), as_text(expected)

        def equals(shown: str, _value: Any, number: Decimal | None, text: str) -> ConditionResult:
            both_numbers = number is not None and want_number is not None
            equal = number == want_number if both_numbers else text == want_text
            verb = "is" if equal else "is not"
            return ConditionResult(equal if op == "equals" else not equal, f"{shown} {verb} {shown_expected}")

        return equals
    if op in LIST_OPS:
        # Equality as `same` means it: numbers by value, anything else as folded text.
        numbers = {n for option in expected if (n := as_number(option)) is not None}
        texts = {as_text(option) for option in expected}
        non_numbers = {as_text(option) for option in expected if as_number(option) is None}

        def member(shown: str, _value: Any, number: Decimal | None, text: str) -> ConditionResult:
            found = (number in numbers or text in non_numbers) if number is not None else text in texts
            matched = found if op == "in" else not found
            return ConditionResult(matched, f"{shown} {'is' if found else 'is not'} in {shown_expected}")

        return member
    if op in NUMBER_OPS:
        bound = as_number(expected)
        holds = _NUMBER_TESTS[op]

        def compare(shown: str, _value: Any, number: Decimal | None, _text: str) -> ConditionResult:
            if number is None or bound is None:
                return ConditionResult(False, f"{shown} is not a number")
            matched = holds(number, bound)
            relation = _SYMBOL[op] if matched else f"not {_SYMBOL[op]}"
            return ConditionResult(matched, f"{shown} is {relation} {shown_expected}")

        return compare
    if op == "matches":
        try:
            pattern = compile_pattern(str(expected))
        except PatternError as error:  # a config stored before RE2: `config check` names it
            return _never(f"/{expected}/ cannot run ({error})")

        def matches(shown: str, value: Any, _number: Decimal | None, _text: str) -> ConditionResult:
            matched = pattern.search(_encodable(str(value))) is not None
            verb = "matches" if matched else "does not match"
            return ConditionResult(matched, f"{shown} {verb} /{expected}/")

        return matches
    text_test, want = _TEXT_TESTS[op], as_text(expected)
    said, denied = op.replace("_", " "), _DENIED[op]

    def text_compare(shown: str, _value: Any, _number: Decimal | None, text: str) -> ConditionResult:
        matched = text_test(text, want)
        return ConditionResult(matched, f"{shown} {said if matched else denied} {shown_expected}")

    return text_compare


def _never(reason: str) -> Comparison:
    return lambda shown, _value, _number, _text: ConditionResult(False, f"{shown} not tested: {reason}")


class PatternError(ValueError):
    """A `matches` pattern RE2 cannot run; the message says why in plain words."""


def compile_pattern(text: str) -> Any:
    """`text` as an RE2 pattern that ignores case, or PatternError in words."""
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # the error is ours to word, not RE2's to print on stderr
    try:
        return re2.compile(text, options)
    except re2.error as error:
        raise PatternError(_pattern_words(text, error)) from None


_LINEAR = "patterns must run in time linear in the field's length (RE2)"
_PERL_OPERATORS = (
    ("(?<=", "lookbehind `(?<=…)`"), ("(?<!", "negative lookbehind `(?<!…)`"),
    ("(?=", "lookahead `(?=…)`"), ("(?!", "negative lookahead `(?!…)`"),
    ("(?>", "an atomic group `(?>…)`"), ("(?P=", "a named backreference `(?P=…)`"),
    ("(?#", "a comment `(?#…)`"),
)


def _pattern_words(text: str, error: Exception) -> str:
    raw = error.args[0] if error.args else ""
    message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    kind, _, token = message.partition(": ")
    if kind == "invalid perl operator":
        for start, name in _PERL_OPERATORS:  # RE2 names the operator's first characters
            if start.startswith(token) and start in text:
                return f"{name} is not supported; {_LINEAR}"
    if kind == "invalid escape sequence" and token[1:2].isdigit():
        return f"a backreference `{token}` is not supported; {_LINEAR}"
    if kind == "invalid escape sequence" and token == "\\Z":
        return "`\\Z` is not supported; write `$` (or `\\z`) for the end of the text"
    if kind == "bad repetition operator" and token[-1:] == "+":
        return f"a possessive quantifier `{token}` is not supported; {_LINEAR}"
    if kind == "invalid repetition size":
        return f"a repetition count `{token}` is too large (at most 1000)"
    if "too large" in message:
        return "is too large a pattern to run; make it shorter or simpler"
    return f"is not a valid regular expression: {message}"


def _encodable(text: str) -> str:
    """RE2 reads UTF-8; a lone surrogate (JSON allows "\\ud800") becomes U+FFFD instead of an error."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


_NUMBER_TESTS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The team's rules compiled once, tried in order for every lead."""

    rules: tuple[tuple[str, str, Test | None], ...]  # (name, queue, condition or None for catch-all)

    def __bool__(self) -> bool:
        return bool(self.rules)


def compile_rules(rules: Sequence[Mapping[str, Any]]) -> RuleSet:
    compiled = []
    for rule in rules:
        when = rule.get("when")
        compiled.append((rule["name"], rule["queue"], None if when is None else compile_condition(when)))
    return RuleSet(tuple(compiled))


def first_match(rules: RuleSet | Sequence[Mapping[str, Any]], lead: Mapping[str, Any]) -> list[RuleResult]:
    """Try rules in order; the list ends with the first that matched (if any did)."""
    rule_set = rules if isinstance(rules, RuleSet) else compile_rules(rules)
    fields = _Fields(lead)
    tried: list[RuleResult] = []
    for name, queue, test in rule_set.rules:
        outcome = _CATCH_ALL if test is None else test(fields)
        tried.append(RuleResult(name, queue, outcome.matched, outcome.why))
        if outcome.matched:
            break
    return tried


_CATCH_ALL = ConditionResult(True, "catch-all")

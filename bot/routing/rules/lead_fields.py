"""What a lead may hold, checked the same way by every front end (HTTP intake, `rotation route`,
`rotation import`) before the core is called, so no database ever refuses a stored lead.
"""

from __future__ import annotations

import json
import math
import unicodedata
from decimal import Decimal
from typing import Any

from bot.routing.errors import RoutingError

MAX_ID_LENGTH = 200  # the leads table's key column
SCALARS = (str, int, float, bool)
UNSTORABLE = "contains a character that cannot be stored (a NUL, or half of a surrogate pair)."
MAX_INT_DIGITS = 4300  # Python's own limit on reading an integer from text
INVISIBLE = frozenset({"Cf", "Zs", "Zl", "Zp"})  # format characters (U+200B, U+FEFF) and separators


class LeadInvalid(RoutingError):
    """A lead that can never be stored. `malformed` marks a lead of the wrong shape, without an
    id or naming a field twice (HTTP's 400); anything else is a field of the wrong type or
    content (HTTP's 422)."""

    def __init__(self, message: str, *, malformed: bool = False) -> None:
        super().__init__(message)
        self.malformed = malformed


def read_json(text: str | bytes) -> Any:
    """JSON as every front end reads leads: no NaN or Infinity, and no key given twice in an
    object (parsers disagree on which one wins). ValueError says what is wrong (JSONDecodeError
    is one); RecursionError for nesting no lead has."""
    return json.loads(text, parse_constant=_no_constant, parse_int=_integer, object_pairs_hook=_unique_keys)


def _integer(digits: str) -> int:
    """An integer, in words past Python's limit (its own message is about `sys`)."""
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a number of over {MAX_INT_DIGITS} digits, more than any lead field holds")
    return int(digits)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fields = dict(pairs)
    if len(fields) < len(pairs):  # one pass to name it: a crafted body must not cost more
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {json.dumps(key)} is given twice")
            seen.add(key)
    return fields


def id_value(fields: dict[str, Any]) -> Any:
    """The value of the lead's `id`, named in any case (`ID`, `Id`); None without one."""
    if "id" in fields:
        return fields["id"]
    return next((value for name, value in fields.items() if name.lower() == "id"), None)


def id_text(text: str) -> str:
    """An id as given, without the invisible characters around it: spaces of any kind,
    line and paragraph separators, and format characters such as a zero-width space or a
    byte order mark. An id made only of those is "" (blank)."""
    start, end = 0, len(text)
    while start < end and _invisible(text[start]):
        start += 1
    while end > start and _invisible(text[end - 1]):
        end -= 1
    return text[start:end]


def _invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in INVISIBLE


def lead_id_of(fields: dict[str, Any]) -> str:
    """The contract's id rule: a non-empty string, or a number read as its decimal string."""
    raw = id_value(fields)
    if raw is None:
        raise RoutingError("The lead has no `id`: give each lead its source's id.")
    if isinstance(raw, bool):
        raise RoutingError("The lead's `id` must be a non-empty string or a number, not true/false.")
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float) and math.isfinite(raw):
        # The contract reads a number as its decimal string: 13.0 is "13", 12.5 is "12.5".
        return str(int(raw)) if raw.is_integer() else format(Decimal(repr(raw)), "f")
    if isinstance(raw, str) and id_text(raw):
        return id_text(raw)
    raise RoutingError("The lead's `id` must be a non-empty string or a number.")


def checked_lead(fields: dict[str, Any]) -> str:
    """The lead's id once every field is one we can store; `LeadInvalid` saying what is wrong."""
    check_names(fields)
    raw_id = id_value(fields)
    if raw_id is None or (isinstance(raw_id, str) and not id_text(raw_id)):
        raise LeadInvalid("The lead has no `id`: give each lead its source's id.", malformed=True)
    for name, value in fields.items():
        check_field(name, value)
    try:
        lead_id = lead_id_of(fields)
    except RoutingError as exc:  # present but of the wrong type
        raise LeadInvalid(str(exc)) from None
    if len(lead_id) > MAX_ID_LENGTH:
        raise LeadInvalid(f"The field `id` is longer than {MAX_ID_LENGTH} characters.")
    return lead_id


def check_names(fields: dict[str, Any]) -> None:
    """No two field names that differ only in case: names compare ignoring case everywhere
    (rules, messages, the id), so `Email` and `email` would be one field with two values."""
    seen: dict[str, str] = {}
    for name in fields:
        first = seen.setdefault(name.lower(), name)
        if first != name:
            raise LeadInvalid(f"`{_shown(first)}` and `{_shown(name)}` name the same field (field names "
                              "compare ignoring case): give it once.", malformed=True)


def _shown(name: str, limit: int = 60) -> str:
    text = name if storable(name) else ascii(name)[1:-1]
    return text if len(text) <= limit else text[:limit] + "…"


def check_field(name: str, value: Any) -> None:
    """One field: a storable name and a string, number, boolean or null value."""
    if not storable(name):
        raise LeadInvalid(f"The field name {name!a} {UNSTORABLE}")
    if value is not None and not isinstance(value, SCALARS):
        kind = "a list" if isinstance(value, list) else "an object"
        raise LeadInvalid(f"The field `{name}` is {kind}; lead fields must be strings, numbers, "
                          "booleans or null.")
    if isinstance(value, str) and not storable(value):
        raise LeadInvalid(f"The field `{name}` {UNSTORABLE}")
    if isinstance(value, float) and not math.isfinite(value):
        raise LeadInvalid(f"The field `{name}` is not a finite number.")


def storable(text: str) -> bool:
    """Whether every database we support keeps `text` as given.

    JSON may escape a NUL (PostgreSQL's text and jsonb refuse it) or half of a UTF-16
    surrogate pair (no UTF-8 encoding exists for it); such a lead could never be stored,
    so it is refused now rather than failing in the database.
    """
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

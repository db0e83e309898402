"""From one payload to a lead's fields: the payload's top-level scalars, then the kind's
default mapping, then the source's `fields` (JMESPath expressions), each replacing what came
before under the same name (names compare ignoring case, as everywhere).

A path that finds nothing leaves its field out. A path that finds a list of values gives
them joined with ", " (checkboxes, tags); one that finds an object is a mapping mistake and
the payload is parked saying which field.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

SCALARS = (str, int, float, bool)


class Unmappable(Exception):
    """A payload that cannot be made into a lead; `str()` is the reason parked with it."""


@lru_cache(maxsize=1024)
def compiled(path: str) -> ParsedResult:
    return jmespath.compile(path)


def objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a list a payload should hold (anything else there: none), so a payload
    of an unexpected shape maps to fewer fields instead of failing."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def top_level_scalars(payload: Mapping[str, Any]) -> dict[str, Any]:
    """What a payload says at its top level that a lead can hold (objects and lists are left
    for the mapping: never refused)."""
    return {key: value for key, value in payload.items() if value is None or isinstance(value, SCALARS)}


def value_of(name: str, found: Any) -> Any:
    """A value a path found, as a lead field holds it; None for nothing found."""
    if found is None or isinstance(found, SCALARS):
        return found
    if isinstance(found, list) and all(item is None or isinstance(item, SCALARS) for item in found):
        values = [str(item) for item in found if item is not None and str(item) != ""]
        return ", ".join(values) if values else None
    kind = "a list of objects" if isinstance(found, list) else "an object"
    raise Unmappable(f"the path for `{name}` finds {kind}, not a value; point it at one value inside")


def merged(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Later layers win; a name given again in another case replaces the earlier one."""
    fields: dict[str, Any] = {}
    names: dict[str, str] = {}
    for layer in layers:
        for name, value in layer.items():
            earlier = names.get(name.lower())
            if earlier is not None:
                del fields[earlier]
            names[name.lower()] = name
            fields[name] = value
    return fields


def mapped(payload: Any, paths: Mapping[str, str]) -> tuple[dict[str, Any], set[str]]:
    """The fields `paths` find in `payload`, and the names whose path found nothing (they
    are taken out of the lead, whatever the default said)."""
    found: dict[str, Any] = {}
    missing: set[str] = set()
    for name, path in paths.items():
        try:
            value = value_of(name, compiled(path).search(payload))
        except JMESPathError as error:
            raise Unmappable(f"the path for `{name}` ({path}) cannot be applied here: {error}") from None
        if value is None:
            missing.add(name.lower())
        else:
            found[name] = value
    return found, missing


def lead_fields(payload: Mapping[str, Any], defaults: Mapping[str, Any],
                paths: Mapping[str, str]) -> dict[str, Any]:
    """The lead one payload makes (see the module's doc); raises Unmappable."""
    overrides, missing = mapped(payload, paths)
    fields = merged(top_level_scalars(payload), defaults, overrides)
    return {name: value for name, value in fields.items() if name.lower() not in missing}

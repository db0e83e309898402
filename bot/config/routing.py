"""Load and check a routing config file, reporting every mistake with its place.

Errors read like ``routing.yaml:23: queues[1].members[0].weight: must be > 0``: the
line comes from the YAML parser's marks, the path from pydantic and our own checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.config.problems import ConfigProblem
from bot.config.rule_coverage import rule_warnings
from bot.config.schema import RoutingConfig
from bot.config.shares import share_problems
from bot.routing.assignment.router import MAX_FALLBACKS
from bot.routing.rules.matching import (
    COMBINATORS,
    LIST_OPS,
    NUMBER_OPS,
    OPERATORS,
    PRESENCE_OPS,
    PatternError,
    as_number,
    compile_pattern,
)

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class CheckedConfig:
    """A valid config, and what a check has to say about it all the same: warnings (it will
    likely not do what was meant) and notes (how something loosely written was read)."""

    config: RoutingConfig
    remarks: list[ConfigProblem]
    source: str = "config"

    @property
    def warnings(self) -> list[ConfigProblem]:
        return [remark for remark in self.remarks if remark.level == "warning"]


class ConfigInvalid(Exception):
    def __init__(self, problems: list[ConfigProblem], source: str = "config") -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(p.render(source) for p in problems))


def render_path(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def load_file(path: str | Path) -> RoutingConfig:
    """The config in the file; raise ConfigInvalid listing every problem found."""
    return check_file(path).config


def check_file(path: str | Path) -> CheckedConfig:
    """The config in the file with its warnings and notes; raise ConfigInvalid on errors."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigInvalid(
            [ConfigProblem("", f"cannot read the file: {error.strerror}")], str(file)
        ) from None
    except UnicodeDecodeError as error:
        raise ConfigInvalid([not_utf8(error)], str(file)) from None
    return check_text(text, str(file))


def not_utf8(error: UnicodeDecodeError) -> ConfigProblem:
    """Where a file stops being UTF-8 text, as a problem located on its line."""
    line = error.object[: error.start].count(b"\n") + 1
    byte = error.object[error.start]
    message = f"not UTF-8 text (byte 0x{byte:02x} at line {line}); save the file as UTF-8"
    return ConfigProblem("", message, line)


def load_text(text: str, source: str = "config") -> RoutingConfig:
    """Parse and validate; raise ConfigInvalid listing every problem found."""
    return check_text(text, source).config


def check_text(text: str, source: str = "config") -> CheckedConfig:
    """Parse and validate, with warnings and notes; raise ConfigInvalid listing every error."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None and _expanded_size(node, {}) > MAX_EXPANDED_VALUES:
            raise ConfigInvalid([ConfigProblem("", (
                f"its anchors and aliases (`&name`, `*name`) expand to over {MAX_EXPANDED_VALUES:,} "
                "values; no routing config is that large (is it an alias bomb?)"), 1)], source)
        raw = yaml.safe_load(text)
    except RecursionError:
        raise ConfigInvalid([ConfigProblem("", "it is nested too deeply to be a routing config", 1)],
                            source) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigInvalid([ConfigProblem("", f"not valid YAML: {problem}", line)], source) from None
    lines = dict(_lines(node, ())) if node is not None else {}
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigInvalid([ConfigProblem("", "the config must be a mapping of keys", 1)], source)
    problems = [
        *(_duplicate_keys(node, ()) if node is not None else ()),
        *_schema_problems(raw),
        *_condition_problems(raw),
        *_reference_problems(raw),
        *_emptiness_problems(raw),
    ]
    located = sorted((p if p.line else _locate(p, lines) for p in problems), key=lambda p: p.line or 0)
    errors = [p for p in located if p.level == "error"]
    if errors:
        raise ConfigInvalid(errors, source)
    remarks = [*rule_warnings(raw, lines), *(p for p in located if p.level != "error")]
    return CheckedConfig(RoutingConfig.model_validate(raw), remarks, source)


# A team of 1,000 members seated in 120 queues each is about 600,000 values written out.
MAX_EXPANDED_VALUES = 2_000_000


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values `node` stands for once every alias is expanded, counted without
    expanding them: each node's size is computed once (`sizes`, by node id), so a 300-byte
    file of nested aliases that expands to billions is measured in microseconds.
    The checks after this walk the tree as if expanded; this keeps them from doing so."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = 1  # a recursive alias (`&a [*a]`) counts once; YAML refuses it later anyway
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(item, sizes) for item in node.value)
    else:
        size = 1
    sizes[id(node)] = size
    return size


def _schema_problems(raw: dict[str, Any]) -> list[ConfigProblem]:
    try:
        RoutingConfig.model_validate(raw)
    except ValidationError as error:
        return [ConfigProblem(render_path(tuple(e["loc"])), _plain(e)) for e in error.errors()]
    return []


def _plain(error: Any) -> str:
    """Pydantic's messages, in the words a config author expects."""
    kind, ctx = error["type"], error.get("ctx", {})
    messages: dict[str, Callable[[], str]] = {
        "greater_than": lambda: f"must be > {ctx.get('gt')}",
        "greater_than_equal": lambda: f"must be ≥ {ctx.get('ge')}",
        "less_than_equal": lambda: f"must be ≤ {ctx.get('le')}",
        "missing": lambda: "is required",
        "extra_forbidden": lambda: "is not a known key (check the spelling)",
        "string_type": lambda: "must be text",
        "int_parsing": lambda: "must be a whole number",
        "int_type": lambda: "must be a whole number",
        "bool_parsing": lambda: "must be true or false",
        "bool_type": lambda: "must be true or false",
        "list_type": lambda: "must be a list",
        "dict_type": lambda: "must be a mapping",
        "model_type": lambda: "must be a mapping",
        "literal_error": lambda: f"must be one of {ctx.get('expected')}",
        "string_pattern_mismatch": lambda: (
            f"{error.get('input')!r} does not look right (expected pattern {ctx.get('pattern')})"
        ),
        "string_too_short": lambda: "must not be empty",
        "string_too_long": lambda: f"must be at most {ctx.get('max_length')} characters",
        "value_error": lambda: str(ctx.get("error", error["msg"])),
    }
    make = messages.get(kind)
    if kind in ("string_pattern_mismatch",) and error["loc"] and error["loc"][-1] == "slack_id":
        return f"{error.get('input')!r} is not a Slack user id like U0123ABCD"
    if kind in ("string_pattern_mismatch",) and error["loc"] and error["loc"][-1] == "channel":
        return f"{error.get('input')!r} is not a Slack channel id like C0123ABCD"
    return make() if make else str(error["msg"])


def _condition_problems(raw: dict[str, Any]) -> Iterator[ConfigProblem]:
    rules = raw.get("rules")
    if not isinstance(rules, list):
        return
    for index, rule in enumerate(rules):
        if isinstance(rule, dict) and rule.get("when") is not None:
            yield from _check_condition(rule["when"], ("rules", index, "when"))


def _check_condition(node: Any, path: Path_) -> Iterator[ConfigProblem]:
    where = render_path(path)
    if not isinstance(node, dict):
        yield ConfigProblem(
            where, "a condition must be a mapping like {field: country, op: equals, value: GB}"
        )
        return
    combinators = [key for key in COMBINATORS if key in node]
    if combinators:
        if len(node) != 1:
            yield ConfigProblem(where, f"{combinators[0]} must stand alone in its mapping")
            return
        key = combinators[0]
        if key == "not":
            yield from _check_condition(node["not"], (*path, "not"))
        elif not isinstance(node[key], list) or not node[key]:
            yield ConfigProblem(render_path((*path, key)), "must be a non-empty list of conditions")
        else:
            for index, child in enumerate(node[key]):
                yield from _check_condition(child, (*path, key, index))
        return
    unknown = set(node) - {"field", "op", "value"}
    if unknown:
        yield ConfigProblem(
            where,
            f"unknown key {sorted(unknown)[0]!r}; a condition has field, op "
            "and value, or one of all / any / not",
        )
    field, op = node.get("field"), node.get("op")
    if not isinstance(field, str) or not field.strip():
        yield ConfigProblem(render_path((*path, "field")), "is required (the lead field to test)")
    if op not in OPERATORS:
        yield ConfigProblem(
            render_path((*path, "op")),
            f"{op!r} is not an operator; use one of {', '.join(sorted(OPERATORS))}",
        )
        return
    value_path = render_path((*path, "value"))
    value = node.get("value")
    if op in PRESENCE_OPS:
        if "value" in node:
            yield ConfigProblem(value_path, f"{op} takes no value")
    elif "value" not in node or value is None:
        yield ConfigProblem(value_path, f"is required for {op}")
    elif op in LIST_OPS and not (isinstance(value, list) and value):
        yield ConfigProblem(value_path, f"{op} needs a non-empty list, like [GB, DE]")
    elif op in NUMBER_OPS and as_number(value) is None:
        yield ConfigProblem(value_path, f"{op} compares numbers; {value!r} is not a number")
    elif op == "matches" and not isinstance(value, list | dict):
        try:
            compile_pattern(str(value))  # the engine rules run on: RE2, linear time
        except PatternError as error:
            yield ConfigProblem(value_path, str(error))
    elif op not in LIST_OPS and isinstance(value, list | dict):
        yield ConfigProblem(value_path, f"{op} compares one value, not a list (use in / not_in)")


def _emptiness_problems(raw: dict[str, Any]) -> Iterator[ConfigProblem]:
    """Applying a config with no queues would take every queue out of the rotation at once.

    Rules may be missing (leads then wait as unassigned, each saying why, and a check
    warns), which lets a team load its members and queues before it writes its rules.
    """
    if not raw.get("queues"):
        yield ConfigProblem("queues", "at least one queue is needed, or no lead can be routed")


def _items(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The entries of a list section as mappings (anything else as {}), positions kept."""
    value = raw.get(key)
    return [item if isinstance(item, dict) else {} for item in value] if isinstance(value, list) else []


def _reference_problems(raw: dict[str, Any]) -> Iterator[ConfigProblem]:
    """Cross-references, checked on the raw file so they are reported with the shape errors."""
    members, queues, rules = _items(raw, "members"), _items(raw, "queues"), _items(raw, "rules")
    member_ids: dict[str, int] = {}
    for index, member in enumerate(members):
        slack_id = member.get("slack_id")
        if isinstance(slack_id, str) and slack_id in member_ids:
            yield ConfigProblem(
                f"members[{index}].slack_id",
                f"{slack_id} is listed twice (also members[{member_ids[slack_id]}])",
            )
        if isinstance(slack_id, str):
            member_ids.setdefault(slack_id, index)
    queue_names: dict[str, int] = {}
    for index, queue in enumerate(queues):
        name = queue.get("name")
        if isinstance(name, str) and name in queue_names:
            yield ConfigProblem(f"queues[{index}].name", f"queue {name!r} is defined twice")
        if isinstance(name, str):
            queue_names.setdefault(name, index)
    by_name = {queue.get("name"): queue for queue in queues}
    for index, queue in enumerate(queues):
        yield from _queue_problems(by_name, index, queue, member_ids, queue_names)
    for index, rule in enumerate(rules):
        target = rule.get("queue")
        if isinstance(target, str) and target not in queue_names:
            yield ConfigProblem(f"rules[{index}].queue", f"there is no queue named {target!r}")
    catch_alls = [i for i, rule in enumerate(rules) if rule and rule.get("when") is None]
    if catch_alls and catch_alls[0] != len(rules) - 1:
        following = rules[catch_alls[0] + 1].get("name", "the next rule")
        yield ConfigProblem(
            f"rules[{catch_alls[0]}]",
            f"this catch-all (no `when`) comes before {following!r}, which can never match",
        )


def _queue_problems(
    by_name: dict[Any, dict[str, Any]],
    index: int,
    queue: dict[str, Any],
    member_ids: dict[str, int],
    queue_names: dict[str, int],
) -> Iterator[ConfigProblem]:
    where = f"queues[{index}]"
    seats = [seat if isinstance(seat, dict) else {} for seat in queue.get("members") or []]
    seen: set[str] = set()
    for position, seat in enumerate(seats):
        slack_id = seat.get("slack_id")
        if not isinstance(slack_id, str):
            continue
        if slack_id not in member_ids:
            yield ConfigProblem(
                f"{where}.members[{position}].slack_id", f"{slack_id} is not in the members list"
            )
        if slack_id in seen:
            yield ConfigProblem(f"{where}.members[{position}].slack_id", f"{slack_id} is in this queue twice")
        seen.add(slack_id)
    yield from share_problems(where, seats)
    fallback = queue.get("fallback")
    if isinstance(fallback, str):
        if fallback not in queue_names:
            yield ConfigProblem(f"{where}.fallback", f"there is no queue named {fallback!r}")
        elif (problem := _fallback_problem(by_name, queue.get("name"))) is not None:
            yield ConfigProblem(f"{where}.fallback", problem)


def _fallback_problem(by_name: dict[Any, dict[str, Any]], start: Any) -> str | None:
    """What is wrong with the fallback chain from `start`: a circle back to it, or more
    queues than a lead ever tries (the router stops after MAX_FALLBACKS, and would say
    nothing was available where a later queue had someone). A walk of MAX_FALLBACKS steps
    at most, so thousands of queues are checked in linear time."""
    seen, name = [start], by_name[start].get("fallback")
    while isinstance(name, str) and name in by_name:
        if name == start:
            return "fallbacks go round in a circle back to this queue"
        if name in seen:  # a circle further along: it is named at its own queues
            return None
        seen.append(name)
        if len(seen) > MAX_FALLBACKS:
            return (f"a lead tries at most {MAX_FALLBACKS} queues (this one and {MAX_FALLBACKS - 1} "
                    "fallbacks), and this chain of fallbacks is longer")
        name = by_name[name].get("fallback")
    return None


def _duplicate_keys(node: yaml.Node, path: Path_) -> Iterator[ConfigProblem]:
    """A key given twice in one mapping: YAML would keep the last silently, so it is a mistake.

    Keys brought in by a merge (`<<: *defaults`) may be overridden; only written keys count.
    """
    if isinstance(node, yaml.MappingNode):
        first_line: dict[tuple[str, str], int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                line = key.start_mark.line + 1
                if (key.tag, key.value) in first_line:
                    yield ConfigProblem(
                        render_path((*path, key.value)),
                        f"is given twice (first at line {first_line[key.tag, key.value]}); "
                        "keep one, YAML would silently use the last",
                        line,
                    )
                first_line.setdefault((key.tag, key.value), line)
            yield from _duplicate_keys(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*path, index))


def _lines(node: yaml.Node, path: Path_) -> Iterator[tuple[str, int]]:
    yield render_path(path), node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield render_path((*path, key.value)), key.start_mark.line + 1
            yield from _lines(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _lines(item, (*path, index))


def _locate(problem: ConfigProblem, lines: dict[str, int]) -> ConfigProblem:
    path = problem.path
    while path:
        if path in lines:
            return problem.at(lines[path])
        parent = re.sub(r"(\.?[^.\[\]]+|\[\d+\])$", "", path)
        if parent == path:
            break
        path = parent
    return problem

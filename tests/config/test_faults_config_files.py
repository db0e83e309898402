"""Attacks on `config check` with hostile files: alias bombs, deep nesting, endless fallbacks."""

from __future__ import annotations

import pytest
import yaml

from bot.config.routing import ConfigInvalid, load_text
from bot.routing.assignment.router import MAX_FALLBACKS

MEMBERS = "members: [{slack_id: U01A, name: A}]\n"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        load_text(text, "routing.yaml")
    return [p.render("routing.yaml") for p in caught.value.problems]


def alias_bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + f"\nmembers: *a{levels}\n"


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    """300 bytes that expand to 9^10 values (the old check took 20 s and 861 MB at 9^7)."""
    [found] = problems(alias_bomb(9))
    assert found.startswith("routing.yaml:1:") and "alias bomb" in found


def test_anchors_and_aliases_of_a_normal_size_still_work() -> None:
    text = MEMBERS + (
        "queues:\n  - {name: a, members: [&seat {slack_id: U01A, weight: 2}]}\n"
        "  - {name: b, members: [*seat]}\nrules: [{name: all, queue: a}]\n")
    config = load_text(text)
    assert [q.members[0].weight for q in config.queues] == [2, 2]


def test_nesting_thousands_deep_is_one_located_problem() -> None:
    assert problems("members: " + "[" * 5000 + "]" * 5000 + "\n") == [
        "routing.yaml:1: it is nested too deeply to be a routing config"]


def chain(length: int, *, circle: bool = False) -> str:
    queues = [{"name": f"q{i}", "members": [{"slack_id": "U01A"}],
               **({"fallback": f"q{i + 1}"} if i + 1 < length else {"fallback": "q0"} if circle else {})}
              for i in range(length)]
    return yaml.safe_dump({"members": [{"slack_id": "U01A", "name": "A"}], "queues": queues,
                           "rules": [{"name": "all", "queue": "q0"}]}, sort_keys=False)


def test_a_fallback_chain_longer_than_a_lead_tries_is_refused_at_its_queue() -> None:
    """The router tries MAX_FALLBACKS queues and then says nobody was available."""
    load_text(chain(MAX_FALLBACKS))
    found = problems(chain(MAX_FALLBACKS + 1))
    assert found and all("at most 10 queues" in p for p in found)
    assert "queues[0].fallback" in found[0]


def test_thousands_of_chained_queues_are_checked_and_each_long_chain_named() -> None:
    found = problems(chain(3000))
    assert len(found) == 3000 - MAX_FALLBACKS
    assert all("fallback" in p for p in found)


def test_a_circle_of_fallbacks_is_still_named() -> None:
    found = problems(chain(3, circle=True))
    assert len(found) == 3 and all("circle" in p for p in found)

"""The dependency direction of the design: the core and the store know nothing of Slack or HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
FORBIDDEN = ("slack_bolt", "slack_sdk", "aiohttp", "bot.slack", "bot.web", "bot.jobs", "bot.delivery")


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            # `from bot.routing import audit` imports the module bot.routing.audit
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("package", ["routing", "store"])
def test_core_never_imports_slack_or_http(package: str) -> None:
    files = sorted((BOT / package).rglob("*.py"))
    assert files
    for path in files:
        leaks = [name for name in imports_of(path) if name.startswith(FORBIDDEN)]
        assert not leaks, f"{path.relative_to(BOT.parent)} imports {leaks}"


def test_the_check_itself_catches_a_leak(tmp_path: Path) -> None:
    sample = tmp_path / "leaky.py"
    sample.write_text("from slack_sdk import WebClient\nimport aiohttp.web\n")
    assert {"slack_sdk", "aiohttp.web"} <= imports_of(sample)


# The core's rooms, lowest first: a module may import from its own room and the ones before it,
# never from one after it, so every call goes down (front end -> a service -> assignment ->
# ledger -> availability -> fairness -> rules; all of them may write the base's outbox).
# The services (each room's `service.py`, `transactions.py`, and `bot/routing/service.py`)
# sit above every room: they open transactions and call down.
LAYERS = ("base", "rules", "team", "fairness", "availability", "ledger", "assignment", "admin", "services")
BASE = {"errors", "results", "events", "clock", "audit", "outbox"}


def layer_of(module: str) -> str | None:
    """Which layer a `bot.routing…` module name (or a file's dotted path) is in."""
    parts = module.split(".")
    if parts[:2] != ["bot", "routing"] or len(parts) < 3:
        return None
    if parts[-1] == "service" or parts[2] == "transactions":
        return "services"
    if parts[2] in BASE:
        return "base"
    return parts[2] if parts[2] in LAYERS else None


def routing_modules() -> list[tuple[str, Path]]:
    root = BOT / "routing"
    return [(".".join(("bot", "routing", *path.relative_to(root).with_suffix("").parts)), path)
            for path in sorted(root.rglob("*.py")) if path.name != "__init__.py"]


def test_every_module_of_the_core_is_in_a_layer() -> None:
    modules = routing_modules()
    assert len(modules) > 30
    assert [name for name, _ in modules if layer_of(name) is None] == []


def test_the_core_only_calls_downward() -> None:
    upward = []
    for name, path in routing_modules():
        own = LAYERS.index(layer_of(name) or "")
        for imported in imports_of(path):
            other = layer_of(imported)
            if other is not None and LAYERS.index(other) > own:
                upward.append(f"{name} ({LAYERS[own]}) imports {imported} ({other})")
    assert upward == []


def test_the_layers_check_catches_an_upward_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from bot.routing import audit\nfrom bot.routing.admin import roster\n")
    assert {"bot.routing.audit", "bot.routing.admin.roster"} <= imports_of(sample)
    assert layer_of("bot.routing.rules.matching") == "rules"
    assert layer_of("bot.routing.ledger.service") == "services"
    assert LAYERS.index(layer_of("bot.routing.assignment.router") or "") > LAYERS.index("ledger")

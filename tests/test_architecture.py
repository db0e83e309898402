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

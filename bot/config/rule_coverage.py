"""Warnings for a config whose rules leave leads with no queue.

Such a config applies (a team may load its members and queues before it writes its
rules), but every lead that no rule matches waits unassigned until someone routes it
by hand, which is rarely what a first config means. So `config check` and `config apply`
say so, and say the one line that fixes it.
"""

from __future__ import annotations

from typing import Any

from bot.config.problems import ConfigProblem

CATCH_ALL_NAMES = ("general", "everyone", "all", "default")  # a queue by these names is the likely one


def rule_warnings(raw: dict[str, Any], lines: dict[str, int]) -> list[ConfigProblem]:
    """No rules at all, or no catch-all rule (one without `when`) for what the others miss."""
    rules = raw.get("rules")
    if not isinstance(rules, list):
        rules = []
    queue = _likely_catch_all_queue(raw)
    line = lines.get("rules")
    if not rules:
        return [ConfigProblem(
            "", f"no rules: every lead will wait unassigned; add a catch-all rule "
            f"`- {{name: everyone, queue: {queue}}}`", line, "warning")]
    if not any(isinstance(rule, dict) and rule.get("when") is None for rule in rules):
        return [ConfigProblem(
            "", "no catch-all rule (one with no `when`): a lead that no rule matches will wait "
            f"unassigned; add one as the last rule, like `- {{name: everyone else, queue: {queue}}}`",
            line, "warning")]
    return []


def _likely_catch_all_queue(raw: dict[str, Any]) -> str:
    queues = raw.get("queues")
    listed = [q.get("name") for q in queues if isinstance(q, dict)] if isinstance(queues, list) else []
    names: list[str] = [name for name in listed if isinstance(name, str)]
    for name in CATCH_ALL_NAMES:
        if name in names:
            return name
    return names[0] if names else "general"

"""A route decision's explanation (see `bot.routing.assignment.explain`) as lines for a terminal.

`rotation route --explain` prints these under the one-line summary: why each rule tried
before the winner failed, and every candidate's numbers or the reason they were left
out, which the summary only tells about the winner.
"""

from __future__ import annotations

from typing import Any


def explanation_lines(explanation: dict[str, Any], *, indent: str = "") -> list[str]:
    """Every rule's verdict, in the order tried, then every candidate, then the tie-break."""
    lines = [*rule_lines(explanation.get("rules", [])), *candidate_lines(explanation)]
    if explanation.get("tie_break"):
        lines.append(f"Tie-break: {explanation['tie_break']}.")
    return [indent + line for line in lines]


def rule_lines(rules: list[dict[str, Any]]) -> list[str]:
    if not rules:
        return ["Rules: none were tried (the config has none)."]
    lines = ["Rules, in order (the first that matches wins):"]
    for number, rule in enumerate(rules, 1):
        verdict = "MATCHED" if rule.get("matched") else "no match"
        lines.append(f"  {number}. {rule.get('name')} → {rule.get('queue')}: {verdict} ({rule.get('why')})")
    matched = next((rule for rule in rules if rule.get("matched")), None)
    if matched is not None:
        lines.append(f"  (rules after “{matched.get('name')}”, if any, were not tried)")
    return lines


def candidate_lines(explanation: dict[str, Any]) -> list[str]:
    queue = explanation.get("queue")
    if queue is None:
        return ["Candidates: none (no queue was chosen)."]
    candidates = explanation.get("candidates", [])
    if not candidates:
        return [f"Candidates in {queue}: none (the queue has no members)."]
    lines = [f"Candidates in {queue} ({explanation.get('strategy')}):"]
    lines += [f"  {_candidate(row)}" for row in candidates]
    hidden = explanation.get("others_not_shown") or 0
    if hidden:
        lines.append(f"  … and {hidden} more not shown (none close to winning, nor the first left out).")
    return lines


def _candidate(row: dict[str, Any]) -> str:
    who = f"{row.get('name')} ({row.get('slack_id')})"
    if row.get("excluded"):
        return f"{who}: left out, {row['excluded']}"
    verdict = "WINNER" if row.get("winner") else "eligible"
    adjustment = row.get("adjustment") or 0
    adjusted = f", adjustment {adjustment:+}" if adjustment else ""
    return (f"{who}: {verdict}; received {row.get('count')}{adjusted}, lag {float(row.get('lag', 0)):+.2f}, "
            f"weight {row.get('weight')}")

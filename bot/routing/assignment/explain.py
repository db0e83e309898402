"""Explanations: every decision as data (stored with the lead) and as a paragraph.

The data lists the rules tried, each candidate's numbers or the reason they were left
out, the winner and the tie-break; the summary turns it into words a rep would accept.
"""

from __future__ import annotations

import heapq
import itertools
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any

from bot.routing.fairness import STRATEGIES
from bot.routing.fairness.weights import describe_weight
from bot.routing.ledger.queues import OpenQueue, SeatInfo
from bot.routing.rules.matching import RuleResult

# Large queues: the explanation keeps the winner, the closest contenders and the
# first exclusions, and counts the rest, so one lead never stores a thousand rows.
MAX_CANDIDATES = 12


class DecidedBy(StrEnum):
    """Who chose the winner: the queue's strategy, an account's sticky owner, or a manager."""

    STRATEGY = "strategy"
    STICKY = "sticky"
    MANAGER = "manager"


# How a lead offered again came to its queue (the offer's cause), in place of the rule sentence.
REOFFERED = {
    "pass": "The lead was passed on, so it was offered again in the {queue} queue.",
    "sla": "The lead was not accepted in time, so it was offered again in the {queue} queue.",
    "pending": "The lead was waiting in the {queue} queue for someone available.",
    "reassign": "A manager reassigned the lead (it counts in the {queue} queue).",
}


def rules_part(tried: list[RuleResult]) -> list[dict[str, Any]]:
    return [{"name": r.name, "queue": r.queue, "matched": r.matched, "why": r.why} for r in tried]


def candidate(info: SeatInfo, lag: Fraction | float, excluded: str | None) -> dict[str, Any]:
    """One candidate's row; the exact lag is kept where the decision computed it."""
    row = {
        "slack_id": info.slack_id,
        "name": info.name,
        "weight": describe_weight(info.seat.weight),
        "count": info.seat.received,
        "adjustment": info.seat.adjustment,
        "lag": round(float(lag), 3),
        "eligible": excluded is None,
        "excluded": excluded,
    }
    if isinstance(lag, Fraction):
        row["lag_exact"] = f"{lag.numerator}/{lag.denominator}"
    return row


def candidates_part(
    opened: OpenQueue,
    eligible: list[SeatInfo],
    excluded: dict[int, str],
    winner: SeatInfo | None,
    lags: dict[int, Fraction] | None = None,
    approx: dict[int, float] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    rotation = opened.rotation
    known = lags or {}
    vtime = float(rotation.vtime)

    def lag(info: SeatInfo) -> Fraction | float:
        """Exact where the choice compared it exactly; shown to 3 places, a float does elsewhere."""
        exact = known.get(info.seat.id)
        if exact is not None:
            return exact
        rough = floats.get(info.seat.id)
        return info.seat.approx_lag(vtime) if rough is None else rough

    # Rank by the float lag (cheap, and usually already computed by the choice).
    floats = approx or {s.seat.id: s.seat.approx_lag(vtime) for s in eligible}
    contenders = heapq.nsmallest(
        MAX_CANDIDATES, eligible, key=lambda s: (s is not winner, -floats[s.seat.id], s.seat.id)
    )
    room = max(0, MAX_CANDIDATES - len(contenders))  # `excluded` is in seat order: its first ones
    left_out = [opened.by_seat_id(seat_id) for seat_id in itertools.islice(excluded, room)]
    rows = [candidate(s, lag(s), None) | {"winner": s is winner} for s in contenders]
    rows += [candidate(s, lag(s), excluded[s.seat.id]) | {"winner": False} for s in left_out]
    return rows, len(opened.seats) - len(rows)


def decision(
    *,
    tried: list[RuleResult],
    opened: OpenQueue | None,
    eligible: list[SeatInfo],
    excluded: dict[int, str],
    winner: SeatInfo | None,
    tie_break: str | None,
    strategy: str,
    route_notes: list[str],
    at: datetime,
    unassigned_reason: str | None = None,
    lags: dict[int, Fraction] | None = None,
    approx: dict[int, float] | None = None,
    decided_by: DecidedBy = DecidedBy.STRATEGY,
    cause: str = "new",
    contenders: list[SeatInfo] | None = None,
) -> dict[str, Any]:
    """The decision as data, with its summary; `cause` is why the lead was offered (new, pass,
    sla, pending, reassign) and `decided_by` who chose among the available. `contenders`, when
    the choice already named the seats worth showing (the lag index), are ranked instead of
    every eligible seat; `available` still counts them all."""
    rows, hidden = ([], 0) if opened is None else candidates_part(
        opened, eligible if contenders is None else contenders, excluded, winner, lags, approx
    )
    explanation: dict[str, Any] = {
        "rules": rules_part(tried),
        "queue": opened.info.name if opened else None,
        "strategy": strategy,
        "decided_by": decided_by.value,
        "cause": cause,
        "available": len(eligible),
        "candidates": rows,
        "others_not_shown": hidden,
        "winner": None if winner is None else {"slack_id": winner.slack_id, "name": winner.name},
        "tie_break": tie_break,
        "notes": route_notes,
        "decided_at": at.isoformat(),
    }
    explanation["summary"] = summarize(explanation, unassigned_reason)
    return explanation


def summarize(explanation: dict[str, Any], unassigned_reason: str | None = None) -> str:
    """A short paragraph: which rule, which queue, why this person, who was left out."""
    parts: list[str] = []
    matched = next((r for r in explanation["rules"] if r["matched"]), None)
    reoffered = REOFFERED.get(explanation.get("cause") or "new")
    if reoffered is not None and explanation.get("queue"):
        parts.append(reoffered.format(queue=explanation["queue"]))
    elif matched is not None:
        why = "" if matched["why"] == "catch-all" else f" ({matched['why']})"
        kind = ("The catch-all rule" if matched["why"] == "catch-all" else "Rule") + f" “{matched['name']}”"
        parts.append(f"{kind} matched{why}, so the lead went to the {matched['queue']} queue.")
    parts.extend(explanation.get("notes", []))
    winner = explanation.get("winner")
    candidates = explanation.get("candidates", [])
    if winner is not None:
        row = next((c for c in candidates if c.get("winner")), None)
        parts.append(_winner_sentence(explanation, winner["name"], row))
        if explanation.get("tie_break"):
            parts.append(f"Tie-break: {explanation['tie_break']}.")
    elif unassigned_reason:
        parts.append(f"Nobody got it: {unassigned_reason}.")
    left_out = [c for c in candidates if c.get("excluded")]
    if left_out:
        listed = "; ".join(f"{c['name']} was {c['excluded']}" for c in left_out[:5])
        more = f" (and {len(left_out) - 5} more)" if len(left_out) > 5 else ""
        parts.append(f"Not considered: {listed}{more}.")
    return " ".join(parts)


def _winner_sentence(explanation: dict[str, Any], name: str, row: dict[str, Any] | None) -> str:
    """Why the winner: the strategy's own sentence (each strategy explains its pick, see
    `bot.routing.fairness`), unless a sticky owner or a manager chose (their note says why)."""
    decided_by = explanation.get("decided_by", DecidedBy.STRATEGY)
    if decided_by == DecidedBy.STICKY:
        return f"{name} got it as the account's owner, whatever the rotation's turn."
    if decided_by == DecidedBy.MANAGER:
        return f"{name} got it because a manager chose them, whatever the rotation's turn."
    strategy = STRATEGIES.get(explanation["strategy"])
    if strategy is None:  # the config refuses such a name: a strategy added but not registered
        raise LookupError(f"no strategy named {explanation['strategy']!r} is registered")
    if row is None:
        return f"{name} got it."
    available = explanation.get("available")
    if available is None:  # counted from the rows shown
        available = sum(1 for c in explanation.get("candidates", []) if c.get("eligible"))
    return strategy.winner_sentence(name, row, available)

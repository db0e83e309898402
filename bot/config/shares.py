"""A queue's shares: they make 100%, as written or within rounding, and a check says how
they were read; when they are further off, the error says what was probably meant."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from bot.config.problems import ConfigProblem
from bot.routing.fairness.weights import (
    MAX_WEIGHT,
    WeightError,
    percent_words,
    read_shares,
    share_percent,
    shares_add_up,
    whole_weights,
)


def share_problems(where: str, seats: list[dict[str, Any]]) -> Iterator[ConfigProblem]:
    """Errors for shares that do not make 100%, a note for shares read within rounding."""
    shares = [seat.get("share") for seat in seats if seat.get("share") is not None]
    if not shares:
        return
    if len(shares) != len(seats):
        yield ConfigProblem(
            f"{where}.members", "mixes share with weight or priority; use shares for all members or none"
        )
        return
    try:
        percents = [share_percent(share) for share in shares]
    except WeightError:
        return  # the share itself is reported where it stands
    total = sum(percents, Fraction(0))
    if total == 100:
        return
    names = [_seat_name(seat, position) for position, seat in enumerate(seats)]
    added = f"shares add up to {float(total):g}%"
    if shares_add_up(percents):
        reading = _reading(read_shares(percents), names)
        yield ConfigProblem(f"{where}.members", f"{added}, within rounding of 100%: {reading}",
                            level="note")
        return
    bare = "".join(f" ({hint})" for hint in _bare_number_hint(shares, percents))
    yield ConfigProblem(f"{where}.members", f"{added}, not 100%{bare}: make them add up to 100%, "
                        f"or use weights instead, which need not: {_weights_hint(percents, names)}")


def _seat_name(seat: dict[str, Any], position: int) -> str:
    slack_id = seat.get("slack_id")
    return slack_id if isinstance(slack_id, str) else f"members[{position}]"


def _reading(weights: list[Fraction], names: list[str]) -> str:
    """ "read as 1/3 each (33.3333%)", or each member's share in proportion."""
    if len(weights) == 1:
        return "its only member gets every lead"
    if len(set(weights)) == 1:
        return f"read as 1/{len(weights)} each ({percent_words(weights[0])})"
    each = (f"{name} {percent_words(weight)}" for name, weight in zip(names, weights, strict=True))
    return "read in proportion, as " + ", ".join(each)


def _bare_number_hint(shares: list[Any], percents: list[Fraction]) -> Iterator[str]:
    """`share: 0.5` is 0.5%, not half: say so when it is why the shares don't add up."""
    for share, percent in zip(shares, percents, strict=True):
        if "%" not in str(share) and percent < 1:
            meant = "half" if percent == Fraction(1, 2) else f"{float(percent):g} of the queue"
            percent_text, meant_text = f"{float(percent):g}%", f"{float(percent * 100):g}%"
            yield f'share: {share} is read as {percent_text}; write "{meant_text}" for {meant}'
            return


def _weights_hint(percents: list[Fraction], names: list[str]) -> str:
    """Weights in the shares' proportions, which need not add up to anything."""
    if len(set(percents)) == 1:
        return "weight: 1 for each"
    whole = whole_weights(percents)
    written = [str(w) for w in whole] if max(whole) <= MAX_WEIGHT else [f"{float(p):g}" for p in percents]
    return ", ".join(f"weight: {w} for {name}" for w, name in zip(written, names, strict=True))

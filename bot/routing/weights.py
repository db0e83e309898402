"""The three ways a manager states a weight, turned into one exact number.

- weight N: N times the leads of a weight-1 member;
- share "18%": 18% of the queue's leads;
- priority N (the handbook's column): one lead for every N the others get, weight 1/N.

Shares are written rounded (three people at "33.3%"), so a queue's shares may add up to
within SHARE_TOLERANCE of 100%; they are then read in proportion, as exact weights that
add up to 100 (three at 33.3% are 100/3 each, a third of the leads apiece).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from fractions import Fraction

_SHARE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*$")

MAX_WEIGHT = 10_000
SHARE_TOLERANCE = Fraction(1, 2)  # percentage points either side of 100% that rounding explains


class WeightError(ValueError):
    """A weight a person typed that cannot be used; the message says why in plain words."""


def weight_from_number(value: object) -> Fraction:
    try:
        weight = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise WeightError(f"must be a number, not {value!r}") from None
    if weight <= 0:
        raise WeightError("must be > 0")
    if weight > MAX_WEIGHT:
        raise WeightError(f"must be at most {MAX_WEIGHT}")
    return weight


def share_percent(value: object) -> Fraction:
    """Parse "18%", "18" or 18 as a percentage strictly between 0 and 100."""
    match = _SHARE.match(str(value))
    if not match:
        raise WeightError(f'must be a percentage like "18%", not {value!r}')
    percent = Fraction(match.group(1))
    if not 0 < percent < 100:
        raise WeightError("must be more than 0% and less than 100%")
    return percent


def shares_add_up(percents: Sequence[Fraction]) -> bool:
    """Whether a queue's shares make 100%, as written or within rounding."""
    return abs(sum(percents, Fraction(0)) - 100) <= SHARE_TOLERANCE


def read_shares(percents: Sequence[Fraction]) -> list[Fraction]:
    """A queue's shares as exact weights that add up to 100: in the same proportions as
    written, so shares that rounding left at 99.9% or 100.2% give each member their share."""
    total = sum(percents, Fraction(0))
    if total <= 0:
        return list(percents)
    return [percent * 100 / total for percent in percents]


def whole_weights(percents: Sequence[Fraction]) -> list[int]:
    """The smallest whole weights in the proportions of `percents`: 60%, 30% -> 2, 1."""
    scale = math.lcm(*(p.denominator for p in percents))
    whole = [int(p * scale) for p in percents]
    common = math.gcd(*whole)
    return [w // common for w in whole]


def weight_from_priority(value: object) -> Fraction:
    try:
        priority = int(str(value).strip())
    except ValueError:
        raise WeightError(f"must be a whole number, not {value!r}") from None
    if priority < 1:
        raise WeightError("must be 1 or more")
    return Fraction(1, priority)


def weight_for_share(percent: Fraction, others_total: Fraction) -> Fraction:
    """The weight that gives a member `percent` of a queue whose others weigh `others_total`."""
    if others_total <= 0:
        return Fraction(1)
    return percent / (100 - percent) * others_total


def describe_weight(weight: Fraction) -> str:
    """Weight as a person would write it back: "2", "1/3", "18"."""
    if weight.denominator == 1:
        return str(weight.numerator)
    if weight.numerator == 1:
        return f"priority {weight.denominator}"
    return f"{float(weight):.4g}"


def percent_words(percent: Fraction) -> str:
    """A share as it is written back: "18%", "33.3333%"."""
    return f"{float(percent):.6g}%"

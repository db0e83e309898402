"""The three ways a manager states a weight, turned into one exact number.

- weight N: N times the leads of a weight-1 member;
- share "18%": 18% of the queue's leads;
- priority N (the handbook's column): one lead for every N the others get, weight 1/N.
"""

from __future__ import annotations

import re
from fractions import Fraction

_SHARE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*$")


class WeightError(ValueError):
    """A weight a person typed that cannot be used; the message says why in plain words."""


def weight_from_number(value: object) -> Fraction:
    try:
        weight = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise WeightError(f"must be a number, not {value!r}") from None
    if weight <= 0:
        raise WeightError("must be > 0")
    if weight > 10_000:
        raise WeightError("must be at most 10000")
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

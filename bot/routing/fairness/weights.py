"""The three ways a manager states a weight, turned into one exact number, and the one set
of rules every weight obeys, whether it is read from the routing config or typed in Slack.

- weight N: N times the leads of a weight-1 member, a plain number from 0.001 to 10000 with
  at most 3 decimals;
- share "18%": 18% of the queue's leads, more than 0% and less than 100%, at most 4 decimals;
- priority N (the handbook's column): one lead for every N the others get, weight 1/N, for
  a whole N from 1 to 1000.

The limits keep every weight one a person can read back and the config can hold exactly
(`config export` writes what was calibrated, and applying it gives the same weights), and
keep 10000 : 0.001 the widest spread (a weight of 1e-300 is a typo, not a calibration).

Shares are written rounded (three people at "33.3%"), so a queue's shares may add up to
within SHARE_TOLERANCE of 100%; they are then read in proportion, as exact weights that
add up to 100 (three at 33.3% are 100/3 each, a third of the leads apiece).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from fractions import Fraction

# An exponent of at most three digits: Fraction("1e99999999") computes 10**99999999 (minutes).
_NUMBER = re.compile(r"^[+-]?[0-9]+(?:\.[0-9]*)?(?:e[+-]?[0-9]{1,3})?$", re.ASCII | re.IGNORECASE)
_SHARE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*%?\s*$", re.ASCII)
_WHOLE = re.compile(r"^[+-]?[0-9]{1,12}$", re.ASCII)

MAX_WEIGHT = 10_000
WEIGHT_DECIMALS = 3
MIN_WEIGHT = Fraction(1, 10**WEIGHT_DECIMALS)
MAX_PRIORITY = 1000  # priority 1000 is weight 0.001, the smallest weight
SHARE_DECIMALS = 4
MIN_SHARE = Fraction(1, 10**SHARE_DECIMALS)
SHARE_TOLERANCE = Fraction(1, 2)  # percentage points either side of 100% that rounding explains


class WeightError(ValueError):
    """A weight a person typed that cannot be used; the message says why in plain words."""


def weight_from_number(value: object) -> Fraction:
    """A weight as written ("2", 0.5, "1.25"): between 0.001 and 10000, at most 3 decimals."""
    weight = _exact_number(value)
    if weight is None:
        raise WeightError(f"must be a number like 2 or 0.5, not {str(value)[:40]!r}")
    if weight <= 0:
        raise WeightError("must be > 0")
    if weight < MIN_WEIGHT:
        raise WeightError(f"must be at least {decimal_words(MIN_WEIGHT)}")
    if weight > MAX_WEIGHT:
        raise WeightError(f"must be at most {MAX_WEIGHT}")
    if decimals_of(weight) > WEIGHT_DECIMALS:
        rounded = decimal_words(round_to(weight, WEIGHT_DECIMALS))
        raise WeightError(f"can have at most {WEIGHT_DECIMALS} decimals ({rounded}, not {str(value)[:40]})")
    return weight


def _exact_number(value: object) -> Fraction | None:
    """The exact decimal a person wrote, or None for what is not a plain number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(repr(value)) if math.isfinite(value) else None  # 0.1 is 1/10, as written
    text = str(value).strip()
    return Fraction(text) if _NUMBER.match(text) else None


def share_percent(value: object) -> Fraction:
    """Parse "18%", "18" or 18 as a percentage strictly between 0 and 100, at most 4 decimals."""
    text = repr(value) if isinstance(value, float) else str(value)
    match = _SHARE.match(text) if not isinstance(value, bool) else None
    if not match:
        raise WeightError(f'must be a percentage like "18%", not {text[:40]!r}')
    percent = Fraction(match.group(1))
    if not 0 < percent < 100:
        raise WeightError("must be more than 0% and less than 100%")
    if percent < MIN_SHARE:
        raise WeightError(f"must be at least {percent_words(MIN_SHARE)}")
    if decimals_of(percent) > SHARE_DECIMALS:
        rounded = decimal_words(round_to(percent, SHARE_DECIMALS))
        raise WeightError(f"can have at most {SHARE_DECIMALS} decimals ({rounded}%, not {text[:40]})")
    return percent


def weight_from_priority(value: object) -> Fraction:
    """Priority N, a whole number from 1 to 1000: weight 1/N."""
    text = str(value).strip()
    if isinstance(value, bool) or not _WHOLE.match(text):
        raise WeightError(f"must be a whole number, not {text[:40]!r}")
    priority = int(text)
    if priority < 1:
        raise WeightError("must be 1 or more")
    if priority > MAX_PRIORITY:
        raise WeightError(f"must be at most {MAX_PRIORITY} (one lead for every {MAX_PRIORITY})")
    return Fraction(1, priority)


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


def shares_in_proportion(weights: Sequence[Fraction], total: Fraction, places: int) -> list[Fraction]:
    """`weights` scaled to add up to exactly `total`, each a decimal of `places` decimals:
    rounded down, and the units left over go to the largest remainders (ties: first)."""
    unit = Fraction(1, 10**places)
    whole = sum(weights, Fraction(0))
    exact = [w * total / whole / unit for w in weights] if whole > 0 else [Fraction(0)] * len(weights)
    floors = [math.floor(e) for e in exact]
    left = int(total / unit) - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [f * unit for f in floors]


def whole_weights(percents: Sequence[Fraction]) -> list[int]:
    """The smallest whole weights in the proportions of `percents`: 60%, 30% -> 2, 1."""
    scale = math.lcm(*(p.denominator for p in percents))
    whole = [int(p * scale) for p in percents]
    common = math.gcd(*whole)
    return [w // common for w in whole]


def weight_for_share(percent: Fraction, others_total: Fraction) -> Fraction:
    """The exact weight that gives a member `percent` of a queue whose others weigh `others_total`."""
    if others_total <= 0:
        return Fraction(1)
    return percent / (100 - percent) * others_total


def decimals_of(value: Fraction) -> int:
    """How many decimals `value` needs written exactly (99 when no finite number will do)."""
    for places in range(13):
        if (value * 10**places).denominator == 1:
            return places
    return 99


def round_to(value: Fraction, places: int) -> Fraction:
    """`value` rounded half up to `places` decimals, exactly."""
    unit = 10**places
    return Fraction(math.floor(value * unit + Fraction(1, 2)), unit)


def decimal_words(value: Fraction, places: int = 6) -> str:
    """A number as a person writes it, never in exponent form: "30000", "0.878", "33.3333"."""
    scaled = round_to(value, places)
    sign = "-" if scaled < 0 else ""
    units = abs(scaled.numerator * (10**places // scaled.denominator))
    whole, part = divmod(units, 10**places)
    digits = str(part).rjust(places, "0").rstrip("0") if places else ""
    return f"{sign}{whole}" + (f".{digits}" if digits else "")


def weight_words(weight: Fraction) -> str:
    """A weight's words in Slack and in `config export`: "2", "0.5", "1.125"."""
    return decimal_words(weight, WEIGHT_DECIMALS)


def describe_weight(weight: Fraction) -> str:
    """Weight as a person would write it back: "2", "priority 3", "0.878", "33.333"."""
    if weight.denominator == 1:
        return str(weight.numerator)
    if weight.numerator == 1 and weight.denominator <= MAX_PRIORITY:
        return f"priority {weight.denominator}"
    return decimal_words(weight, WEIGHT_DECIMALS)


def percent_words(percent: Fraction) -> str:
    """A share as it is written back: "18%", "33.3333%" (at most 4 decimals, no exponent)."""
    return f"{decimal_words(percent, SHARE_DECIMALS)}%"


def is_share_words(words: str) -> bool:
    """Whether a seat's words give it a share ("18%"), not a weight or a priority."""
    return words.endswith("%")

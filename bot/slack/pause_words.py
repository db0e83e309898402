"""What the words after `/rotation pause` ask for: until when, and why.

Why here and not in the core: the core takes a day ("paused until that day begins, in the
member's timezone"); how people say that day is Slack's business. `pause 2 days`,
`pause until friday` and `pause until tomorrow` mean what they say; `pause 3h` and
`pause until 3pm` are refused in plain words (a pause ends at the start of a day), not read
as a reason, which is what the first version did (`pause 2 days` paused with no end, "2 days"
as the reason). `pause until YYYY-MM-DD [reason]` and `pause [reason]` keep working.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.slack.answers import Refusal, escape
from bot.slack.dates import iso_day

DATE_WORD = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
COUNT_AND_UNIT = re.compile(r"([0-9]{1,9})([a-z]+)")
NUMBER = re.compile(r"[0-9]{1,9}")  # ASCII: "²".isdigit() is true and int() refuses it
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9, "ten": 10}
DAY_UNITS = {"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7}
SHORT_UNITS = frozenset({"h", "hr", "hrs", "hour", "hours", "m", "min", "mins", "minute", "minutes"})
MONTH_UNITS = frozenset({"mo", "month", "months"})
WEEKDAYS = {name: i for i, names in enumerate((
    ("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"), ("thursday", "thu", "thur", "thurs"),
    ("friday", "fri"), ("saturday", "sat"), ("sunday", "sun"))) for name in names}
CLOCK = re.compile(r"[0-9]{1,2}(:[0-9]{2})?(am|pm)?|noon|midnight|tonight|morning|evening|eod", re.I)
# A count with a decimal point or too many digits, glued to a unit or not: a typo, not a reason.
ODD_COUNT = re.compile(r"([0-9]+[.,][0-9]*|[0-9]{10,})([a-z]*)")
ALL_UNITS = frozenset(DAY_UNITS) | SHORT_UNITS | MONTH_UNITS
MAX_DAYS = 3660  # a count this big is a typo; the core refuses far-off days in its own words

HOURS_REFUSED = ("A pause ends when a day begins, so `{said}` can't be kept; nothing was changed. "
                 "For a few hours write `/rotation pause`, then `/rotation resume` when you're back; "
                 "for days, `/rotation pause 2 days` or `/rotation pause until friday`.")
UNTIL_HELP = ("write `/rotation pause until YYYY-MM-DD`, `until tomorrow`, `until friday` or "
              "`until next week`, or `/rotation pause 3 days`. Nothing was changed.")


@dataclass(frozen=True, slots=True)
class PauseWords:
    until: date | None  # the day the pause ends (it ends as that day begins); None: until resumed
    reason: str | None


def read(args: list[str], today: date) -> PauseWords:
    """The pause `args` ask for, `today` being the member's own date (Refusal in plain words)."""
    if not args:
        return PauseWords(None, None)
    first = args[0].lower()
    if first == "until":
        if len(args) < 2:
            raise Refusal("Pause until when? Write `/rotation pause until YYYY-MM-DD [reason]` or "
                          "`/rotation pause until friday`; nothing was changed.")
        day, used = until_day(args[1:], today)
        return PauseWords(day, reason(args[1 + used:]))
    if DATE_WORD.fullmatch(args[0]):
        return PauseWords(a_date(args[0]), reason(args[1:]))
    if first != "until" and difflib.get_close_matches(first, ["until"], n=1, cutoff=0.75):
        raise Refusal(f"Did you mean `until`? `{escape(args[0])}` would have been read as the reason; "
                      f"{UNTIL_HELP}")
    words = args[1:] if first == "for" else args
    odd = ODD_COUNT.fullmatch(words[0].lower()) if words else None
    if odd and (odd.group(2) or (len(words) > 1 and words[1].lower().rstrip(".,") in ALL_UNITS)):
        raise Refusal(f"`{escape(' '.join(words[:1 if odd.group(2) else 2]))}` is not a whole number of "
                      "days I can count; write e.g. `/rotation pause 2 days`. Nothing was changed.")
    found = duration(words)
    if found is None:
        return PauseWords(None, reason(args))  # `pause USA trip`, `pause for the conference`
    days, used = found
    return PauseWords(today + timedelta(days=days), reason(words[used:]))


def reason(words: list[str]) -> str | None:
    return " ".join(words) or None


def a_date(word: str) -> date:
    day = iso_day(word)
    if day is None:
        raise Refusal(f"`{escape(word)}` is not a date; write the date as YYYY-MM-DD, "
                      "e.g. 2030-01-31. Nothing was changed.")
    return day


def until_day(words: list[str], today: date) -> tuple[date, int]:
    """The day `until …` names and how many words it took."""
    word = words[0].lower()
    if DATE_WORD.fullmatch(words[0]):
        return a_date(words[0]), 1
    if word == "tomorrow":
        return today + timedelta(days=1), 1
    if word in WEEKDAYS:
        return next_weekday(today, WEEKDAYS[word]), 1
    if word == "next" and len(words) > 1 and words[1].lower() == "week":
        return next_weekday(today, 0), 2
    if word == "next" and len(words) > 1 and words[1].lower() in WEEKDAYS:
        raise Refusal(f"`next {escape(words[1])}` could mean two different days; write "
                      f"`until {escape(words[1].lower())}` for the coming one, or the date as YYYY-MM-DD. "
                      "Nothing was changed.")
    if CLOCK.fullmatch(word):
        raise Refusal(HOURS_REFUSED.format(said=f"until {escape(words[0])}"))
    if word == "today":
        raise Refusal("Today has begun already, so a pause can't end as it begins; "
                      f"{UNTIL_HELP}")
    raise Refusal(f"`{escape(words[0])}` is not a date I can read; {UNTIL_HELP}")


def next_weekday(today: date, weekday: int) -> date:
    """The coming `weekday` after today (a week ahead when today is that day)."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def duration(words: list[str]) -> tuple[int, int] | None:
    """(days, words used) when `words` begin with a count and a unit (`2 days`, `3d`, `a week`);
    None when they don't (then they are a reason). Hours and months are refused in words."""
    if not words:
        return None
    first = words[0].lower()
    glued = COUNT_AND_UNIT.fullmatch(first)
    if glued:
        count, unit, used = int(glued.group(1)), glued.group(2), 1
    elif (NUMBER.fullmatch(first) or first in NUMBER_WORDS) and len(words) > 1:
        count = NUMBER_WORDS[first] if first in NUMBER_WORDS else int(first)
        unit, used = words[1].lower().rstrip(".,"), 2
    else:
        return None
    said = " ".join(words[:used])
    if unit in SHORT_UNITS:
        raise Refusal(HOURS_REFUSED.format(said=escape(said)))
    if unit in MONTH_UNITS:
        raise Refusal(f"Months differ in length, so `{escape(said)}` is unclear; write the day you're "
                      "back, e.g. `/rotation pause until 2030-01-31`, or a number of days or weeks. "
                      "Nothing was changed.")
    if unit not in DAY_UNITS:
        return None
    days = count * DAY_UNITS[unit]
    if days < 1:
        raise Refusal(f"`{escape(said)}` is no time at all; nothing was changed.")
    if days > MAX_DAYS:
        raise Refusal(f"`{escape(said)}` is more than ten years; nothing was changed.")
    return days, used

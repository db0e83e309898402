"""JSON text as the hot path writes it: orjson when it can, the standard library when it cannot.

A routed lead's explanation (a few KB), its fields and its owed messages are turned into
JSON several times per lead: the database's JSON columns and the 201's body. The standard
library's encoder was a tenth of serve's CPU in a burst (bench/burst.py); orjson does the
same work in a fraction of it. What orjson refuses (an integer past 64 bits, a lone
surrogate, a type it does not know) goes to `json.dumps`, so nothing that was stored
before is refused now. Reading stays with the standard library: it is not hot.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS  # keys as `json.dumps` writes them ({1: 2} → {"1": 2})


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value)

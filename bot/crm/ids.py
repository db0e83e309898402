"""The shapes of record and owner ids each CRM uses, checked before they go into a URL.

A record id comes from a lead's field, so from outside: it is checked against the vendor's
id shape (and quoted anyway), so that no lead can point a call at another path of the API.
"""

from __future__ import annotations

import re

from bot.crm.errors import CrmError, quoted

SHAPES = {
    "hubspot": (re.compile(r"^[0-9]{1,20}$"), "a number"),
    "salesforce": (re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$"), "15 or 18 letters and digits"),
    "pipedrive": (re.compile(r"^[0-9]{1,18}$"), "a number"),
}


def checked_id(kind: str, value: str, what: str) -> str:
    """`value` when it has the shape of `kind`'s ids; else a CrmError (permanent) in words."""
    shape, words = SHAPES[kind]
    if not shape.match(value):
        raise CrmError(f'{what} "{quoted(value)[:80]}" is not an id this CRM uses ({words})', permanent=True)
    return value

"""`Authorization: Bearer <token>`, compared as the bytes the client sent.

aiohttp hands header bytes that are not UTF-8 (`Bearer \\xff`) over as lone surrogates,
which `str.encode()` refuses; encoding back with `surrogateescape` gives the client's
bytes exactly, so any header at all is compared (in constant time) and answered 401.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from aiohttp import web

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}  # what a 401 sends: the scheme to answer with


def bearer_refusal(request: web.Request, token: str, *, name: str) -> str | None:
    """None when the request carries `token` as its bearer token; else why not, in words
    (for a 401). `name` says which token, e.g. "intake token"."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:
        return f"Send the {name} as `Authorization: Bearer <token>`."
    if not hmac.compare_digest(as_bytes(given), as_bytes(token)):
        return f"The bearer token is not the {name}."
    return None


def as_bytes(text: str) -> bytes:
    """The bytes `text` was decoded from (headers and environment variables alike)."""
    return text.encode("utf-8", "surrogateescape")


def given_twice(request: web.Request, names: Iterable[str]) -> str | None:
    """Why the request cannot be read (for a 400) if it carries one of the headers `names` more
    than once: proxies and frameworks disagree on which value wins, so none is guessed."""
    for name in names:
        if len(request.headers.getall(name, ())) > 1:
            return f"The request has more than one `{name}` header; send it once."
    return None

"""The pieces every vendor's signature scheme is made of, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from bot.sources.kind import RawRequest, Refused

TOLERANCE_SECONDS = 300  # five minutes, as HubSpot, Webflow and Calendly document


def as_bytes(text: str) -> bytes:
    """The bytes a header or environment value was decoded from (aiohttp and os.environ hand
    over bytes that are not UTF-8 as lone surrogates, which plain `encode()` refuses)."""
    return text.encode("utf-8", "surrogateescape")


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(as_bytes(secret), message, hashlib.sha256).digest()


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(as_bytes(given.strip()), as_bytes(expected))


def header(request: RawRequest, name: str, vendor: str) -> str:
    value = request.headers.get(name)
    if not value or not value.strip():
        raise Refused(401, f"The request has no {name} header: it is not signed as {vendor} signs its "
                           "webhooks, so it was not accepted.")
    return value.strip()


def bad_signature(vendor: str, what: str = "secret") -> Refused:
    return Refused(401, f"The {vendor} signature does not match this request's body: check that the "
                        f"source's secret_env holds the {what}. Nothing was stored.")


def timestamp(text: str, name: str, now: datetime, *, milliseconds: bool = False) -> int:
    """A signed timestamp within the tolerance of `now`; Refused otherwise (a replay)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 16):
        raise Refused(401, f"The {name} is not a Unix timestamp.")
    value = int(text)
    seconds = value / 1000 if milliseconds else value
    if abs(now.timestamp() - seconds) > TOLERANCE_SECONDS:
        raise Refused(401, f"The {name} is more than five minutes away from our clock: a request "
                           "signed long ago (a replay) is not accepted. Check the sender's and this "
                           "server's clocks.")
    return value

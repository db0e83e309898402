"""A request body in the Content-Encoding it names, decoded here rather than by aiohttp's parser.

aiohttp's parser decodes gzip and deflate itself, but it refuses a coding it has no library
for (br, zstd) before the app sees the request, in plain text that tells the client to
install a Python package; and it passes a coding it does not know (`x-made-up`, `gzip, gzip`)
through as if none were named. So serve runs the parser with `auto_decompress=False`
(`connections.app_runner`) and /leads decodes here: gzip, deflate or identity, the decoded
size bounded as it is inflated (a small gzip bomb is refused as over the limit, never
inflated whole). Any other coding is a 415 that says what to send (RFC 9110, 15.5.16).
"""

from __future__ import annotations

import re
import zlib

READABLE = "gzip, deflate or identity"
GZIP, ZLIB, RAW_DEFLATE = 16 + zlib.MAX_WBITS, zlib.MAX_WBITS, -zlib.MAX_WBITS
TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~ ,-]{1,40}")  # what is safe to name back


class BodyUnreadable(Exception):
    """A body that cannot be read as its Content-Encoding says: `status` and plain words."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def decoded(body: bytes, coding: str | None, limit: int) -> bytes:
    """`body` decoded as `coding` (the Content-Encoding header, None without one), at most
    `limit` bytes once decoded; `BodyUnreadable` (400, 413 or 415) saying why not."""
    name = (coding or "identity").strip().lower()
    if name == "identity":
        return body
    if name in ("gzip", "x-gzip"):
        return _inflate(body, GZIP, name, limit)
    if name == "deflate":  # zlib-wrapped as the RFC says, or raw deflate as some clients send
        wrapped = len(body) > 0 and body[0] & 0x0F == 8
        return _inflate(body, ZLIB if wrapped else RAW_DEFLATE, name, limit)
    shown = coding.strip() if coding is not None and TOKEN.fullmatch(coding.strip()) else "That coding"
    raise BodyUnreadable(415, f"{shown} is not an encoding this server reads; send {READABLE} "
                              "(or no Content-Encoding header).")


def _inflate(body: bytes, wbits: int, name: str, limit: int) -> bytes:
    broken = BodyUnreadable(400, f"The body could not be read as its Content-Encoding ({name}) says; "
                                 "send it as that encoding, or as plain JSON without the header.")
    inflater = zlib.decompressobj(wbits)
    try:
        data = inflater.decompress(body, limit + 1)
        if len(data) <= limit and not inflater.unconsumed_tail:
            data += inflater.flush()
    except zlib.error:
        raise broken from None
    if len(data) > limit:
        raise BodyUnreadable(413, f"The request body is over the limit of {limit} bytes once decoded.")
    if not inflater.eof or inflater.unused_data:  # cut short, or bytes after the end
        raise broken
    return data

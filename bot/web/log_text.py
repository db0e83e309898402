"""Client-supplied text as it may appear in a log line: escaped and bounded.

Why: anything a client sends (a path, a header, a malformed request line) can hold a
newline that forges a log line of its own, control characters that rewrite a terminal,
or a megabyte that floods the log. Every log line that quotes a client goes through
`quoted`, so one refusal is one line of bounded length.
"""

from __future__ import annotations

LOGGED_CHARS = 200  # of a client's text, per value quoted


def quoted(text: object, limit: int = LOGGED_CHARS) -> str:
    """`text` on one line: non-printable characters escaped (as repr escapes them), and cut
    to `limit` characters, saying how long it was, so a reader sees where it ends."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "backslashreplace")
    text = str(text)
    shown = text[:limit]
    escaped = repr(shown)[1:-1] if not shown.isprintable() or "\\" in shown else shown
    if len(escaped) > limit or len(text) > limit:
        escaped = f"{escaped[:limit]}… ({len(text)} characters in all)"
    return escaped

"""Lead-supplied text as Slack must show it: literally, on one line, bounded, never a link.

Why its own module: a lead's fields come from a web form anyone can fill in. Written into
mrkdwn as they are, a newline in a name starts a line of its own ("✅ Accepted by …" that
the bot never wrote), `*`, `_`, `~` and backticks format, and a bare URL or domain becomes
a link a rep clicks. So a lead value is shown in a `plain_text` object wherever Slack
allows one (no formatting, no mentions), and, where it must sit inside our own mrkdwn
(the notification `text`, a line with a date), it is neutralised: Slack has no backslash
escape, so a zero-width space follows each formatting character, which breaks Slack's
pattern for bold, italic, strike and code while the character still shows (and copies).
Either way the value is one line, its URLs and domains broken with the same invisible
space, and Slack's three control characters escaped.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from slack_sdk.models.blocks import MarkdownTextObject, PlainTextObject

from bot.config.schema import LEAD_ID_PLACEHOLDER
from bot.slack.answers import clip, escape

ZWSP = "\u200b"
# Line breaks of every kind (controls, NEL, the Unicode line and paragraph separators) and
# the bidirectional overrides that could make a value read as something else.
_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_SCHEME = re.compile(r"(?<=[A-Za-z0-9]):(?=//)")
_DOT = re.compile(r"(?<=[^\s.])\.(?=[^\s.])")
_FORMATTING = re.compile(r"([*_~`])")
_EMAIL = re.compile(r"[^\s@<>&*_~`]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")


def one_line(value: object) -> str:
    """The value as one line: every line break a space, direction overrides gone."""
    return _BIDI.sub("", _BREAKS.sub(" ", str(value))).strip()


def unlinked(text: str) -> str:
    """Bare URLs and domains that Slack would turn into links, broken by an invisible space."""
    return _DOT.sub(ZWSP + ".", _SCHEME.sub(":" + ZWSP, text))


def shown(value: object, *, email: bool = False) -> str:
    """A lead value for a plain_text object: one line, not a link, &<> escaped.

    An `email` field that is an address stays whole (Slack's mailto link is what a rep wants,
    and an invisible space would break a copied address); anything else in it is shown like
    any other value.
    """
    line = one_line(value)
    if email and _EMAIL.fullmatch(line):
        return escape(line)
    return escape(unlinked(line))


def literal(value: object, *, email: bool = False) -> str:
    """A lead value inside our own mrkdwn: as `shown`, and no formatting character formats."""
    return _FORMATTING.sub(r"\1" + ZWSP, shown(value, email=email))


def plain(text: str, limit: int = 3000) -> PlainTextObject:
    """A plain_text object (no emoji conversion: `:x:` in a name stays words), clipped."""
    return PlainTextObject(text=clip(text, limit) or " ", emoji=False)


def mrkdwn(text: str, limit: int = 3000) -> MarkdownTextObject:
    """Our own mrkdwn, verbatim: Slack does not link-ify names or URLs in it by itself."""
    return MarkdownTextObject(text=clip(text, limit) or " ", verbatim=True)




def lead_url(template: object, lead_id: str) -> str | None:
    """The Open lead link: the configured template (`https://crm.example.com/leads/{id}`)
    with the lead id, URL-quoted, in place of `{id}`; None when no usable template is set.

    Never a URL from the lead itself: a form anyone can post to must not choose where the
    bot's button sends a rep.
    """
    if not isinstance(template, str) or LEAD_ID_PLACEHOLDER not in template:
        return None
    if not template.startswith(("https://", "http://")) or any(ch.isspace() for ch in template):
        return None
    url = template.replace(LEAD_ID_PLACEHOLDER, quote(lead_id, safe=""))
    return url if len(url) <= 3000 else None


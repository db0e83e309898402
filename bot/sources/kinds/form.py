"""`form`: a browser's post of an HTML form, `application/x-www-form-urlencoded` or
`multipart/form-data` (files are left out). Public by nature: nothing to verify, but a
`honeypot` field (hidden from people, filled by bots) drops the post. Each form field is a
lead field (a field given several times, like checkboxes, is its values joined with ", ");
`id` is the field `id` when present, else one is made up, so a browser resubmitting makes a
second lead. The browser is sent on to `redirect` (303) whatever became of the post.

Set up: in the page's HTML (or the site builder's custom form action), set the form's
`action="https://YOUR-SERVER/sources/NAME" method="post"`; there is no secret to copy: a form
in a web page is public."""

from __future__ import annotations

import uuid
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from bot.sources.kind import Answer, Delivered, Kind, RawRequest, Refused, Split

if TYPE_CHECKING:  # the config validates against the kinds: types only, no import cycle
    from bot.sources.config import SourceConfig

MAX_FIELDS = 1000
THANKS = (b"<!doctype html><meta charset=utf-8><title>Thank you</title>"
          b"<p>Thank you: we have your details and will be in touch.</p>")


def _pairs_urlencoded(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True,
                     max_num_fields=MAX_FIELDS)


def _pairs_multipart(body: bytes, content_type: str) -> list[tuple[str, str]]:
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") +
                                                  b"\r\nMIME-Version: 1.0\r\n\r\n" + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise ValueError("the multipart body could not be read (is its boundary right?)")
    pairs = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or part.get_filename() is not None:
            continue  # a file, or a part that is no form field
        payload = part.get_payload(decode=True)
        text = payload.decode(part.get_content_charset() or "utf-8", errors="replace") \
            if isinstance(payload, bytes) else ""
        pairs.append((name, text))
        if len(pairs) > MAX_FIELDS:
            raise ValueError(f"the form has over {MAX_FIELDS} fields")
    return pairs


def form_type(content_type: str) -> str:
    """The form's encoding; Refused (415) for a body no browser form sends."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise Refused(415, "A form source takes what a browser posts: application/x-www-form-urlencoded "
                           "or multipart/form-data.")
    return kind


def form_pairs(body: bytes, content_type: str) -> list[tuple[str, str]]:
    if form_type(content_type) == "multipart/form-data":
        return _pairs_multipart(body, content_type)
    return _pairs_urlencoded(body)


class FormKind(Kind):
    name = "form"
    unsigned_because = "a browser form is public"
    options = frozenset({"redirect", "honeypot"})

    def authenticate(self, request: RawRequest, source: SourceConfig, secret: str | None,
                     now: datetime) -> None:
        return None  # public by nature

    def read(self, request: RawRequest, source: SourceConfig, secret: str | None, now: datetime,
             content_type: str) -> Split:
        form_type(content_type)  # checked before anything is read
        split = self.split(request.body, content_type)
        if source.honeypot:  # field names compare ignoring case, here as everywhere
            trap = source.honeypot.casefold()
            for payload in split.payloads:
                named = [key for key in payload if key.casefold() == trap]
                if any(str(payload[key] or "").strip() for key in named):
                    return Split(ignored=["the honeypot field was filled in (a bot)"])
                for key in named:
                    payload.pop(key)
        return split

    def split(self, body: bytes, content_type: str) -> Split:
        try:
            pairs = form_pairs(body, content_type)
        except ValueError as error:
            return Split(problem=f"the form could not be read: {error}")
        except Refused as refused:
            return Split(problem=refused.message)
        fields: dict[str, Any] = {}
        for name, value in pairs:
            earlier = fields.get(name)
            fields[name] = f"{earlier}, {value}" if earlier and value else earlier or value
        if not any(name.lower() == "id" and str(value).strip() for name, value in fields.items()):
            fields = {name: value for name, value in fields.items() if name.lower() != "id"}
            fields["id"] = f"form-{uuid.uuid4().hex}"
        return Split(payloads=[fields])

    def default_fields(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {}  # each form field is a lead field already (they are the top-level values)

    def answer(self, source: SourceConfig, delivered: Delivered) -> Answer:
        if source.redirect:
            return Answer(303, b"", "text/plain", {"Location": source.redirect})
        return Answer(200, THANKS, "text/html; charset=utf-8")

"""`calendly`: the invitee.created webhook, signed `Calendly-Webhook-Signature: t=<unix>,v1=<hex
HMAC-SHA256 of "t.body">`, five minutes' tolerance. Default mapping: `id` is `payload.uri` (the
invitee); `name`, `email`, `first_name`, `last_name`, `timezone`; each booking question under
its own text; `event_name` and `start_time` of the meeting; the UTM tracking values. Other
events (a cancellation) are answered 2xx and left alone.

Set up: Calendly makes webhooks through its API: `POST /webhook_subscriptions` with `url`
https://YOUR-SERVER/sources/NAME, `events: ["invitee.created"]` and a `signing_key` you choose;
that key is what the environment variable named by `secret_env` holds."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.sources.kind import RawRequest, Refused
from bot.sources.mapping import objects, top_level_scalars
from bot.sources.signatures import as_bytes, header
from bot.sources.signed_kind import Signature, SignedKind

INVITEE = ("name", "email", "first_name", "last_name", "timezone", "text_reminder_number", "status")


class CalendlyKind(SignedKind):
    name = "calendly"
    secret = "the webhook subscription's signing key"
    vendor = "Calendly"
    signature_header = "Calendly-Webhook-Signature"
    encoding = "hex"
    mismatch_hint = "subscription's signing key"
    timestamp_label = "Calendly-Webhook-Signature's t"

    def signature(self, request: RawRequest) -> Signature:
        """Calendly sends both in one header: `t=<unix time>,v1=<signature>`."""
        given = header(request, self.signature_header, self.vendor)
        parts = dict(part.strip().partition("=")[::2] for part in given.split(","))
        t, v1 = parts.get("t"), parts.get("v1")
        if not t or not v1:
            raise Refused(401, "The Calendly-Webhook-Signature header must be "
                               "`t=<unix time>,v1=<signature>`.")
        return Signature(v1, t)

    def signed_messages(self, request: RawRequest, sent_at: str | None) -> Iterable[bytes]:
        return (as_bytes(sent_at or "") + b"." + request.body,)

    def not_a_lead(self, payload: dict[str, Any]) -> str | None:
        event = payload.get("event")
        if event not in (None, "invitee.created"):
            return f"a Calendly {event} event is not a new booking"
        return None

    def default_fields(self, payload: dict[str, Any]) -> dict[str, Any]:
        invitee = payload.get("payload")
        if not isinstance(invitee, dict):
            return {}
        fields = {key: invitee[key] for key in INVITEE if isinstance(invitee.get(key), str)}
        for qa in objects(invitee.get("questions_and_answers")):
            if isinstance(qa.get("question"), str) and isinstance(qa.get("answer"), str | int | float | bool):
                fields[qa["question"].strip()] = qa["answer"]
        tracking = invitee.get("tracking")
        if isinstance(tracking, dict):
            fields.update({k: v for k, v in top_level_scalars(tracking).items() if v is not None})
        meeting = invitee.get("scheduled_event")
        if isinstance(meeting, dict):
            for key, name in (("name", "event_name"), ("start_time", "start_time")):
                if isinstance(meeting.get(key), str):
                    fields[name] = meeting[key]
        if invitee.get("uri") is not None:
            fields["id"] = invitee["uri"]
        return fields

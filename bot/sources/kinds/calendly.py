"""`calendly`: the invitee.created webhook, signed `Calendly-Webhook-Signature: t=<unix>,v1=<hex
HMAC-SHA256 of "t.body">`, five minutes' tolerance. Default mapping: `id` is `payload.uri` (the
invitee); `name`, `email`, `first_name`, `last_name`, `timezone`; each booking question under
its own text; `event_name` and `start_time` of the meeting; the UTM tracking values. Other
events (a cancellation) are answered 2xx and left alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.sources.config import SourceConfig
from bot.sources.kind import Kind, RawRequest, Refused
from bot.sources.mapping import objects, top_level_scalars
from bot.sources.signatures import as_bytes, bad_signature, header, hmac_sha256, same, timestamp

INVITEE = ("name", "email", "first_name", "last_name", "timezone", "text_reminder_number", "status")


class CalendlyKind(Kind):
    name = "calendly"
    auth_headers = ("Calendly-Webhook-Signature",)

    def authenticate(self, request: RawRequest, source: SourceConfig, secret: str | None,
                     now: datetime) -> None:
        given = header(request, "Calendly-Webhook-Signature", "Calendly")
        parts = dict(part.strip().partition("=")[::2] for part in given.split(","))
        t, v1 = parts.get("t"), parts.get("v1")
        if not t or not v1:
            raise Refused(401, "The Calendly-Webhook-Signature header must be "
                               "`t=<unix time>,v1=<signature>`.")
        timestamp(t, "Calendly-Webhook-Signature's t", now)
        if secret is None or not same(v1, hmac_sha256(secret, as_bytes(t) + b"." + request.body).hex()):
            raise bad_signature("Calendly", "subscription's signing key")

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

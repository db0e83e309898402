"""`typeform`: the form_response webhook, signed `Typeform-Signature: sha256=<base64 HMAC-SHA256
of the body>`. Default mapping: `id` is `form_response.token`; each answer is a field named by
its question's `ref`; hidden fields by their names; `email` also from the first email answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.sources.config import SourceConfig
from bot.sources.kind import Kind, RawRequest, Refused
from bot.sources.mapping import objects, top_level_scalars
from bot.sources.signatures import b64, bad_signature, header, hmac_sha256, same

VALUE_KEYS = {"choice": "label", "choices": "labels"}  # answers whose value is an object


def answer_value(answer: dict[str, Any]) -> Any:
    """An answer's value: Typeform keeps it under the key its `type` names."""
    kind = answer.get("type")
    value = answer.get(kind) if isinstance(kind, str) else None
    if isinstance(value, dict):
        inner = value.get(VALUE_KEYS.get(str(kind), "label"))
        if inner is None:
            inner = value.get("other")
        value = inner
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    return value if value is None or isinstance(value, str | int | float | bool) else None


class TypeformKind(Kind):
    name = "typeform"
    auth_headers = ("Typeform-Signature",)

    def authenticate(self, request: RawRequest, source: SourceConfig, secret: str | None,
                     now: datetime) -> None:
        given = header(request, "Typeform-Signature", "Typeform")
        if not given.startswith("sha256="):
            raise Refused(401, "The Typeform-Signature header must start with `sha256=`.")
        if secret is None or not same(given[len("sha256="):], b64(hmac_sha256(secret, request.body))):
            raise bad_signature("Typeform", "webhook's secret")

    def not_a_lead(self, payload: dict[str, Any]) -> str | None:
        event = payload.get("event_type")
        if event not in (None, "form_response"):
            return f"a Typeform {event} event is not a submitted form"
        return None

    def default_fields(self, payload: dict[str, Any]) -> dict[str, Any]:
        response = payload.get("form_response")
        if not isinstance(response, dict):
            return {}
        fields: dict[str, Any] = {}
        for key in ("form_id", "submitted_at", "landed_at"):
            if isinstance(response.get(key), str):
                fields[key] = response[key]
        hidden = response.get("hidden")
        if isinstance(hidden, dict):
            fields.update(top_level_scalars(hidden))
        email = None
        for answer in objects(response.get("answers")):
            ref = (answer.get("field") or {}).get("ref") if isinstance(answer.get("field"), dict) else None
            value = answer_value(answer)
            if isinstance(ref, str) and ref and value is not None:
                fields[ref] = value
            if email is None and answer.get("type") == "email" and isinstance(answer.get("email"), str):
                email = answer["email"]
        if email is not None and not any(name.lower() == "email" for name in fields):
            fields["email"] = email
        if response.get("token") is not None:
            fields["id"] = response["token"]
        return fields

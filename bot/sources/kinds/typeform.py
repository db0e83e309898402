"""`typeform`: the form_response webhook, signed `Typeform-Signature: sha256=<base64 HMAC-SHA256
of the body>`. Default mapping: `id` is `form_response.token`; each answer is a field named by
its question's `ref`; hidden fields by their names; `email` also from the first email answer.

Set up: in Typeform, the form's Connect → Webhooks → Add a webhook, paste
https://YOUR-SERVER/sources/NAME; then Edit → Secret: the secret you type there is what the
environment variable named by `secret_env` holds."""

from __future__ import annotations

from typing import Any

from bot.sources.mapping import objects, top_level_scalars
from bot.sources.signed_kind import SignedKind

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


class TypeformKind(SignedKind):
    name = "typeform"
    secret = "the webhook's secret (Typeform: Connect → Webhooks → Edit → Secret)"
    vendor = "Typeform"
    signature_header = "Typeform-Signature"
    prefix = "sha256="
    encoding = "base64"
    mismatch_hint = "webhook's secret"

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

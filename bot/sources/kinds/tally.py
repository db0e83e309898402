"""`tally`: the FORM_RESPONSE webhook, signed `Tally-Signature: <base64 HMAC-SHA256 of the body>`.
Default mapping: `id` is `data.responseId`; each field under its label (its key when it has
none), a choice by its option's text; `email` also from the first email field.

Set up: in Tally, the form's Integrations → Webhooks → Connect, paste
https://YOUR-SERVER/sources/NAME as the endpoint URL and turn on a signing secret: that secret
is what the environment variable named by `secret_env` holds."""

from __future__ import annotations

from typing import Any

from bot.sources.mapping import objects
from bot.sources.signed_kind import SignedKind


def field_value(field: dict[str, Any]) -> Any:
    """A field's value; choices are option ids in `value`, with their texts in `options`."""
    value = field.get("value")
    options = {o.get("id"): o.get("text") for o in objects(field.get("options"))
               if isinstance(o.get("id"), str)}
    if isinstance(value, list):
        value = ", ".join(str(options.get(item, item)) for item in value
                          if isinstance(item, str | int | float)) or None
    elif isinstance(value, str) and value in options:
        value = options[value]
    return value if value is None or isinstance(value, str | int | float | bool) else None


class TallyKind(SignedKind):
    name = "tally"
    secret = "the webhook's signing secret (Tally: Integrations → Webhooks → Signing secret)"
    vendor = "Tally"
    signature_header = "Tally-Signature"
    encoding = "base64"
    mismatch_hint = "webhook's signing secret"

    def not_a_lead(self, payload: dict[str, Any]) -> str | None:
        event = payload.get("eventType")
        if event not in (None, "FORM_RESPONSE"):
            return f"a Tally {event} event is not a submitted form"
        return None

    def default_fields(self, payload: dict[str, Any]) -> dict[str, Any]:
        data = payload.get("data")
        if not isinstance(data, dict):
            return {}
        fields: dict[str, Any] = {}
        for key in ("formId", "formName", "respondentId", "createdAt"):
            if isinstance(data.get(key), str):
                fields[key] = data[key]
        email = None
        for field in objects(data.get("fields")):
            name = field.get("label") or field.get("key")
            value = field_value(field)
            if isinstance(name, str) and name.strip() and value is not None:
                fields[name.strip()] = value
            if email is None and field.get("type") == "INPUT_EMAIL" and isinstance(value, str):
                email = value
        if email is not None and not any(name.lower() == "email" for name in fields):
            fields["email"] = email
        if data.get("responseId") is not None:
            fields["id"] = data["responseId"]
        return fields

"""`pipedrive`: webhooks (v2, and v1's older shape) authenticated with the HTTP basic auth set
on the webhook (`secret_env` holds `user:password`). A created person, deal, lead or
organization is a lead: `id` is its id (`meta.entity_id`), each value of the object under its
own name, `email` and `phone` its primary ones, `pipedrive_object` what it is. Updates and
deletions are answered 2xx and left alone.

Set up: in Pipedrive, Settings → Tools and apps → Webhooks → Create new webhook, paste
https://YOUR-SERVER/sources/NAME as the endpoint URL (event action "create", object "*" or
the ones you want) and fill in its HTTP Auth username and password; the environment variable
named by `secret_env` holds them as `username:password`."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.sources.kind import Kind, RawRequest, Refused
from bot.sources.mapping import top_level_scalars
from bot.sources.signatures import same

if TYPE_CHECKING:  # the config validates against the kinds: types only, no import cycle
    from bot.sources.config import SourceConfig

CREATED = ("create", "added")  # v2, v1


def primary(entries: Any) -> Any:
    """The primary (else the first) value of Pipedrive's [{"value", "primary", "label"}] lists."""
    if not isinstance(entries, list):
        return entries if isinstance(entries, str) else None
    values = [e for e in entries if isinstance(e, dict) and e.get("value")]
    chosen = next((e for e in values if e.get("primary")), values[0] if values else None)
    return chosen.get("value") if chosen else None


def _meta(payload: dict[str, Any]) -> dict[str, Any]:
    meta = payload.get("meta")
    return meta if isinstance(meta, dict) else {}


class PipedriveKind(Kind):
    name = "pipedrive"
    secret = "the webhook's HTTP basic auth as user:password"

    @property
    def auth_headers(self) -> tuple[str, ...]:
        return ("Authorization",)

    def authenticate(self, request: RawRequest, source: SourceConfig, secret: str | None,
                     now: datetime) -> None:
        scheme, _, encoded = request.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise Refused(401, "Pipedrive webhooks here use HTTP basic auth: set the webhook's user and "
                               "password to the ones in the source's secret_env.")
        try:
            given = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Refused(401, "The basic auth credentials are not valid base64.") from None
        if secret is None or not same(given, secret):
            raise Refused(401, "The basic auth user and password are not this source's. Nothing was stored.")

    def not_a_lead(self, payload: dict[str, Any]) -> str | None:
        action = _meta(payload).get("action")
        if action is not None and action not in CREATED:
            return f"a Pipedrive {action} event is not a new record"
        return None

    def default_fields(self, payload: dict[str, Any]) -> dict[str, Any]:
        meta = _meta(payload)
        record = payload.get("data") if isinstance(payload.get("data"), dict) else payload.get("current")
        if not isinstance(record, dict):
            return {}
        fields = top_level_scalars(record)
        for name, key in (("email", "emails"), ("email", "email"), ("phone", "phones"), ("phone", "phone")):
            value = primary(record.get(key))
            if value is not None and name not in fields:
                fields[name] = value
        kind = meta.get("entity") or meta.get("object")
        if isinstance(kind, str):
            fields["pipedrive_object"] = kind
        record_id = meta.get("entity_id") or record.get("id") or meta.get("id")
        if record_id is not None:
            fields["id"] = record_id
        return fields

"""`hubspot`: signed `X-HubSpot-Signature-v3: <base64 HMAC-SHA256 of method + URI + body +
timestamp>` with the app's client secret, `X-HubSpot-Request-Timestamp` (milliseconds) within
five minutes. Two shapes come signed so:
- an app's webhook subscription: a JSON list of events; each `*.creation` event is a lead
  (`id` its `objectId`, with the event's own values: `subscriptionType`, `portalId`…), other
  events (property changes, deletions) are answered 2xx and left alone;
- a workflow's "Send a webhook" action: one record as the CRM API shapes it, `id` its `id`
  (or `objectId`, `vid`) and each of its `properties` under its own name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.routing.rules.lead_fields import read_json
from bot.sources.config import SourceConfig
from bot.sources.kind import Kind, RawRequest, Split
from bot.sources.signatures import as_bytes, b64, bad_signature, header, hmac_sha256, same, timestamp

# HubSpot signs the URI with these escapes decoded (its documented list), and no others.
DECODED = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'",
           "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}


def signed_uri(url: str) -> str:
    for escaped, plain in DECODED.items():
        url = url.replace(escaped, plain).replace(escaped.lower(), plain)
    return url


class HubSpotKind(Kind):
    name = "hubspot"
    auth_headers = ("X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp")

    def authenticate(self, request: RawRequest, source: SourceConfig, secret: str | None,
                     now: datetime) -> None:
        given = header(request, "X-HubSpot-Signature-v3", "HubSpot")
        sent_at = header(request, "X-HubSpot-Request-Timestamp", "HubSpot")
        timestamp(sent_at, "X-HubSpot-Request-Timestamp", now, milliseconds=True)
        if secret is not None:
            for url in request.urls:
                signed = as_bytes(request.method + signed_uri(url)) + request.body + as_bytes(sent_at)
                if same(given, b64(hmac_sha256(secret, signed))):
                    return
        raise bad_signature("HubSpot", "app's client secret (and, behind a proxy, that public_url is the "
                                       "address HubSpot calls)")

    def split(self, body: bytes, content_type: str) -> Split:
        try:
            data: Any = read_json(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            return Split(problem=f"the body is not JSON ({str(error)[:160]})")
        if isinstance(data, list) and data:
            return self.events(data)
        if isinstance(data, dict):
            return self.events([data])
        return Split(problem="the body is neither a list of webhook events nor a record")

    def not_a_lead(self, payload: dict[str, Any]) -> str | None:
        kind = payload.get("subscriptionType")
        if isinstance(kind, str) and not kind.endswith(".creation"):
            return f"a HubSpot {kind} event is not a new record"
        return None

    def default_fields(self, payload: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        properties = payload.get("properties")
        if isinstance(properties, dict):
            for name, value in properties.items():
                if isinstance(value, dict):  # the legacy contacts API: {"value": ...}
                    value = value.get("value")
                if value is None or isinstance(value, str | int | float | bool):
                    fields[name] = value
        for key in ("id", "objectId", "vid"):
            if payload.get(key) is not None:
                fields["id"] = payload[key]
                break
        return fields

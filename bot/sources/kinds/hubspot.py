"""`hubspot`: signed `X-HubSpot-Signature-v3: <base64 HMAC-SHA256 of method + URI + body +
timestamp>` with the app's client secret, `X-HubSpot-Request-Timestamp` (milliseconds) within
five minutes. Two shapes come signed so:
- an app's webhook subscription: a JSON list of events; each `*.creation` event is a lead
  (`id` its `objectId`, with the event's own values: `subscriptionType`, `portalId`…), other
  events (property changes, deletions) are answered 2xx and left alone;
- a workflow's "Send a webhook" action: one record as the CRM API shapes it, `id` its `id`
  (or `objectId`, `vid`) and each of its `properties` under its own name.

Set up: in HubSpot, your app's Webhooks → Target URL (or a workflow's "Send a webhook" action
with the app's request signature), paste https://YOUR-SERVER/sources/NAME; the environment
variable named by `secret_env` holds the app's Auth → Client secret. Behind a proxy that
rewrites the address, set `public_url` to the address HubSpot calls: it signs its URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.routing.rules.lead_fields import read_json
from bot.sources.kind import RawRequest, Split
from bot.sources.signatures import as_bytes
from bot.sources.signed_kind import SignedKind

# HubSpot signs the URI with these escapes decoded (its documented list), and no others.
DECODED = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'",
           "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}


def signed_uri(url: str) -> str:
    for escaped, plain in DECODED.items():
        url = url.replace(escaped, plain).replace(escaped.lower(), plain)
    return url


class HubSpotKind(SignedKind):
    name = "hubspot"
    secret = "the app's client secret (HubSpot: your app → Auth → Client secret)"
    vendor = "HubSpot"
    signature_header = "X-HubSpot-Signature-v3"
    timestamp_header = "X-HubSpot-Request-Timestamp"
    milliseconds = True
    encoding = "base64"
    mismatch_hint = "app's client secret (and, behind a proxy, that public_url is the address HubSpot calls)"

    def signed_messages(self, request: RawRequest, sent_at: str | None) -> Iterable[bytes]:
        """Method + URI + body + timestamp, for each address HubSpot may have called."""
        for url in request.urls:
            yield as_bytes(request.method + signed_uri(url)) + request.body + as_bytes(sent_at or "")

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

"""Each vendor's signature, written from its documentation (independently of bot/sources), so a
test signs a fixture exactly as the sender would."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _hmac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def typeform(secret: str, body: bytes) -> dict[str, str]:
    """Typeform: `Typeform-Signature: sha256=` + base64(HMAC-SHA256(secret, raw body))."""
    return {"Typeform-Signature": "sha256=" + base64.b64encode(_hmac(secret, body)).decode()}


def tally(secret: str, body: bytes) -> dict[str, str]:
    """Tally: `Tally-Signature: ` base64(HMAC-SHA256(secret, raw body))."""
    return {"Tally-Signature": base64.b64encode(_hmac(secret, body)).decode()}


def calendly(secret: str, body: bytes, unix: int) -> dict[str, str]:
    """Calendly: `Calendly-Webhook-Signature: t=<unix>,v1=<hex HMAC-SHA256(key, "t.body")>`."""
    digest = _hmac(secret, str(unix).encode() + b"." + body).hex()
    return {"Calendly-Webhook-Signature": f"t={unix},v1={digest}"}


def webflow(secret: str, body: bytes, millis: int) -> dict[str, str]:
    """Webflow: `x-webflow-signature: <hex HMAC-SHA256(secret, "timestamp:body")>`, ms timestamp."""
    return {"x-webflow-timestamp": str(millis),
            "x-webflow-signature": _hmac(secret, str(millis).encode() + b":" + body).hex()}


def hubspot(secret: str, method: str, uri: str, body: bytes, millis: int) -> dict[str, str]:
    """HubSpot v3: base64(HMAC-SHA256(client secret, method + uri + body + timestamp))."""
    signed = method.encode() + uri.encode() + body + str(millis).encode()
    return {"X-HubSpot-Signature-v3": base64.b64encode(_hmac(secret, signed)).decode(),
            "X-HubSpot-Request-Timestamp": str(millis), "X-HubSpot-Signature-Version": "v3"}


def basic(user: str, password: str) -> dict[str, str]:
    """Pipedrive: HTTP basic auth with the webhook's http_auth_user / http_auth_password."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

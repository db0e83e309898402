"""`webflow`: the form_submission webhook, signed `x-webflow-signature: <hex HMAC-SHA256 of
"timestamp:body">` with `x-webflow-timestamp` in milliseconds, five minutes' tolerance.
Default mapping: `id` is `payload.id`; each submitted field under its own name; `form` is the
form's name, `site_id` its site."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.sources.config import SourceConfig
from bot.sources.kind import Kind, RawRequest
from bot.sources.mapping import top_level_scalars
from bot.sources.signatures import as_bytes, bad_signature, header, hmac_sha256, same, timestamp


class WebflowKind(Kind):
    name = "webflow"
    auth_headers = ("x-webflow-signature", "x-webflow-timestamp")

    def authenticate(self, request: RawRequest, source: SourceConfig, secret: str | None,
                     now: datetime) -> None:
        given = header(request, "x-webflow-signature", "Webflow")
        sent_at = header(request, "x-webflow-timestamp", "Webflow")
        timestamp(sent_at, "x-webflow-timestamp", now, milliseconds=True)
        signed = as_bytes(sent_at) + b":" + request.body
        if secret is None or not same(given, hmac_sha256(secret, signed).hex()):
            raise bad_signature("Webflow", "app's client secret (or the webhook's secret)")

    def not_a_lead(self, payload: dict[str, Any]) -> str | None:
        trigger = payload.get("triggerType")
        if trigger not in (None, "form_submission"):
            return f"a Webflow {trigger} event is not a form submission"
        return None

    def default_fields(self, payload: dict[str, Any]) -> dict[str, Any]:
        submission = payload.get("payload")
        if not isinstance(submission, dict):
            return {}
        fields: dict[str, Any] = {}
        if isinstance(submission.get("name"), str):
            fields["form"] = submission["name"]
        for key, name in (("siteId", "site_id"), ("formId", "form_id"), ("submittedAt", "submitted_at")):
            if isinstance(submission.get(key), str):
                fields[name] = submission[key]
        data = submission.get("data")
        if isinstance(data, dict):
            fields.update({k.strip(): v for k, v in top_level_scalars(data).items() if k.strip()})
        if submission.get("id") is not None:
            fields["id"] = submission["id"]
        return fields

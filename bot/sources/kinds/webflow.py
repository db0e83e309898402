"""`webflow`: the form_submission webhook, signed `x-webflow-signature: <hex HMAC-SHA256 of
"timestamp:body">` with `x-webflow-timestamp` in milliseconds, five minutes' tolerance.
Default mapping: `id` is `payload.id`; each submitted field under its own name; `form` is the
form's name, `site_id` its site.

Set up: in Webflow, Site settings → Apps & integrations → Webhooks → Add webhook, trigger type
"Form submission", paste https://YOUR-SERVER/sources/NAME as its URL; the environment variable
named by `secret_env` holds the webhook's secret shown there (for a webhook an OAuth app
registers through the API, the app's client secret)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.sources.kind import RawRequest
from bot.sources.mapping import top_level_scalars
from bot.sources.signatures import as_bytes
from bot.sources.signed_kind import SignedKind


class WebflowKind(SignedKind):
    name = "webflow"
    secret = "the OAuth app's client secret, or the webhook's secret"
    vendor = "Webflow"
    signature_header = "x-webflow-signature"
    timestamp_header = "x-webflow-timestamp"
    milliseconds = True
    encoding = "hex"
    mismatch_hint = "app's client secret (or the webhook's secret)"

    def signed_messages(self, request: RawRequest, sent_at: str | None) -> Iterable[bytes]:
        return (as_bytes(sent_at or "") + b":" + request.body,)

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

"""What a request to POST /slack/events must be before Bolt sees it.

Why our own gate in front of Bolt: Bolt parses the body before it checks the signature
(so an unsigned body that is not JSON was a 500), logs a refused request whole (1 MiB, and
a newline in it forged a log line), hands header bytes to `hmac.compare_digest` (a non-ASCII
signature raised), and reads payload shapes only Slack sends (`payload=[]` raised deep in
its context builders). Here the headers are checked by their exact format, the signature
over the raw bytes, then the body's envelope against the shapes Slack documents; anything
else is a `Refused` with its status and plain words, and nothing reaches a listener.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from bot.routing.rules.lead_fields import read_json

MAX_SKEW = 5 * 60  # seconds; Slack's own rule for a replayed request
MAX_DEPTH = 64  # Slack's payloads nest a dozen levels; thousands is an attack on the parsers
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: `²`.isdigit() is true
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
SLACK_ID = re.compile(r"[A-Z0-9]{1,32}")  # users, teams: uppercase letters and digits
OBJECT_FIELDS = ("team", "enterprise", "channel", "container", "message", "view", "state")
CANNOT_READ = "Slack's request could not be read"
SSL_CHECK_BYTES = 1024
MAX_CHALLENGE = 200  # Slack's are about 50 characters; we echo it, so it is not a mirror for others' bytes


class Refused(Exception):
    """A request answered without Bolt: `status`, and `words` for the caller and the log."""

    def __init__(self, status: int, words: str) -> None:
        super().__init__(words)
        self.status, self.words = status, words


def check_headers(timestamp: str | None, signature: str | None, *, now: float | None = None) -> None:
    """401 unless both signing headers are there, in Slack's format, and the time is recent."""
    if not timestamp or not signature:
        raise Refused(401, "The request is not signed (no X-Slack-Signature or X-Slack-Request-Timestamp).")
    if not TIMESTAMP.fullmatch(timestamp):
        raise Refused(401, "X-Slack-Request-Timestamp is not a time in whole seconds.")
    if not SIGNATURE.fullmatch(signature):
        raise Refused(401, "X-Slack-Signature is not a Slack signature (v0= and 64 hex digits).")
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_SKEW:
        raise Refused(401, "The request is more than 5 minutes old (or from the future).")


def verify(secret: str, timestamp: str, signature: str, raw: bytes) -> None:
    """401 unless `signature` is Slack's HMAC-SHA256 of `v0:timestamp:body` (checked headers).

    Over the raw bytes, not slack-sdk's SignatureVerifier: it decodes the body as UTF-8 first
    and raises on one that is not, and such a body, signed, must be a 400 in words."""
    if not secret:
        raise Refused(401, "SLACK_SIGNING_SECRET is not set, so no request can be verified.")
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256)
    if not hmac.compare_digest(("v0=" + digest.hexdigest()).encode(), signature.encode()):
        raise Refused(401, "The request's signature does not match.")


def is_ssl_check(raw: bytes) -> bool:
    """Slack's unsigned SSL probe (`ssl_check=1`): answered 200, nothing is read from it."""
    if len(raw) > SSL_CHECK_BYTES or b"ssl_check=" not in raw:
        return False
    fields = dict(parse_qsl(raw.decode("latin-1")))
    return fields.get("ssl_check") == "1" and "payload" not in fields and "command" not in fields


def read_body(raw: bytes, content_type: str | None) -> str:
    """The signed body as text, once its envelope has the shape Slack sends (400 otherwise).

    The text is what Bolt parses again; it decides JSON or form the way Bolt's own
    `parse_body` does, so what was checked here is what the listeners get.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, f"{CANNOT_READ}: the body is not UTF-8.") from None
    if not text:
        raise Refused(400, f"{CANNOT_READ}: the body is empty.")
    if (content_type or "").split(";")[0] == "application/json" or text.startswith("{"):
        check_event_envelope(parse_json(text, "The body"))
        return text
    fields = parse_form(text)
    if "payload" in fields:
        check_interaction(parse_json(fields["payload"], "The `payload` field"))
        return text
    check_form_fields(fields)
    # Bolt reads any form with "payload" in it as an interaction (and finds none), so a command
    # like `/rotation pause payload day` went unanswered; %61 is the same `a` to a form reader.
    return text.replace("payload", "p%61yload")


def parse_json(text: str, what: str) -> dict[str, Any]:
    """A JSON object of bounded depth with a string `type`, or 400 saying what it is instead."""
    try:
        value = read_json(text)
    except (ValueError, RecursionError) as error:
        why = ("it is nested too deeply" if isinstance(error, RecursionError)
               else "a key is given twice" if "given twice" in str(error) else "it is not JSON")
        raise Refused(400, f"{CANNOT_READ}: {what.lower()} is not a JSON object ({why}).") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{CANNOT_READ}: {what.lower()} is JSON, but not an object.")
    if depth(value) > MAX_DEPTH:
        raise Refused(400, f"{CANNOT_READ}: {what.lower()} is nested more than {MAX_DEPTH} levels deep.")
    if not isinstance(value.get("type"), str):
        raise Refused(400, f"{CANNOT_READ}: {what.lower()} has no `type`.")
    return value


def depth(value: Any) -> int:
    """How deep lists and objects nest in `value` (iterative: no recursion to exhaust)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if level <= MAX_DEPTH:  # deeper than that is refused: no need to walk on
            todo.extend((child, level + 1) for child in children)
    return deepest


def parse_form(text: str) -> dict[str, str]:
    """A form whose every field comes once (Slack never repeats one; parsers disagree on which wins)."""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, f"{CANNOT_READ}: the body is neither JSON nor a form.") from None
    fields = dict(pairs)
    if len(fields) < len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise Refused(400, f"{CANNOT_READ}: the field {json.dumps(name)[:60]} is given twice.")
            seen.add(name)
    return fields


def check_event_envelope(body: dict[str, Any]) -> None:
    """Events API: a handshake with a challenge, or an event object; other types are Slack's own."""
    if body["type"] == "url_verification" and not isinstance(body.get("challenge"), str):
        raise Refused(400, f"{CANNOT_READ}: a url_verification without a `challenge`.")
    if body["type"] == "url_verification" and len(body["challenge"]) > MAX_CHALLENGE:
        raise Refused(400, f"{CANNOT_READ}: a `challenge` of over {MAX_CHALLENGE} characters is not Slack's.")
    if body["type"] == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise Refused(400, f"{CANNOT_READ}: an event_callback without an event.")
        if "event_id" in body and not isinstance(body["event_id"], str):
            raise Refused(400, f"{CANNOT_READ}: its `event_id` is not a string.")
    check_lists(body)


def check_interaction(payload: dict[str, Any]) -> None:
    """Interactivity: who clicked, and for a click the actions; for a modal its view."""
    user = payload.get("user")
    if not isinstance(user, dict) or not is_slack_id(user.get("id")):
        raise Refused(400, f"{CANNOT_READ}: the payload does not say who acted (`user.id`).")
    check_objects(payload)
    if payload["type"] == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            raise Refused(400, f"{CANNOT_READ}: a block_actions payload without actions.")
        for action in actions:
            if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
                raise Refused(400, f"{CANNOT_READ}: an action is not an object with an `action_id`.")
            if "value" in action and not isinstance(action["value"], str):
                raise Refused(400, f"{CANNOT_READ}: an action's `value` is not a string.")
    if payload["type"] in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("id"), str) \
                or not isinstance(view.get("callback_id"), str):
            raise Refused(400, f"{CANNOT_READ}: a {payload['type']} payload without its view.")
    if "trigger_id" in payload and not isinstance(payload["trigger_id"], str):
        raise Refused(400, f"{CANNOT_READ}: its `trigger_id` is not a string.")
    if "response_url" in payload and not is_web_address(payload["response_url"]):
        raise Refused(400, f"{CANNOT_READ}: its `response_url` is not a web address.")


def check_objects(payload: dict[str, Any]) -> None:
    """The fields of an interaction that Bolt and our listeners read as objects are objects (or null)."""
    for holder in (payload, payload.get("view")):
        if not isinstance(holder, dict):
            continue
        for key in OBJECT_FIELDS:
            if holder.get(key) is not None and not isinstance(holder[key], dict):
                raise Refused(400, f"{CANNOT_READ}: its `{key}` is not an object.")
    check_lists(payload)


def check_lists(body: dict[str, Any]) -> None:
    """Bolt reads the first of these lists as an object."""
    authorizations = body.get("authorizations")
    if authorizations is not None and not (
            isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)):
        raise Refused(400, f"{CANNOT_READ}: its `authorizations` are not a list of objects.")
    urls = body.get("response_urls")
    if urls is not None and not (isinstance(urls, list) and all(isinstance(u, dict) for u in urls)):
        raise Refused(400, f"{CANNOT_READ}: its `response_urls` are not a list of objects.")
    state = body.get("view", {}).get("state") if isinstance(body.get("view"), dict) else None
    if isinstance(state, dict) and state.get("values") is not None and not isinstance(state["values"], dict):
        raise Refused(400, f"{CANNOT_READ}: its view's state values are not an object.")


def check_form_fields(fields: dict[str, str]) -> None:
    """A slash command says who typed it and where to answer; any other flat form is ignored."""
    if "command" not in fields:
        return
    if not is_slack_id(fields.get("user_id")):
        raise Refused(400, f"{CANNOT_READ}: a slash command that does not say who typed it (`user_id`).")
    if not is_web_address(fields.get("response_url")):
        raise Refused(400, f"{CANNOT_READ}: a slash command without a `response_url` to answer at.")


def is_web_address(value: object) -> bool:
    """Where Slack takes answers (`response_url`): an http(s) address, nothing else."""
    return isinstance(value, str) and value.startswith(("https://", "http://")) and value.isprintable()


def is_slack_id(value: object) -> bool:
    return isinstance(value, str) and SLACK_ID.fullmatch(value) is not None


def log_line(refused: Refused, client: str | None, limit: int = 200) -> str:
    """One line for the log: our own words and the client's address, escaped and bounded.

    Never the body or a header: what a client sends must not fill the log or forge a line.
    """
    line = f"refused POST /slack/events from {client or 'unknown'}: {refused.status} {refused.words}"
    return one_line(line, limit)


def one_line(text: str, limit: int = 200) -> str:
    """`text` with control and non-ASCII characters escaped, cut to `limit` characters."""
    escaped = json.dumps(text)[1:-1]
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"

"""Build requests the way Slack sends them to ``POST /slack/events``, signed.

Why hand-built payloads: Bolt routes on the exact shape of what Slack posts
(slash commands are a flat form; interactions are a form with one ``payload``
field holding JSON; events are a JSON envelope), and the signature covers the
raw body bytes. These helpers reproduce Slack's real payloads (field names as
in Slack's docs and bolt-python's own scenario tests) so the bot's HTTP
endpoint is tested as Slack will drive it.

Every builder returns ``(body, headers)``: ``body`` is the exact ``str`` that
was signed (send it unchanged, e.g. ``client.post(url, data=body,
headers=headers)``), and ``headers`` carry ``Content-Type``,
``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``. Pass an old
``timestamp`` to build a replayed request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

JsonDict = dict[str, Any]

TEAM_ID = "T0TEAM"
TEAM_DOMAIN = "test-team"
API_APP_ID = "A0ROTATION"
BOT_USER_ID = "UBOT"
VERIFICATION_TOKEN = "legacy-verification-token"
DEFAULT_RESPONSE_URL = "https://hooks.slack.com/commands/T0TEAM/1111/abcdef"
DEFAULT_TRIGGER_ID = "1111111111.2222222222.abcdef0123456789"
FORM = "application/x-www-form-urlencoded"


def sign(secret: str, body: str | bytes, timestamp: int | str | None = None) -> dict[str, str]:
    """Slack's v0 signature headers for ``body`` (HMAC-SHA256 of ``v0:ts:body``)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def _signed(
    secret: str, body: str, content_type: str, timestamp: int | str | None
) -> tuple[str, dict[str, str]]:
    return body, {"Content-Type": content_type, **sign(secret, body, timestamp)}


def _user(user_id: str, user_name: str) -> JsonDict:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID}


def _team() -> JsonDict:
    return {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def slash_command(
    secret: str,
    text: str,
    user_id: str = "U01ALICE",
    user_name: str = "alice",
    command: str = "/rotation",
    response_url: str = DEFAULT_RESPONSE_URL,
    trigger_id: str = DEFAULT_TRIGGER_ID,
    timestamp: int | str | None = None,
    channel_id: str = "C0GENERAL",
    channel_name: str = "general",
) -> tuple[str, dict[str, str]]:
    """A slash command invocation: a flat form, as Slack posts it.

    With ``should_escape: true`` in the manifest, Slack rewrites mentions in
    ``text`` to ``<@U123|name>``; pass ``text`` already in that form.
    """
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return _signed(secret, urlencode(fields), FORM, timestamp)


def _interaction(
    secret: str, payload: JsonDict, timestamp: int | str | None
) -> tuple[str, dict[str, str]]:
    """Interactions are a form with a single ``payload`` field holding JSON."""
    return _signed(secret, urlencode({"payload": json.dumps(payload)}), FORM, timestamp)


def block_action(
    secret: str,
    action_id: str,
    value: str | None,
    user_id: str = "U01ALICE",
    view: JsonDict | None = None,
    message: JsonDict | None = None,
    container: JsonDict | None = None,
    response_url: str | None = None,
    *,
    user_name: str = "alice",
    block_id: str = "actions",
    channel_id: str = "D01ALICE",
    action: JsonDict | None = None,
    timestamp: int | str | None = None,
) -> tuple[str, dict[str, str]]:
    """A ``block_actions`` interaction: a button click by default.

    Give ``message`` (a posted message with at least ``ts``) for a click in a
    message: the payload then has ``channel``, ``message`` and a message
    ``container``. Give ``view`` (with ``id``) for a click in a modal or the App
    Home: a view ``container``, no channel. ``action`` overrides/extends the
    action entry (e.g. ``{"type": "static_select", "selected_option": {...}}``).
    """
    entry: JsonDict = {
        "action_id": action_id,
        "block_id": block_id,
        "type": "button",
        "action_ts": f"{time.time():.6f}",
    }
    if value is not None:
        entry["value"] = value
    entry.update(action or {})
    payload: JsonDict = {
        "type": "block_actions",
        "user": _user(user_id, user_name),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": DEFAULT_TRIGGER_ID,
        "team": _team(),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [entry],
    }
    if view is not None:
        payload["view"] = view
        payload["container"] = {"type": "view", "view_id": view.get("id", "V123")}
    else:
        message_ts = str((message or {}).get("ts", "1700000000.000100"))
        payload["channel"] = {"id": channel_id, "name": "directmessage"}
        payload["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        if message is not None:
            payload["message"] = message
    if container is not None:
        payload["container"] = container
    if response_url is not None:
        payload["response_url"] = response_url
    return _interaction(secret, payload, timestamp)


def view_submission(
    secret: str,
    callback_id: str,
    values: JsonDict,
    user_id: str = "U01ALICE",
    private_metadata: str = "",
    view_id: str = "V123",
    *,
    user_name: str = "alice",
    blocks: list[JsonDict] | None = None,
    response_urls: list[JsonDict] | None = None,
    timestamp: int | str | None = None,
) -> tuple[str, dict[str, str]]:
    """A modal's ``view_submission``.

    ``values`` is ``view.state.values`` in Slack's shape, ``{block_id:
    {action_id: {"type": ..., "value" | "selected_option" | "selected_date" |
    "selected_user" ...}}}``; the ``plain_text``/``datepicker``/
    ``static_select``/``users_select`` helpers build the inner dicts. A bare
    string as the inner value is taken as a ``plain_text_input``.
    """
    state = {
        block: {action: plain_text(v) if isinstance(v, str) else v for action, v in actions.items()}
        for block, actions in values.items()
    }
    payload: JsonDict = {
        "type": "view_submission",
        "team": _team(),
        "user": _user(user_id, user_name),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": DEFAULT_TRIGGER_ID,
        "view": {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": state},
            "hash": "1700000000.abcdefgh",
            "title": {"type": "plain_text", "text": "Lead Rotation"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "submit": {"type": "plain_text", "text": "Submit"},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": API_APP_ID,
            "external_id": "",
            "app_installed_team_id": TEAM_ID,
            "bot_id": "BBOT",
        },
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _interaction(secret, payload, timestamp)


def plain_text(value: str | None) -> JsonDict:
    """State of a ``plain_text_input`` (an empty field arrives as ``None``)."""
    return {"type": "plain_text_input", "value": value}


def datepicker(date: str | None) -> JsonDict:
    """State of a ``datepicker``: ``YYYY-MM-DD`` or ``None`` when left empty."""
    return {"type": "datepicker", "selected_date": date}


def static_select(value: str | None, text: str | None = None) -> JsonDict:
    """State of a ``static_select`` (``selected_option`` is ``None`` when unset)."""
    option = None
    if value is not None:
        option = {
            "text": {"type": "plain_text", "text": text or value, "emoji": True},
            "value": value,
        }
    return {"type": "static_select", "selected_option": option}


def users_select(user_id: str | None) -> JsonDict:
    """State of a ``users_select``."""
    return {"type": "users_select", "selected_user": user_id}


def event_callback(
    secret: str,
    event: JsonDict,
    event_id: str = "Ev1",
    retry_num: int | None = None,
    *,
    timestamp: int | str | None = None,
) -> tuple[str, dict[str, str]]:
    """An Events API ``event_callback`` envelope around ``event`` (JSON body).

    With ``retry_num``, adds the headers Slack puts on redeliveries
    (``X-Slack-Retry-Num``, ``X-Slack-Retry-Reason: http_timeout``). Bolt does
    not drop retries itself: the same ``event_id`` reaches the listeners again,
    so deduplication is the app's job.
    """
    now = int(time.time())
    envelope = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "context_enterprise_id": None,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": now,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }
    body, headers = _signed(secret, json.dumps(envelope), "application/json", timestamp)
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return body, headers


def user_change_event(
    user_id: str,
    status_text: str = "",
    status_emoji: str = "",
    status_expiration: int = 0,
    **user_fields: Any,
) -> JsonDict:
    """A ``user_change`` event (what Slack sends when a profile or status changes).

    Slack sends the whole user object; ``status_expiration`` is a Unix time,
    0 for "don't clear".
    """
    name = user_id.lower()
    user: JsonDict = {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": False,
        "real_name": name.title(),
        "tz": "America/New_York",
        "tz_label": "Eastern Standard Time",
        "tz_offset": -18000,
        "is_bot": False,
        "updated": int(time.time()),
        "profile": {
            "real_name": name.title(),
            "display_name": name,
            "status_text": status_text,
            "status_emoji": status_emoji,
            "status_emoji_display_info": [],
            "status_expiration": status_expiration,
        },
    }
    user.update(user_fields)
    now = time.time()
    return {"type": "user_change", "user": user, "cache_ts": int(now), "event_ts": f"{now:.6f}"}


def url_verification(
    secret: str, challenge: str = "challenge-token", *, timestamp: int | str | None = None
) -> tuple[str, dict[str, str]]:
    """The handshake Slack sends when a Request URL is saved."""
    body = json.dumps(
        {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    )
    return _signed(secret, body, "application/json", timestamp)

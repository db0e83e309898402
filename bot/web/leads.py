"""POST /leads (intake) and GET /leads/{id}: bearer token, checks, then the core.

Every check runs before the core is called, and the core routes in one transaction,
so a rejected request changes nothing. A 201 is sent only after the commit.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.config.settings import Settings
from bot.routing.errors import NotFound, RoutingError
from bot.routing.results import LeadRecord
from bot.routing.service import RoutingService, lead_id_of
from bot.web.metrics import Metrics

MAX_ID_LENGTH = 200  # the leads table's key column
SCALARS = (str, int, float, bool)
UNSTORABLE = "contains a character that cannot be stored (a NUL, or half of a surrogate pair)."


class Rejected(Exception):
    """A request answered with an error status and `{"error": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def check_token(request: web.Request, token: str | None) -> None:
    if token is None:
        raise Rejected(503, "Lead intake is switched off: set ROTATION_INTAKE_TOKEN to turn it on.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Rejected(401, "Send the intake token as `Authorization: Bearer <token>`.")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Rejected(401, "The bearer token is not the intake token.")


async def read_body(request: web.Request, limit: int) -> bytes:
    too_big = f"The request body is over the limit of {limit} bytes."
    if request.content_length is not None and request.content_length > limit:
        raise Rejected(413, too_big)
    body = bytearray()
    try:
        async for chunk in request.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > limit:
                raise Rejected(413, too_big)
    except web.RequestPayloadError:  # e.g. Content-Encoding: gzip on a body that is not gzip
        encoding = request.headers.get("Content-Encoding", "none")
        raise Rejected(400, f"The body could not be read as its Content-Encoding ({encoding}) says; "
                            "send it as that encoding, or as plain JSON without the header.") from None
    return bytes(body)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_lead(body: bytes) -> tuple[str, dict[str, Any]]:
    """The lead's id and fields, or `Rejected` (400 for the shape, 422 for a field's type)."""
    try:
        fields = json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected(400, f"The body is not valid JSON ({exc}).") from None
    if not isinstance(fields, dict):
        raise Rejected(400, "The body must be a JSON object of lead fields, like {\"id\": \"L-1\"}.")
    raw_id = fields.get("id")
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        raise Rejected(400, "The lead has no `id`: give each lead its source's id.")
    for name, value in fields.items():
        _check_field(name, value)
    try:
        lead_id = lead_id_of(fields)
    except RoutingError as exc:  # present but of the wrong type: a field of the wrong type
        raise Rejected(422, str(exc)) from None
    if len(lead_id) > MAX_ID_LENGTH:
        raise Rejected(422, f"The field `id` is longer than {MAX_ID_LENGTH} characters.")
    return lead_id, fields


def _check_field(name: str, value: Any) -> None:
    if not _storable(name):
        raise Rejected(422, f"The field name {name!a} {UNSTORABLE}")
    if value is not None and not isinstance(value, SCALARS):
        kind = "a list" if isinstance(value, list) else "an object"
        raise Rejected(422, f"The field `{name}` is {kind}; lead fields must be strings, numbers, "
                            "booleans or null.")
    if isinstance(value, str) and not _storable(value):
        raise Rejected(422, f"The field `{name}` {UNSTORABLE}")
    if isinstance(value, float) and not math.isfinite(value):  # pragma: no cover - parse_constant
        raise Rejected(422, f"The field `{name}` is not a finite number.")


def _storable(text: str) -> bool:
    """Whether every database we support keeps `text` as given.

    JSON may escape a NUL (PostgreSQL's text and jsonb refuse it) or half of a UTF-16
    surrogate pair (no UTF-8 encoding exists for it); such a lead could never be stored,
    so it is a 422 now rather than a 500 that says "try again".
    """
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def intake_handler(service: RoutingService, settings: Settings, metrics: Metrics,
                   on_routed: Callable[[], None]):  # type: ignore[no-untyped-def]
    async def handle(request: web.Request) -> web.Response:
        started = time.perf_counter()
        status: int | None = 500  # unless answered below: the error middleware's 500
        try:
            check_token(request, settings.intake_token)
            body = await read_body(request, settings.max_body_bytes)
            _lead_id, fields = parse_lead(body)
            outcome = await service.route(fields, actor="webhook")
            if outcome.created:
                on_routed()
                metrics.lead_routed(outcome.queue, outcome.status)
            answer = web.json_response(outcome.as_json(), status=201 if outcome.created else 200)
            status = answer.status
            return answer
        except Rejected as rejected:
            status = rejected.status
            return error(rejected.status, rejected.message)
        except RoutingError as exc:
            status = 422
            return error(422, str(exc))
        except asyncio.CancelledError:  # the client went away: nothing was answered
            status = None
            raise
        finally:
            if status is not None:
                metrics.answered(status)
                metrics.intake_latency.observe(time.perf_counter() - started)

    return handle


def lead_json(record: LeadRecord) -> dict[str, Any]:
    return {
        "lead_id": record.lead_id, "status": record.status, "queue": record.queue, "rule": record.rule,
        "reason": record.reason, "received_at": record.received_at.isoformat(), "fields": record.fields,
        "explanation": record.explanation, "assignments": record.assignments,
    }


def lookup_handler(service: RoutingService, settings: Settings):  # type: ignore[no-untyped-def]
    async def handle(request: web.Request) -> web.Response:
        try:
            check_token(request, settings.intake_token)
            record = await service.lead(request.match_info["lead_id"].strip())  # as POST reads ids
        except Rejected as rejected:
            return error(rejected.status, rejected.message)
        except NotFound as exc:
            return error(404, str(exc))
        return web.json_response(lead_json(record))

    return handle

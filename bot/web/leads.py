"""POST /leads (intake) and GET /leads/{id}: bearer token, checks, then the core.

Every check runs before the core is called, and the core routes in one transaction,
so a rejected request changes nothing. A 201 is sent only after the commit.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from bot import json_text
from bot.config.settings import Settings
from bot.routing.errors import NotFound, RoutingError
from bot.routing.results import LeadRecord
from bot.routing.rules.lead_fields import (
    MAX_ID_LENGTH,
    LeadInvalid,
    checked_lead,
    id_text,
    read_json,
    storable,
)
from bot.routing.service import RoutingService
from bot.store.db import DatabaseUnavailable
from bot.web.bearer import BEARER_CHALLENGE, bearer_refusal, given_twice
from bot.web.connections import client_gone
from bot.web.content_coding import BodyUnreadable, decoded
from bot.web.handler import Handler
from bot.web.metrics import Metrics


class Rejected(Exception):
    """A request answered with an error status and `{"error": message}`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


ONE_EACH = ("Authorization", "Content-Type", "Content-Encoding")  # what /leads reads of a request's head


INTAKE_OFF = ("Lead intake is switched off on this server: ROTATION_INTAKE_TOKEN is not set, so retrying "
              "will not help. To turn it on, restart `rotation serve` with ROTATION_INTAKE_TOKEN set to a "
              "secret, and send it as `Authorization: Bearer <token>`.")


def error(status: int, message: str, headers: Any = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def check_token(request: web.Request, token: str | None,
                headers: tuple[str, ...] = ("Authorization",)) -> None:
    """The intake token, after checking that each of `headers` comes at most once (two
    values would leave us guessing which one the client meant)."""
    twice = given_twice(request, headers)
    if twice is not None:
        raise Rejected(400, twice)
    if token is None:  # 503 as the contract says, but no Retry-After: retrying will not help
        raise Rejected(503, INTAKE_OFF)
    refusal = bearer_refusal(request, token, name="intake token")
    if refusal is not None:
        raise Rejected(401, refusal, BEARER_CHALLENGE)


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
    except web.RequestPayloadError:  # e.g. a chunk size that is not a number
        raise Rejected(400, "The body could not be read: its chunked Transfer-Encoding is broken.") from None
    try:
        return decoded(bytes(body), request.headers.get("Content-Encoding"), limit)
    except BodyUnreadable as unreadable:
        raise Rejected(unreadable.status, unreadable.message) from None


def parse_lead(body: bytes) -> tuple[str, dict[str, Any]]:
    """The lead's id and fields, or `Rejected` (400 for the shape, 422 for a field's type)."""
    try:
        fields = read_json(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected(400, f"The body is not valid JSON ({exc}).") from None
    except RecursionError:  # thousands of nested brackets: no lead looks like that
        raise Rejected(400, "The body is not valid JSON for a lead: it is nested too deeply.") from None
    if not isinstance(fields, dict):
        raise Rejected(400, "The body must be a JSON object of lead fields, like {\"id\": \"L-1\"}.")
    try:
        lead_id = checked_lead(fields)  # the checks `rotation route` and `rotation import` apply too
    except LeadInvalid as exc:
        raise Rejected(400 if exc.malformed else 422, str(exc)) from None
    return lead_id, fields


def intake_handler(service: RoutingService, settings: Settings, metrics: Metrics) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        started = time.perf_counter()
        status: int | None = None  # what was answered, for the metrics (None: nothing)
        try:
            check_token(request, settings.intake_token, ONE_EACH)
            body = await read_body(request, settings.max_body_bytes)
            _lead_id, fields = parse_lead(body)
            outcome = await service.assignment.route(fields, actor="webhook")
            if outcome.created:
                metrics.lead_routed(outcome.queue, outcome.status)
            answer = web.json_response(outcome.as_json(), status=201 if outcome.created else 200,
                                       dumps=json_text.dumps)
            status = answer.status
            return answer
        except Rejected as rejected:
            status = rejected.status
            return error(rejected.status, rejected.message, rejected.headers)
        except RoutingError as exc:
            status = 422
            return error(422, str(exc))
        except asyncio.CancelledError:  # the client went away: nothing was answered
            raise
        except Exception as exc:  # answered by the error middleware: 503 if the database is away
            if not client_gone(request, exc):  # a hang-up mid-body is no answer of ours
                status = 503 if isinstance(exc, DatabaseUnavailable) else 500
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
        "explanation": record.explanation, "assignments": record.assignments, "source": record.source,
    }


def lookup_handler(service: RoutingService, settings: Settings) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        try:
            check_token(request, settings.intake_token)
            record = await service.assignment.lead(stored_id(request.match_info["lead_id"]))
        except Rejected as rejected:
            return error(rejected.status, rejected.message, rejected.headers)
        except NotFound as exc:
            return error(404, str(exc))
        return web.json_response(lead_json(record))

    return handle


def stored_id(given: str) -> str:
    """The id as POST /leads reads ids (without the invisible characters around it), or a 404
    for one no lead can have: with a NUL or half a surrogate pair (PostgreSQL cannot even
    compare those), or over the limit."""
    lead_id = id_text(given)
    if not storable(lead_id):
        raise Rejected(404, "No lead has that id: a lead's id never holds a NUL or half of a "
                            "surrogate pair.")
    if len(lead_id) > MAX_ID_LENGTH:
        raise Rejected(404, f"No lead has that id: a lead's id is at most {MAX_ID_LENGTH} characters.")
    return lead_id

"""The aiohttp application: routes, JSON errors, and the objects the handlers share."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from aiohttp import web

from bot.config.settings import Settings
from bot.routing.service import RoutingService
from bot.store.db import DatabaseUnavailable
from bot.web.connections import body_deadline, client_gone
from bot.web.handler import Handler
from bot.web.health import health_handler
from bot.web.leads import error, intake_handler, lookup_handler
from bot.web.log_text import quoted
from bot.web.metrics import Metrics, metrics_handler
from bot.web.sources import add_source_routes

log = logging.getLogger(__name__)

# Slack's own payloads (views, interactivity) may exceed the lead limit; /leads checks its own.
MIN_CLIENT_MAX_SIZE = 1024 * 1024


class SlackHandler(Protocol):
    async def handle(self, request: web.Request) -> web.StreamResponse: ...


RETRY_AFTER_SECONDS = 5
METRICS = web.AppKey("metrics", Metrics)
SERVICE = web.AppKey("service", RoutingService)


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every error answer is `{"error": "plain words"}`, unexpected ones included.

    Log lines quote the client's method and path escaped and bounded (`quoted`): a path may
    hold anything a client cares to send.
    """
    try:
        answer: web.StreamResponse = await handler(request)
        return answer
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return http_error(exc)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        where = f"{quoted(request.method, 20)} {quoted(request.path)}"
        if client_gone(request, exc):  # not our failure: one line, and an answer nobody will read
            log.info("the client at %s closed the connection before %s was read", request.remote, where)
            return error(400, "The connection closed before the whole request arrived.")
        if isinstance(exc, DatabaseUnavailable):
            log.error("the database is unavailable answering %s: %s", where, quoted(exc, 500))
            return database_unavailable()
        log.exception("unexpected error answering %s", where)
        return error(500, "Something went wrong on our side; nothing was changed. Please try again.")


BODY_HEADERS = ("Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding")


def http_error(exc: web.HTTPException) -> web.Response:
    """aiohttp's own refusal (404, 405, 413...) as `{"error": ...}`, keeping the headers it
    carries (a 405's `Allow`, a 401's `WWW-Authenticate`) other than those of its text body."""
    headers = {name: value for name, value in exc.headers.items() if name.title() not in BODY_HEADERS}
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return error(exc.status, f"This address does not answer that method; it answers {allowed}.", headers)
    return error(exc.status, exc.reason, headers)


def database_unavailable() -> web.Response:
    """503 with Retry-After: the request changed nothing and may well work in a moment."""
    answer = error(503, "The database cannot be reached just now; nothing was changed. Please try again.")
    answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return answer


def create_app(service: RoutingService, settings: Settings, slack: SlackHandler | None = None, *,
               metrics: Metrics | None = None) -> web.Application:
    """The app. Delivery hears of new messages from the service itself (its transactions'
    `on_commit` and hand-over, which `rotation serve` points at its delivery loop)."""
    metrics = metrics or Metrics()
    app = web.Application(middlewares=[json_errors, body_deadline],
                          client_max_size=max(settings.max_body_bytes, MIN_CLIENT_MAX_SIZE))
    app[METRICS] = metrics
    app[SERVICE] = service
    app.router.add_post("/leads", intake_handler(service, settings, metrics))
    # [\s\S], not `.`: an id may hold a newline, and its lead must still be found
    app.router.add_get(r"/leads/{lead_id:[\s\S]+}", lookup_handler(service, settings))
    app.router.add_get("/healthz", health_handler(service.db))
    app.router.add_get("/metrics", metrics_handler(metrics, service.db, settings.metrics_token))
    app.router.add_post("/slack/events", slack_handler(slack))
    add_source_routes(app, service, settings, metrics)
    return app


def slack_handler(slack: SlackHandler | None) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        if slack is None:
            return error(503, "Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.")
        return await slack.handle(request)

    return handle

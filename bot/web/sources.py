"""POST /sources/{name}: what a configured lead source's sender sends, translated for
`bot.sources.intake` (the bytes, the headers, the addresses the sender may have signed) and
its answer translated back. Errors are `{"error": ...}` like every other address."""

from __future__ import annotations

import os

from aiohttp import web

from bot.config.settings import Settings
from bot.routing.service import RoutingService
from bot.sources.config import SourceConfig
from bot.sources.intake import SourceIntake
from bot.sources.kind import RawRequest, Refused
from bot.sources.metrics import SourceMetrics
from bot.sources.registry import kind_of
from bot.web.bearer import given_twice
from bot.web.handler import Handler
from bot.web.leads import Rejected, error, read_body
from bot.web.metrics import Metrics

MIN_SOURCE_BODY = 1024 * 1024  # a Salesforce message of 100 notifications outgrows /leads' limit
READ_ONCE = ("Content-Type", "Content-Encoding")


class NotSetUp(Exception):
    """The source's secret is not in this server's environment."""


def secret_for(source: SourceConfig, settings: Settings) -> str | None:
    """The secret a request to `source` is checked with (None for kinds that take none)."""
    if kind_of(source.kind).intake_token and source.secret_env is None:
        if settings.intake_token is None:
            raise NotSetUp(f"the {source.kind} source uses the intake token, and ROTATION_INTAKE_TOKEN is "
                           "not set")
        return settings.intake_token
    if source.secret_env is None:
        return None
    secret = os.environ.get(source.secret_env)
    if not secret:
        raise NotSetUp(f"the environment variable {source.secret_env} (its secret_env) is not set")
    return secret


def signed_urls(request: web.Request, source: SourceConfig) -> tuple[str, ...]:
    """Every address the sender may have called: the one we saw, the one a proxy in front says
    (X-Forwarded-Proto/Host), its https twin (TLS ended at a proxy), and `public_url`."""
    path = request.raw_path
    host = request.headers.get("Host", request.host)
    urls = [f"{request.scheme}://{host}{path}", f"https://{host}{path}"]
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip()
    forwarded_host = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
    if proto or forwarded_host:
        urls.append(f"{proto or request.scheme}://{forwarded_host or host}{path}")
    if source.public_url:
        query = f"?{request.query_string}" if request.query_string else ""
        urls.append(source.public_url + query)
    return tuple(dict.fromkeys(urls))


async def raw_request(request: web.Request, source: SourceConfig, limit: int) -> RawRequest:
    """The request's bytes and headers; Rejected for one that cannot be read as sent (a header
    the kind reads given twice, a body over the limit or in an unknown encoding)."""
    twice = given_twice(request, (*kind_of(source.kind).auth_headers, *READ_ONCE))
    if twice is not None:
        raise Rejected(400, twice)
    body = await read_body(request, limit)
    return RawRequest(request.method, request.headers, body, signed_urls(request, source), request.query)


def source_handler(intake: SourceIntake, settings: Settings) -> Handler:
    limit = max(settings.max_body_bytes, MIN_SOURCE_BODY)

    async def handle(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        source = await intake.source(name)
        if source is None:
            return error(404, f"There is no source named {name[:100]!r} in the routing config (`sources:`).")
        try:
            secret = secret_for(source, settings)
        except NotSetUp as missing:  # no Retry-After: retrying will not help until the server is set up
            return error(503, f"The source {source.name} is not set up on this server: {missing}. Set it and "
                              "restart `rotation serve`.")
        try:
            raw = await raw_request(request, source, limit)
        except Rejected as rejected:  # unreadable before any kind looked at it: refused all the same
            intake.count(source.name, "received")
            intake.count(source.name, "refused")
            return error(rejected.status, rejected.message, rejected.headers)
        try:
            answer = await intake.receive(source, raw, secret, request.headers.get("Content-Type", ""))
        except Refused as refused:
            challenge = kind_of(source.kind).challenge if refused.status == 401 else None
            return error(refused.status, refused.message, challenge)
        return web.Response(status=answer.status, body=answer.body, headers={
            "Content-Type": answer.content_type, **answer.headers})

    return handle


def add_source_routes(app: web.Application, service: RoutingService, settings: Settings,
                      metrics: Metrics) -> SourceIntake:
    """Serve every configured source at /sources/{name}, counted on the app's metrics."""
    intake = SourceIntake(service, SourceMetrics(metrics.registry), lead_routed=metrics.lead_routed)
    app.router.add_post("/sources/{name}", source_handler(intake, settings))
    return intake

"""GET /healthz: 200 when the database answers and takes writes, else 503 (for load balancers).

A database that answers reads but refuses writes (disk full, read-only) answers every
lead with 503, so it is not healthy: a balancer should send the traffic elsewhere.
"""

from __future__ import annotations

from aiohttp import web

from bot.store.db import Database
from bot.web.handler import Handler


def health_handler(db: Database) -> Handler:
    async def handle(_request: web.Request) -> web.Response:
        if not await db.ping():
            return _unhealthy("The database does not answer.")
        if not await db.takes_writes():
            return _unhealthy("The database answers but cannot take writes (disk full or read-only?).")
        return web.json_response({"status": "ok"})

    return handle


def _unhealthy(reason: str) -> web.Response:
    return web.json_response({"status": "unavailable", "error": reason}, status=503,
                             headers={"Retry-After": "5"})

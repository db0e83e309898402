"""GET /healthz: 200 when the database answers, else 503 (for load balancers)."""

from __future__ import annotations

from aiohttp import web

from bot.store.db import Database


def health_handler(db: Database):  # type: ignore[no-untyped-def]
    async def handle(_request: web.Request) -> web.Response:
        if await db.ping():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unavailable", "error": "The database does not answer."},
                                 status=503)

    return handle

"""How long a client may take: idle and slow connections are closed, so they cannot pile up.

The contract: a connection that sends nothing, or dribbles its headers or its body, is
closed within 15 seconds. Two limits make that true, and they add up to less than 15:

- `HEADERS_TIMEOUT`: aiohttp's `keepalive_timeout`. aiohttp arms it when a connection
  opens and again after every answer, and when it fires on a connection still waiting
  for a complete request (no bytes, or only part of the headers) it closes it. So it
  bounds both an idle keep-alive connection and headers sent one byte a second.
- `BODY_TIMEOUT`: aiohttp has no deadline for a body, so `body_deadline` (a middleware)
  gives the client this long after its headers to have sent the whole body, then closes
  the connection. The handler reading it sees the client gone, like a hang-up.

Behind a load balancer, set the balancer's idle timeout below `HEADERS_TIMEOUT` (10 s),
or it may send a request on a connection this server has just closed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from bot.web.log_text import quoted
from bot.web.refusal_log import refusal_logger

HEADERS_TIMEOUT = 10.0  # seconds from a connection's start (or its last answer) to a whole request head
BODY_TIMEOUT = 4.0  # seconds from the request head to the last byte of its body

log = logging.getLogger("bot.web.connections")


def app_runner(app: web.Application, *, shutdown_timeout: float) -> web.AppRunner:
    """The runner `rotation serve` listens with: our timeouts, one line per malformed request,
    and bodies left as sent (/leads decodes them itself: `content_coding`)."""
    return web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout,
                         keepalive_timeout=HEADERS_TIMEOUT, logger=refusal_logger(),
                         auto_decompress=False)


@web.middleware
async def body_deadline(request: web.Request, handler: Any) -> web.StreamResponse:
    """Close the connection if the body has not all arrived `BODY_TIMEOUT` after the head.

    The timer is left to fire even after the handler answers: a handler that answers
    early (a 401 before reading) leaves aiohttp reading the rest of the body, and that
    must not last longer either. Once the body has arrived the timer does nothing.
    """
    if request.body_exists and not request.content.is_eof():
        loop = asyncio.get_running_loop()
        loop.call_later(BODY_TIMEOUT, _close_if_body_unfinished, request)
    answer: web.StreamResponse = await handler(request)
    return answer


def _close_if_body_unfinished(request: web.Request) -> None:
    transport = request.transport
    if request.content.is_eof() or transport is None or transport.is_closing():
        return
    log.info("closed the connection from %s: its body for %s %s had not arrived %.0f s after its "
             "headers", request.remote, quoted(request.method, 20), quoted(request.path), BODY_TIMEOUT)
    transport.close()


def raise_open_files_limit() -> int | None:
    """Let this process open as many files as the system allows it (the hard limit).

    Every connection is a file descriptor, so the soft RLIMIT_NOFILE (often 1024) is how
    many clients serve can hold at once, less the few dozen its database and pipes use.
    Returns the limit now in force (None where there is no such limit, e.g. Windows).
    """
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return soft if soft != resource.RLIM_INFINITY else None
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError):
        return soft
    return wanted


def client_gone(request: web.Request, error: BaseException) -> bool:
    """Whether `error` is the client's connection closing under the handler (a hang-up, or
    `body_deadline` closing it), not a failure of ours: nothing to answer, nothing to count."""
    transport = request.transport
    return isinstance(error, ConnectionError) and (transport is None or transport.is_closing())


ACCEPT_FAILED = "socket.accept() out of system resource"
ACCEPT_FAILED_EVERY = 10.0  # seconds between two log lines about it


def quiet_accept_failures(loop: asyncio.AbstractEventLoop) -> None:
    """Log running out of file descriptors as one line every 10 s, not a traceback a try.

    When every descriptor is taken (too many clients at once), asyncio logs a traceback
    on each failed accept and retries a second later; the clients already connected are
    still served, and new ones once others close (idle ones within `HEADERS_TIMEOUT`).
    """
    last: list[float] = [-ACCEPT_FAILED_EVERY]

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != ACCEPT_FAILED:
            loop.default_exception_handler(context)
            return
        if loop.time() - last[0] >= ACCEPT_FAILED_EVERY:
            last[0] = loop.time()
            log.warning("new connections wait: all %s open files are in use (%s); raise the limit "
                        "(ulimit -n) to hold more clients at once", raise_open_files_limit() or "the",
                        quoted(context.get("exception"), 80))

    loop.set_exception_handler(handle)

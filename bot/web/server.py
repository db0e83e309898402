"""`rotation serve`: migrate, apply the config, then serve HTTP, deliver and run the jobs until a signal.

Shutdown on SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish,
stop the delivery loop and the jobs (each finishes what it holds), close Slack, dispose
the database, exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from sqlalchemy.exc import DBAPIError

from bot.config.settings import Settings, shown_database, without_password
from bot.crm.transport import CrmTransport
from bot.delivery.handover import HANDOVER_LEASE
from bot.delivery.loop import DeliveryLoop
from bot.delivery.process import DeliveryProcess, DeliveryProcessFailed
from bot.delivery.transports import close_transports, default_transports
from bot.jobs.runner import JobRunner
from bot.routing.admin.roster import replaced_calibrations
from bot.routing.events import Way
from bot.routing.service import RoutingService
from bot.slack.runtime import SlackAppTokenRefused, SlackRuntime
from bot.sources.stored import unset_secrets
from bot.stop_signals import on_stop_signals
from bot.store.db import Database, unavailable
from bot.web.app import create_app
from bot.web.connections import app_runner, quiet_accept_failures, raise_open_files_limit
from bot.web.metrics import Metrics

log = logging.getLogger("bot.serve")

SHUTDOWN_TIMEOUT = 15.0  # seconds in-flight requests get to finish


def run(settings: Settings) -> int:
    """Serve until SIGTERM/SIGINT; the process's exit code."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # one line per plugin
    try:
        return asyncio.run(serve(settings))
    except Exception:
        log.exception("rotation serve failed")
        return 1


async def serve(settings: Settings, *, stop: asyncio.Event | None = None,
                started: asyncio.Event | None = None) -> int:
    stop = stop or asyncio.Event()
    on_stop_signals(stop.set)
    db = Database(settings.database_url)
    try:
        return await _serve(db, settings, stop, started)
    finally:
        await db.dispose()


async def _serve(db: Database, settings: Settings, stop: asyncio.Event,
                 started: asyncio.Event | None) -> int:
    try:
        await db.migrate()
    except (OSError, DBAPIError) as error:
        if not unavailable(error):
            raise  # a migration that fails on a reachable database: the traceback says why
        reason = error.orig if isinstance(error, DBAPIError) else error
        log.error("cannot use the database at %s: %s", without_password(db.url), reason)
        return 1
    log.info("database: %s", shown_database(settings.database_url))
    service = RoutingService(db, webhook=bool(settings.webhook_url))
    if settings.routing_config and not await _apply_config(service, settings.routing_config):
        return 1
    team = await service.admin.team()
    if not team.config_version:
        log.warning("no routing config has been applied: every lead will wait unassigned. Set "
                    "ROTATION_CONFIG to a config file (see examples/routing.yaml), or run "
                    "`rotation config apply FILE`.")
    elif not team.rules:
        log.warning("the routing config in the database has no rules: every lead will wait "
                    "unassigned. Add a catch-all rule (`- {name: everyone, queue: QUEUE}`) and apply it.")
    if settings.intake_token is None:
        log.warning("lead intake is switched off: ROTATION_INTAKE_TOKEN is not set, so POST /leads "
                    "and GET /leads/{id} answer 503 until serve is restarted with it set "
                    "(any secret string; clients send it as `Authorization: Bearer <token>`).")
    for unset in await service.transactions.read(lambda c: unset_secrets(c, os.environ)):
        log.error("%s; that source's sender gets 503 until serve is restarted with it set", unset)
    slack = SlackRuntime.from_settings(settings, service)
    metrics = Metrics()
    delivery = _delivery(settings, db, service, slack, metrics)
    service.transactions.on_commit = delivery.wake  # every write may owe messages: send them at once
    if isinstance(delivery, DeliveryProcess):  # new leads' messages go to the child as they commit
        service.transactions.hand_over_to(delivery.take, lease=HANDOVER_LEASE, taking=delivery.taking)
    app = create_app(service, settings, slack, metrics=metrics)
    runner = app_runner(app, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    loops: list[asyncio.Task[Any]] = []
    intake_drained = asyncio.Event()  # when the delivery loop (or child) is told to finish
    code = 0
    try:
        starting: list[tuple[Any, type[Exception]]] = [] if slack is None else [(slack, SlackAppTokenRefused)]
        if isinstance(delivery, DeliveryProcess):
            starting.append((delivery, DeliveryProcessFailed))
        for part, refusal in starting:
            began = await _started(part, refusal, stop)
            if began is not True:
                return 1 if began is False else 0
        files = raise_open_files_limit()  # each connection is an open file
        quiet_accept_failures(asyncio.get_running_loop())
        try:
            await web.TCPSite(runner, settings.host, settings.port).start()
        except OSError as exc:
            log.error("cannot listen on %s:%d: %s", settings.host, settings.port, exc.strerror or exc)
            return 1
        log.info("serving on http://%s:%d (Slack: %s)", settings.host, settings.port,
                 "on" if slack is not None else "off, messages go to the log")
        if files is not None:
            log.info("open-files limit %d: about that many connections at once, less the few dozen "
                     "files the database and delivery use", files)
        loops.append(asyncio.create_task(delivery.run(intake_drained), name="delivery"))
        jobs = JobRunner(service=service, db=db, settings=settings)
        loops.append(asyncio.create_task(jobs.run_forever(stop), name="jobs"))
        if started is not None:
            started.set()
        if not await _until(stop, loops):
            code = 1
        log.info("shutting down: finishing in-flight requests")
    finally:
        stop.set()
        await runner.cleanup()  # stops listening, waits for in-flight handlers
        intake_drained.set()  # only now: the last requests may have handed messages over
        await _finish(loops)
        await delivery.close()
        if slack is not None:
            await slack.close()
    log.info("stopped")
    return code


async def _apply_config(service: RoutingService, path: str) -> bool:
    """Apply ROTATION_CONFIG, logging what `rotation config check` would say of it; False
    (logged) if it is not valid, and then nothing was applied."""
    from bot.config.routing import ConfigInvalid, check_file

    try:
        checked = check_file(path)
    except ConfigInvalid as invalid:
        log.error("ROTATION_CONFIG is not valid, not serving:\n%s", invalid)
        return False
    for remark in checked.remarks:  # warnings (likely not what was meant) and notes (how it was read)
        log.warning("ROTATION_CONFIG %s", remark.render(checked.source))
    applied = await service.admin.apply_config_if_changed(checked.config, actor="serve")
    if applied is None:
        log.info("the routing config %s says what was last applied: kept as it is in the database, "
                 "with the calibrations managers made since", path)
    else:
        log.info("applied the routing config %s", path)
        if applied["calibrations_replaced"]:
            log.warning("%s", replaced_calibrations(applied["calibrations_replaced"]))
        if applied.get("people_kept_from_slack"):
            log.info("kept %d people added in Slack that the config file does not name",
                     applied["people_kept_from_slack"])
    return True


class InlineDelivery:
    """The delivery loop in serve's own process (ROTATION_DELIVERY=inline, or one CPU)."""

    def __init__(self, loop: DeliveryLoop, wake: asyncio.Event) -> None:
        self.loop, self.wake = loop, wake.set

    async def run(self, stop: asyncio.Event) -> None:
        await self.loop.run(stop)

    async def close(self) -> None:
        await close_transports(self.loop.transports)


def _delivery(settings: Settings, db: Database, service: RoutingService, slack: SlackRuntime | None,
              metrics: Metrics) -> InlineDelivery | DeliveryProcess:
    if not settings.delivers_inline:
        return DeliveryProcess(settings, metrics)
    wake = asyncio.Event()
    transports = default_transports(slack, settings.webhook_url, settings.webhook_secret)
    transports[Way.CRM] = CrmTransport(settings, db)
    return InlineDelivery(DeliveryLoop(db, transports, service=service, metrics=metrics, wake=wake,
                                       max_attempts=settings.outbox_max_attempts), wake)


async def _started(part: Any, refusal: type[Exception], stop: asyncio.Event) -> bool | None:
    """Start Slack or the delivery process: True; False (logged in plain words) if it refused
    to; None if told to stop first (a SIGTERM while Slack or the child is slow to answer)."""
    starting = asyncio.ensure_future(part.start())
    await _until_stop_or(stop, [starting])
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        log.info("stopped while starting; not serving")
        return None
    try:
        starting.result()
    except refusal as refused:
        log.error("%s; not serving", refused)
        return False
    return True


async def _until(stop: asyncio.Event, loops: list[asyncio.Task[Any]]) -> bool:
    """Wait for the stop signal (True); a background loop that dies ends the wait too (False)."""
    await _until_stop_or(stop, loops)
    if stop.is_set():
        return True
    for task in loops:
        if task.done():
            error = None if task.cancelled() else task.exception()
            log.error("the %s loop stopped unexpectedly; shutting down", task.get_name(), exc_info=error)
    return False


async def _until_stop_or(stop: asyncio.Event, tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Return when `stop` is set or any of `tasks` is done."""
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopping


async def _finish(loops: list[asyncio.Task[Any]], timeout: float = 30.0) -> None:
    """Let the loops see `stop` and finish their current work; cancel what is still running."""
    if not loops:
        return
    _done, pending = await asyncio.wait(loops, timeout=timeout)
    for task in pending:
        task.cancel()
    for task in loops:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

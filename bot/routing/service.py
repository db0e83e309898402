"""The core's one door: every front end (CLI, webhook, Slack, jobs) holds a `RoutingService`
and calls the room it needs: `service.assignment.route(...)`, `service.availability.pause(...)`,
`service.ledger.report(...)`, `service.admin.calibrate(...)`.

Each room's method is one transaction run by `service.transactions` (retries, lock timeout,
the delivery loop's wake and hand-over), records who did it, and returns plain data from
`bot.routing.results`. Errors meant for a person are `RoutingError`s in plain words.
"""

from __future__ import annotations

from bot.routing.admin.service import AdminService
from bot.routing.assignment.router import Router
from bot.routing.assignment.service import AssignmentService
from bot.routing.availability.service import AvailabilityService
from bot.routing.clock import Clock, SystemClock
from bot.routing.ledger.service import LedgerService
from bot.routing.transactions import Transactions
from bot.store.db import Database


class RoutingService:
    def __init__(self, db: Database, clock: Clock | None = None, *, webhook: bool = False) -> None:
        self.db = db
        self.transactions = Transactions(db, clock or SystemClock())
        self.assignment = AssignmentService(self.transactions, Router(webhook=webhook))
        self.availability = AvailabilityService(self.transactions)
        self.ledger = LedgerService(self.transactions)
        self.admin = AdminService(self.transactions)

    @property
    def clock(self) -> Clock:
        """The one clock every room reads (tests swap in a manual one)."""
        return self.transactions.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self.transactions.clock = clock

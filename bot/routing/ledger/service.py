"""The queues' books, as the front ends read them (standings, the period's report) and the
period job turns them. Each method is one transaction (see `bot.routing.transactions`)."""

from __future__ import annotations

from sqlalchemy import Connection

from bot.routing.assignment.locks import lock_all_queues
from bot.routing.ledger import standings
from bot.routing.ledger.period_opening import open_due_periods
from bot.routing.ledger.report import PeriodReport, period_report
from bot.routing.results import QueueStandings, ReportRow
from bot.routing.team import load_team
from bot.routing.transactions import Transactions


class LedgerService:
    def __init__(self, transactions: Transactions) -> None:
        self.transactions = transactions

    async def standings(self, queue: str | None = None) -> list[QueueStandings]:
        now = self.transactions.clock.now()
        return await self.transactions.read(lambda c: standings.all_standings(c, load_team(c), now, queue))

    async def report(self, *, period: str | None = None, queue: str | None = None) -> list[ReportRow]:
        now = self.transactions.clock.now()
        return await self.transactions.read(
            lambda c: standings.report(c, load_team(c), now, period=period, queue=queue))

    async def period_report(self, *, period: str | None = None, queue: str | None = None) -> PeriodReport:
        """`report`'s figures by queue and member, with passes, SLA misses and time to accept."""
        now = self.transactions.clock.now()
        return await self.transactions.read(
            lambda c: period_report(c, load_team(c), now, period=period, queue=queue))

    async def start_due_periods(self) -> list[str]:
        """Open a new period in every queue whose period has ended; safe to run any number of times."""
        def work(c: Connection) -> list[str]:
            lock_all_queues(c)  # a period opens in each queue in one transaction: in the lock order
            return open_due_periods(c, load_team(c), self.transactions.clock.now())

        return await self.transactions.run(work)

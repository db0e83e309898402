"""Who can take leads, as the front ends and jobs change it: pauses, leave, Slack statuses,
calendars, timezones. Each method is one transaction (see `bot.routing.transactions`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection

from bot.routing.availability import calendar_leaves, slack_status, time_off
from bot.routing.ledger import standings
from bot.routing.results import LeaveView, MemberStatus, Paused, Resumed, StatusChange
from bot.routing.team import load_team
from bot.routing.transactions import Transactions


class AvailabilityService:
    def __init__(self, transactions: Transactions) -> None:
        self.transactions = transactions

    def _now(self) -> datetime:
        return self.transactions.clock.now()

    async def member_status(self, slack_id: str) -> MemberStatus:
        """A member's seats, pause, leave and open leads (NotFound for someone not in the rotation)."""
        return await self.transactions.read(
            lambda c: standings.member_status(c, load_team(c), slack_id, self._now()))

    async def pause(self, slack_id: str, *, until: date | None = None, reason: str | None = None,
                    actor: str) -> Paused:
        return await self.transactions.run(
            lambda c: time_off.pause(c, load_team(c), slack_id, self._now(), until=until, reason=reason,
                                     actor=actor))

    async def resume(self, slack_id: str, *, actor: str) -> Resumed:
        return await self.transactions.run(
            lambda c: time_off.resume(c, load_team(c), slack_id, self._now(), actor=actor))

    async def add_leave(self, slack_id: str, starts_on: date, ends_on: date, *, actor: str,
                        source: str = "command", external_id: str | None = None,
                        note: str | None = None) -> LeaveView:
        def work(c: Connection) -> LeaveView:
            return time_off.add_leave(c, load_team(c), slack_id, self._now(), starts_on=starts_on,
                                      ends_on=ends_on, actor=actor, source=source,
                                      external_id=external_id, note=note)

        return await self.transactions.run(work)

    async def cancel_leave(self, slack_id: str, *, actor: str,
                           leave_id: int | None = None) -> list[LeaveView]:
        return await self.transactions.run(
            lambda c: time_off.cancel_leave(c, slack_id, self._now(), actor=actor, leave_id=leave_id))

    async def leaves(self, slack_id: str) -> list[LeaveView]:
        def work(c: Connection) -> list[LeaveView]:
            return time_off.leaves(c, time_off.require_member(c, slack_id).id, self._now())

        return await self.transactions.read(work)

    async def apply_slack_status(self, slack_id: str, *, text: str, emoji: str, expiration: int,
                                 actor: str = "slack") -> StatusChange | None:
        """A Slack status change: "paused", "resumed" or None (nothing changed)."""
        return await self.transactions.run(
            lambda c: slack_status.apply_slack_status(c, load_team(c), slack_id, self._now(), text=text,
                                                      emoji=emoji, expiration=expiration, actor=actor))

    async def ignore_status(self, slack_id: str, *, text: str, emoji: str, actor: str) -> None:
        await self.transactions.run(
            lambda c: slack_status.ignore_status(c, slack_id, self._now(), text=text, emoji=emoji,
                                                 actor=actor))

    async def set_timezone(self, slack_id: str, timezone: str, *, actor: str = "slack",
                           only_if_unset: bool = True) -> bool:
        """Use the member's Slack profile timezone (by default only when the config set none)."""
        return await self.transactions.run(
            lambda c: time_off.set_timezone(c, slack_id, timezone, self._now(), actor=actor,
                                            only_if_unset=only_if_unset))

    async def set_calendar(self, slack_id: str, url: str | None, *, actor: str) -> None:
        await self.transactions.run(lambda c: calendar_leaves.set_calendar(c, slack_id, url,
                                                                           self._now(), actor))

    async def calendars(self) -> list[tuple[str, str]]:
        return await self.transactions.read(calendar_leaves.calendars)

    async def sync_calendar(self, slack_id: str,
                            absences: list[calendar_leaves.CalendarAbsence]) -> dict[str, int]:
        return await self.transactions.run(
            lambda c: calendar_leaves.sync_calendar(c, load_team(c), slack_id, absences, self._now()))

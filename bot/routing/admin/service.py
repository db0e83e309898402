"""What managers and the config change: calibration, queues' members, the config itself,
and who the managers are. Each method is one transaction (see `bot.routing.transactions`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from bot.config.schema import RoutingConfig
from bot.routing.admin import calibration, people, roster
from bot.routing.admin.history import PAGE, HistoryPage, member_history
from bot.routing.admin.people import PersonChange
from bot.routing.admin.preview import preview
from bot.routing.admin.results import Calibrated, JoinedQueue, LeftQueue, PersonAdded, PersonRemoved
from bot.routing.availability import time_off
from bot.routing.errors import AlreadyDone
from bot.routing.results import Calibration, PreviewPick
from bot.routing.team import TeamSettings, load_team
from bot.routing.transactions import Transactions
from bot.store.models import Member, Queue


class AdminService:
    def __init__(self, transactions: Transactions) -> None:
        self.transactions = transactions

    def _now(self) -> datetime:
        return self.transactions.clock.now()

    async def team(self) -> TeamSettings:
        return await self.transactions.read(load_team)

    async def is_manager(self, slack_id: str) -> bool:
        return await self.transactions.read(lambda c: slack_id in load_team(c).managers)

    async def queue_names(self) -> list[str]:
        def work(c: Connection) -> list[str]:
            rows = c.execute(select(Queue.name).where(Queue.in_config.is_(True)).order_by(Queue.position))
            return list(rows.scalars().all())

        return await self.transactions.read(work)

    async def slack_ids_named(self, word: str) -> list[str]:
        """The members a plain-text name like `@alice` may mean (see time_off.slack_ids_named)."""
        return await self.transactions.read(lambda c: time_off.slack_ids_named(c, word))

    async def calibrate(self, change: Calibration, *, actor: str) -> Calibrated:
        try:
            return await self.transactions.run(
                lambda c: calibration.calibrate(c, load_team(c), change, self._now(), actor))
        except IntegrityError:
            request = change.request_id
            if request is None or not await self.transactions.read(
                    lambda c: calibration.request_done(c, request)):
                raise
            # the same request, run at the same moment by another replica: it committed first
            raise AlreadyDone("This calibration was already saved.") from None

    async def add_to_queue(self, slack_id: str, queue: str, *, actor: str,
                           weight: str | None = None) -> JoinedQueue:
        return await self.transactions.run(
            lambda c: calibration.add_to_queue(c, slack_id, queue, self._now(), actor, weight))

    async def remove_from_queue(self, slack_id: str, queue: str, *, actor: str) -> LeftQueue:
        return await self.transactions.run(
            lambda c: calibration.remove_from_queue(c, slack_id, queue, self._now(), actor))

    async def preview(self, queue: str, *, count: int = 10,
                      change: Calibration | None = None) -> list[PreviewPick]:
        """The next `count` picks of `queue`, with `change` applied hypothetically; never commits."""
        return await self.transactions.read(
            lambda c: preview(c, load_team(c), queue, self._now(), count=count, change=change))

    async def apply_config(self, config: RoutingConfig, *, actor: str = "cli") -> dict[str, int]:
        applied = await self.transactions.run(lambda c: self._apply(c, config, actor, if_changed=False))
        assert applied is not None  # without if_changed, apply_config always applies
        return applied

    async def apply_config_if_changed(self, config: RoutingConfig, *, actor: str) -> dict[str, int] | None:
        """Apply `config` unless it says what the last applied one said (None then); see `roster`."""
        return await self.transactions.run(lambda c: self._apply(c, config, actor, if_changed=True))

    def _apply(self, connection: Connection, config: RoutingConfig, actor: str, *,
               if_changed: bool) -> dict[str, int] | None:
        """The file, and then the people added in Slack that it does not name, kept (see
        `people`); `people_kept_from_slack` counts them."""
        people.lock_for_apply(connection)
        kept = people.slack_people_seats(connection)
        named = {member.slack_id for member in config.members}
        unnamed = connection.execute(select(Member.id).where(
            Member.id.in_(list(kept)), Member.slack_id.not_in(sorted(named)))).scalars().all() if kept else []
        theirs = people.their_calibrations(connection, list(unnamed))
        applied = roster.apply_config(connection, config, self._now(), actor, if_changed=if_changed)
        if applied is not None:
            applied["people_kept_from_slack"] = len(people.keep_slack_people(connection, kept, named,
                                                                             self._now()))
            applied["calibrations_replaced"] = max(0, applied["calibrations_replaced"] - theirs)
        return applied

    async def add_person(self, change: PersonChange, *, actor: str) -> PersonAdded:
        """Put a person in the rotation and queues, level with everyone (see `people`)."""
        return await self.transactions.run(lambda c: people.add_person(c, change, self._now(), actor))

    async def remove_person(self, slack_id: str, *, actor: str, queue: str | None = None) -> PersonRemoved:
        """Out of `queue`, or of the whole rotation; history and past leads are kept."""
        return await self.transactions.run(
            lambda c: people.remove_person(c, slack_id, queue, self._now(), actor))

    async def history(self, slack_id: str, *, before: int | None = None, limit: int = PAGE) -> HistoryPage:
        """The member's audit trail, newest first, a page older than `before`."""
        return await self.transactions.read(lambda c: member_history(c, slack_id, before=before, limit=limit))

    async def catch_all_queue(self) -> str:
        return await self.transactions.read(lambda c: people.catch_all_queue(load_team(c)))

    async def export_config(self) -> dict[str, Any]:
        return await self.transactions.read(roster.export_config)

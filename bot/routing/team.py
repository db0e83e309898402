"""The team-wide settings row, read once per transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from bot.store.models import Team

TEAM_ID = 1


@dataclass(frozen=True, slots=True)
class TeamSettings:
    timezone: str = "UTC"
    period: str = "monthly"
    managers: tuple[str, ...] = ()
    rules: tuple[dict[str, Any], ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    config_version: int = 0

    @property
    def long_leave_days(self) -> int:
        return int(self.settings.get("time_off", {}).get("long_leave_days", 5))

    @property
    def pause_days_before(self) -> int:
        return int(self.settings.get("time_off", {}).get("pause_days_before", 2))

    @property
    def max_hops(self) -> int:
        return int(self.settings.get("sla", {}).get("max_hops", 3))


_TEAM_ROW = select(Team.__table__).where(Team.id == TEAM_ID)  # built once: read per transaction


def load_team(connection: Connection) -> TeamSettings:
    row = connection.execute(_TEAM_ROW).mappings().first()
    if row is None:
        return TeamSettings()
    return TeamSettings(
        timezone=row["timezone"],
        period=row["period"],
        managers=tuple(row["managers"] or ()),
        rules=tuple(row["rules"] or ()),
        settings=dict(row["settings"] or {}),
        config_version=row["config_version"],
    )

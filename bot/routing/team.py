"""The team-wide settings row, read once per transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Text, cast, select

from bot.routing.rules.matching import RuleSet, compile_rules
from bot.store.models import Team

TEAM_ID = 1


@dataclass(frozen=True, slots=True)
class TeamSettings:
    """Shared by every transaction that reads the same config (see `load_team`): read only."""

    timezone: str = "UTC"
    period: str = "monthly"
    managers: tuple[str, ...] = ()
    rules: tuple[dict[str, Any], ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    config_version: int = 0
    rule_set: RuleSet = field(default_factory=lambda: compile_rules(()), compare=False, repr=False)

    @property
    def long_leave_days(self) -> int:
        return int(self.settings.get("time_off", {}).get("long_leave_days", 5))

    @property
    def pause_days_before(self) -> int:
        return int(self.settings.get("time_off", {}).get("pause_days_before", 2))

    @property
    def max_hops(self) -> int:
        return int(self.settings.get("sla", {}).get("max_hops", 3))


# Built once, read per transaction. The JSON columns are read as text (a CAST, so drivers
# that decode JSON themselves do not), so an unchanged config is recognised by its text
# and neither parsed nor its rules compiled again.
_TEAM_ROW = select(
    Team.timezone,
    Team.period,
    cast(Team.managers, Text),
    cast(Team.rules, Text),
    cast(Team.settings, Text),
    Team.config_version,
).where(Team.id == TEAM_ID)
_KNOWN: dict[tuple[Any, ...], TeamSettings] = {}
_KNOWN_MAX = 16  # a few databases per process at most (tests); a config change adds one


def load_team(connection: Connection) -> TeamSettings:
    row = connection.execute(_TEAM_ROW).first()
    if row is None:
        return TeamSettings()
    known = _KNOWN.get(tuple(row))
    if known is None:
        if len(_KNOWN) >= _KNOWN_MAX:
            _KNOWN.clear()
        known = _KNOWN[tuple(row)] = _parse(*row)
    return known


def _parse(
    timezone: str, period: str, managers: str | None, rules: str | None, settings: str | None, version: int
) -> TeamSettings:
    parsed_rules = tuple(_json(rules) or ())
    return TeamSettings(
        timezone=timezone,
        period=period,
        managers=tuple(_json(managers) or ()),
        rules=parsed_rules,
        settings=dict(_json(settings) or {}),
        config_version=version,
        rule_set=compile_rules(parsed_rules),
    )


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)

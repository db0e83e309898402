"""The sources of the applied config, as `config apply` keeps them in the team's settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from bot.routing.team import load_team
from bot.sources.config import SourceConfig, missing_secrets

SETTINGS_KEY = "sources"

# The team's settings are read (and cached) once per config version by load_team, so the same
# list object comes back until the next apply: its sources are validated once, not per request.
_parsed: tuple[Any, dict[str, SourceConfig]] = (None, {})


def stored_sources(connection: Connection) -> list[SourceConfig]:
    """Every source applied (one stored by an older release that no longer validates is left out)."""
    global _parsed
    raw = load_team(connection).settings.get(SETTINGS_KEY) or []
    cached_raw, by_name = _parsed
    if cached_raw is not raw:
        by_name = {}
        for entry in raw:
            try:
                source = SourceConfig.model_validate(entry)
            except ValidationError:
                continue
            by_name[source.name] = source
        _parsed = (raw, by_name)
    return list(by_name.values())


def stored_source(connection: Connection, name: str) -> SourceConfig | None:
    return next((source for source in stored_sources(connection) if source.name == name), None)


def unset_secrets(connection: Connection, environ: Mapping[str, str]) -> list[str]:
    """For `rotation serve` at start: each applied source whose secret is not in `environ`
    (its sender gets 503 until it is set), in words naming the source and the variable."""
    return missing_secrets(stored_sources(connection), environ)

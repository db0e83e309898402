"""The sources of the applied config, as `config apply` keeps them in the team's settings."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import Connection

from bot.routing.team import load_team
from bot.sources.config import SourceConfig

SETTINGS_KEY = "sources"


def stored_sources(connection: Connection) -> list[SourceConfig]:
    """Every source applied (one stored by an older release that no longer validates is left out)."""
    sources = []
    for raw in load_team(connection).settings.get(SETTINGS_KEY) or []:
        try:
            sources.append(SourceConfig.model_validate(raw))
        except ValidationError:
            continue
    return sources


def stored_source(connection: Connection, name: str) -> SourceConfig | None:
    return next((source for source in stored_sources(connection) if source.name == name), None)

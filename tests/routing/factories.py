"""Small builders for routing configs, so each test states only what it is about."""

from __future__ import annotations

from typing import Any

import yaml

from bot.config.routing import load_text
from bot.routing.clock import ManualClock
from bot.routing.service import RoutingService
from bot.store.db import Database


def make_member(slack_id: str, **fields: Any) -> dict[str, Any]:
    return {"slack_id": slack_id, "name": fields.pop("name", slack_id.title()), **fields}


def make_queue(name: str, members: list[Any], **fields: Any) -> dict[str, Any]:
    seats = [m if isinstance(m, dict) else {"slack_id": m} for m in members]
    return {"name": name, "members": seats, **fields}


def make_config(
    members: list[dict[str, Any]],
    queues: list[dict[str, Any]],
    rules: list[dict[str, Any]] | None = None,
    **team: Any,
) -> str:
    if rules is None:
        rules = [{"name": "everyone", "queue": queues[0]["name"]}]
    config = {
        "timezone": "America/New_York",
        "managers": ["U0BOSS"],
        **team,
        "members": members,
        "queues": queues,
        "rules": rules,
    }
    return yaml.safe_dump(config, sort_keys=False)


def team_of(*ids: str, **member_fields: Any) -> list[dict[str, Any]]:
    return [make_member(i, **member_fields) for i in ids]


async def make_service(url: str, clock: ManualClock, config_text: str) -> RoutingService:
    """A migrated database with `config_text` applied."""
    database = Database(url)
    await database.migrate()
    service = RoutingService(database, clock)
    await service.admin.apply_config(load_text(config_text))
    return service

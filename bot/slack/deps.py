"""What every listener needs (the core service, settings), carried in Bolt's context.

Why a context entry: Bolt injects only its own argument names into listeners, so the
runtime puts one `SlackDeps` into each request's context with a global middleware, and
listeners read it with `deps(context)` instead of reaching for module globals.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.routing.service import RoutingService
from bot.store.db import Database

KEY = "rotation"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SlackDeps:
    service: RoutingService
    manager_group: str | None = None

    @property
    def db(self) -> Database:
        return self.service.db

    async def is_manager(self, client: AsyncWebClient, slack_id: str) -> bool:
        """Managers are the config's list, plus members of the Slack user group the config's
        `manager_group` names (or, when it names none, ROTATION_MANAGER_GROUP)."""
        team = await self.service.admin.team()
        if slack_id in team.managers:
            return True
        group = team.settings.get("manager_group") or self.manager_group
        if not group:
            return False
        try:
            answer = await client.usergroups_users_list(usergroup=group)
        except SlackApiError as error:
            log.warning("usergroups.users.list %s failed: %s", group, error)
            return False
        return slack_id in (answer.get("users") or [])


def install(app: AsyncApp, slack_deps: SlackDeps) -> None:
    """Put `slack_deps` into every request's context."""

    async def inject(context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]) -> Any:
        context[KEY] = slack_deps
        return await next()

    app.middleware(inject)


def deps(context: AsyncBoltContext) -> SlackDeps:
    found = context.get(KEY)
    if not isinstance(found, SlackDeps):
        raise RuntimeError("SlackDeps missing from the Bolt context; build the app with SlackRuntime")
    return found

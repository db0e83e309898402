"""What every job gets: the core service, the database, the settings and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.routing.clock import Clock
from bot.routing.service import RoutingService
from bot.store.db import Database


@dataclass(frozen=True, slots=True)
class JobContext:
    service: RoutingService
    db: Database
    settings: Any
    clock: Clock

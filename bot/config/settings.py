"""Settings read from the environment (see the contract's table)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bot.store.db import DEFAULT_DATABASE_URL


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    routing_config: str | None = None
    intake_token: str | None = None
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    host: str = "0.0.0.0"
    port: int = 3000
    max_body_bytes: int = 64 * 1024
    webhook_url: str | None = None
    webhook_secret: str | None = None
    outbox_max_attempts: int = 8
    manager_group: str | None = None
    delivery: str = "auto"  # where the outbox is sent from: "process", "inline" or "auto"

    @property
    def delivers_inline(self) -> bool:
        """Whether serve sends the outbox itself, rather than from a child process of its own.

        "auto" picks the child where it helps and works: more than one CPU to run on (then
        intake and delivery each get one instead of queueing behind each other), a POSIX
        system (the pipes), and a database both processes can open (not an in-memory one).
        """
        if self.delivery != "auto":
            return self.delivery == "inline"
        in_memory = self.database_url.startswith("sqlite") and (
            ":memory:" in self.database_url or self.database_url.rstrip("/").endswith(":"))
        return os.name != "posix" or in_memory or _usable_cpus() < 2

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        return cls(
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            routing_config=get("ROTATION_CONFIG"),
            intake_token=get("ROTATION_INTAKE_TOKEN"),
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=get("SLACK_API_URL") or "https://slack.com/api/",
            host=get("HOST") or "0.0.0.0",
            port=int(get("PORT") or 3000),
            max_body_bytes=int(get("ROTATION_MAX_BODY_BYTES") or 64 * 1024),
            webhook_url=get("ROTATION_WEBHOOK_URL"),
            webhook_secret=get("ROTATION_WEBHOOK_SECRET"),
            outbox_max_attempts=int(get("ROTATION_OUTBOX_MAX_ATTEMPTS") or 8),
            manager_group=get("ROTATION_MANAGER_GROUP"),
            delivery=_one_of("ROTATION_DELIVERY", get("ROTATION_DELIVERY") or "auto", DELIVERY_MODES),
        )


DELIVERY_MODES = ("auto", "process", "inline")


def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity, e.g. a container's cpuset), not the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value

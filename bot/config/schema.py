"""The routing config's shape, validated with pydantic (one model per section)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.crm.config import CrmConfig, OwnerId
from bot.routing.availability.hours import HoursError, WorkingHours
from bot.routing.availability.timezones import is_timezone
from bot.routing.fairness import STRATEGIES
from bot.routing.fairness.weights import WeightError, share_percent, weight_from_number, weight_from_priority
from bot.sources.config import SourceList

SLACK_USER = r"^[UW][A-Z0-9]{2,}$"
SLACK_CHANNEL = r"^[CGD][A-Z0-9]{2,}$"
QUEUE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _timezone(value: str | None) -> str | None:
    if value is None:
        return value
    if not is_timezone(value):
        raise ValueError(f'"{value[:80]}" is not a timezone name like Europe/London')
    return value


class TimeOff(Strict):
    long_leave_days: int = Field(5, ge=0, le=365)
    pause_days_before: int = Field(2, ge=0, le=60)


class StatusPause(Strict):
    emoji: list[str] = Field(
        default_factory=lambda: [
            ":palm_tree:",
            ":face_with_thermometer:",
            ":airplane:",
            ":beach_with_umbrella:",
            ":mask:",
            ":sick:",
        ]
    )
    words: list[str] = Field(
        default_factory=lambda: [
            "ooo",
            "out of office",
            "vacation",
            "holiday",
            "pto",
            "sick",
            "on leave",
            "off sick",
        ]
    )


class Sla(Strict):
    max_hops: int = Field(3, ge=1, le=50)


class MemberConfig(Strict):
    slack_id: str = Field(pattern=SLACK_USER)
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(None, max_length=64)
    timezone: str | None = None
    email: str | None = Field(None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    capacity: int | None = Field(None, gt=0, le=100_000)
    working_hours: str | None = None
    active: bool = True
    crm_owner_id: OwnerId | None = None

    _tz = field_validator("timezone")(_timezone)

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                WorkingHours.parse(value)
            except HoursError as error:
                raise ValueError(str(error)) from None
        return value


class SeatConfig(Strict):
    """A member's place in a queue, weighted one of three ways."""

    slack_id: str = Field(pattern=SLACK_USER)
    weight: float | int | str | None = None
    share: str | float | int | None = None
    priority: int | None = None
    active: bool = True

    @field_validator("weight")
    @classmethod
    def _weight(cls, value: Any) -> Any:
        if value is not None:
            try:
                weight_from_number(value)
            except WeightError as error:
                raise ValueError(str(error)) from None
        return value

    @field_validator("share")
    @classmethod
    def _share(cls, value: Any) -> Any:
        if value is not None:
            try:
                share_percent(value)
            except WeightError as error:
                raise ValueError(str(error)) from None
        return value

    @field_validator("priority")
    @classmethod
    def _priority(cls, value: int | None) -> int | None:
        if value is not None:
            try:
                weight_from_priority(value)
            except WeightError as error:
                raise ValueError(str(error)) from None
        return value

    @model_validator(mode="after")
    def _one_way(self) -> SeatConfig:
        given = [k for k in ("weight", "share", "priority") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of weight, share or priority, not {' and '.join(given)}")
        return self


class QueueConfig(Strict):
    name: str = Field(pattern=QUEUE_NAME)
    channel: str | None = Field(None, pattern=SLACK_CHANNEL)
    strategy: str = "fair"  # a name in bot.routing.fairness.STRATEGIES
    sla_minutes: int | None = Field(None, gt=0, le=7 * 24 * 60)
    fallback: str | None = None
    respect_working_hours: bool = False
    sticky: Literal["domain", "account"] | None = None
    members: list[SeatConfig] = Field(default_factory=list)

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        if value not in STRATEGIES:
            *others, last = (f"'{name}'" for name in STRATEGIES)
            raise ValueError(f"must be one of {', '.join(others)} or {last}")
        return value


class RuleConfig(Strict):
    name: str = Field(min_length=1, max_length=200)
    when: dict[str, Any] | None = None
    queue: str


LEAD_ID_PLACEHOLDER = "{id}"


def lead_url_problem(template: str) -> str | None:
    """What is wrong with a `lead_url` template, in words, or None."""
    if LEAD_ID_PLACEHOLDER not in template:
        return "must contain {id}, where the lead's id goes"
    if not template.startswith(("https://", "http://")):
        return "must start with https:// or http://"
    if any(ch.isspace() for ch in template):
        return "must not contain spaces"
    if len(template) > 2000:
        return "is longer than 2000 characters"
    return None


class RoutingConfig(Strict):
    timezone: str = "UTC"
    period: Literal["monthly", "weekly", "quarterly", "never"] = "monthly"
    managers: list[str] = Field(default_factory=list)
    manager_group: str | None = Field(None, pattern=r"^S[A-Z0-9]{2,}$")
    manager_channel: str | None = Field(None, pattern=SLACK_CHANNEL)
    time_off: TimeOff = Field(default_factory=TimeOff)
    status_pause: StatusPause = Field(default_factory=StatusPause)
    sla: Sla = Field(default_factory=Sla)
    members: list[MemberConfig] = Field(default_factory=list)
    queues: list[QueueConfig] = Field(default_factory=list)
    rules: list[RuleConfig] = Field(default_factory=list)
    # left out of dumps while empty: a config without sources keeps the digest it had before
    sources: SourceList = Field(default_factory=list, exclude_if=lambda sources: not sources)
    crm: CrmConfig | None = None
    # the Open lead button's address: "https://crm.example.com/leads/{id}" (never a URL in the lead)
    lead_url: str | None = None

    _tz = field_validator("timezone")(_timezone)

    @field_validator("lead_url")
    @classmethod
    def _lead_url(cls, value: str | None) -> str | None:
        problem = None if value is None else lead_url_problem(value)
        if problem:
            raise ValueError(f"lead_url {problem}")
        return value

    @field_validator("managers")
    @classmethod
    def _managers(cls, value: list[str]) -> list[str]:
        import re

        for manager in value:
            if not re.match(SLACK_USER, manager):
                raise ValueError(f'"{manager}" is not a Slack user id like U0123ABCD')
        return value

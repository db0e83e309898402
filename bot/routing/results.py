"""What the core's service hands back: plain, immutable data for any front end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any


@dataclass(frozen=True, slots=True)
class MemberRef:
    slack_id: str
    name: str


@dataclass(frozen=True, slots=True)
class RouteOutcome:
    """The decision for one lead (or the stored one, when the id was seen before)."""

    lead_id: str
    created: bool
    status: str  # "assigned" | "unassigned"
    queue: str | None
    rule: str | None
    assignee: MemberRef | None
    explanation: dict[str, Any]
    assignment_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "status": self.status,
            "queue": self.queue,
            "rule": self.rule,
            "assignee": None
            if self.assignee is None
            else {"slack_id": self.assignee.slack_id, "name": self.assignee.name},
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class AssignmentChange:
    """What an Accept, a Pass or an SLA miss did."""

    assignment_id: int
    lead_id: str
    state: str
    changed: bool
    member: MemberRef
    next_outcome: RouteOutcome | None = None
    seconds_to_accept: float | None = None


@dataclass(frozen=True, slots=True)
class SeatStanding:
    slack_id: str
    name: str
    weight: Fraction
    weight_text: str
    received: int
    adjustment: int
    lag: Fraction
    target_share: Fraction  # of the queue's leads this period, 0..1
    status: str  # "active" or the reason they are not eligible now
    eligible: bool
    next_up: bool = False


@dataclass(frozen=True, slots=True)
class QueueStandings:
    name: str
    strategy: str
    channel: str | None
    period: str
    total: int
    seats: list[SeatStanding]


@dataclass(frozen=True, slots=True)
class LeaveView:
    id: int
    starts_on: date
    ends_on: date
    pause_from: datetime
    resume_at: datetime
    source: str


@dataclass(frozen=True, slots=True)
class SeatStatus:
    queue: str
    received: int
    fair_share: Fraction
    lag: Fraction
    weight_text: str
    leads_until_next: int | None


@dataclass(frozen=True, slots=True)
class MemberStatus:
    slack_id: str
    name: str
    timezone: str
    state: str  # "active", "paused", "on leave", "inactive", "away (status)"
    reason: str | None
    paused_until: datetime | None
    leaves: list[LeaveView]
    seats: list[SeatStatus]
    recent_leads: list[dict[str, Any]] = field(default_factory=list)
    is_manager: bool = False
    working_hours: str | None = None
    working_now: bool | None = None


@dataclass(frozen=True, slots=True)
class PreviewPick:
    position: int
    slack_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Calibration:
    """A manager's change to one seat. Unset fields are left as they are."""

    queue: str
    slack_id: str
    weight: str | None = None  # "2", "18%", "priority 3"
    adjustment: int | None = None
    note: str | None = None
    active: bool | None = None
    # The request that asks for it (the Slack modal's view id): a second request with the same
    # id (Save clicked again while the first was slow) changes nothing; see `calibration`.
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class LeadRecord:
    lead_id: str
    fields: dict[str, Any]
    received_at: datetime
    status: str
    queue: str | None
    rule: str | None
    reason: str | None
    assignments: list[dict[str, Any]]
    explanation: dict[str, Any] | None
    source: str | None = None  # the `sources:` entry the lead came from (None: /leads, the CLI)


@dataclass(frozen=True, slots=True)
class ReportRow:
    period: str
    queue: str
    slack_id: str
    name: str
    leads: int
    target_share: float
    actual_share: float
    lag: float
    adjustments: int
    weight: str
    status: str


@dataclass(frozen=True, slots=True)
class Paused:
    """A pause made (or moved): until the member's local midnight of `until`, or until resumed."""

    until: date | None
    zone: str  # the member's timezone, in which `until` begins
    extended: bool  # they were paused already; the pause now ends as asked


@dataclass(frozen=True, slots=True)
class Resumed:
    """A member back in the rotation, level with everyone (no catch-up flood, no penalty)."""

    from_status: bool  # it was their Slack status that had paused them


class StatusChange(StrEnum):
    """What a Slack status change did to a member's availability."""

    PAUSED = "paused"
    RESUMED = "resumed"

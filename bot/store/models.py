"""The database schema as typed SQLAlchemy 2 models.

The routing hot path uses Core statements on these tables (see `bot.routing.ledger.queues`);
everything else may use the ORM. Alembic owns the schema: a change here needs a migration.
"""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.store.types import FractionType, UTCDateTime

ZERO = Fraction(0)


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        Fraction: FractionType(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Team(Base):
    """The one row of team-wide settings that came from the routing config."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    period: Mapped[str] = mapped_column(String(16), default="monthly")
    managers: Mapped[list[Any]] = mapped_column(default=list)
    rules: Mapped[list[Any]] = mapped_column(default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    config_version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None]


class Member(Base):
    """A person who can receive leads, with their own availability."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str | None] = mapped_column(String(64))
    capacity: Mapped[int | None] = mapped_column(Integer)
    working_hours: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    paused_at: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(String(500))
    open_leads: Mapped[int] = mapped_column(Integer, default=0)
    calendar_url: Mapped[str | None] = mapped_column(Text)
    status_paused_until: Mapped[datetime | None]
    # The status the member chose to ignore ("keep receiving leads anyway").
    status_override: Mapped[str | None] = mapped_column(String(300))
    in_config: Mapped[bool] = mapped_column(Boolean, default=True)
    # Their owner id in the CRM the owner is written back to, when the config gives one
    # (else it is found by their email through the CRM's API).
    crm_owner_id: Mapped[str | None] = mapped_column(String(64))
    # When a manager added them in Slack (None: the config file names them); migration 0004.
    slack_added_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Queue(Base):
    """A rotation: its strategy, its options, and the queue-wide ledger clock."""

    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    channel: Mapped[str | None] = mapped_column(String(32))
    strategy: Mapped[str] = mapped_column(String(20), default="fair")
    sla_minutes: Mapped[int | None] = mapped_column(Integer)
    fallback: Mapped[str | None] = mapped_column(String(100))
    respect_working_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    sticky: Mapped[str | None] = mapped_column(String(16))
    in_config: Mapped[bool] = mapped_column(Boolean, default=True)
    # Fair share each unit of weight has accrued this period (sum of 1/W_eligible).
    vtime: Mapped[Fraction] = mapped_column(default=ZERO)
    period_key: Mapped[str] = mapped_column(String(16), default="")
    seq: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)


class Membership(Base):
    """A member's ledger in one queue: weight, lag, count and adjustment this period.

    The lag is stored lazily: lag = lag_base + weight * (queue.vtime - vtime_base) while
    the member is eligible (not frozen). Only the winner and members whose eligibility
    changed are written per lead, so an assignment costs O(1) writes, not O(members).
    """

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("queue_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    weight: Mapped[Fraction] = mapped_column(default=Fraction(1))
    weight_text: Mapped[str] = mapped_column(String(32), default="1")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    in_config: Mapped[bool] = mapped_column(Boolean, default=True)
    lag_base: Mapped[Fraction] = mapped_column(default=ZERO)
    vtime_base: Mapped[Fraction] = mapped_column(default=ZERO)
    frozen: Mapped[bool] = mapped_column(Boolean, default=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    adjustment: Mapped[int] = mapped_column(Integer, default=0)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_assigned_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Lead(Base):
    """A lead as it arrived, keyed by the source's id (the idempotency key)."""

    __tablename__ = "leads"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(100))
    rule: Mapped[str | None] = mapped_column(String(200))
    account_key: Mapped[str | None] = mapped_column(String(320))
    reason: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(String(100))  # the `sources:` entry it came from, if any

    __table_args__ = (Index("ix_leads_status_received", "status", "received_at"),)


class Assignment(Base):
    """One offer of a lead to a member. A pass or an SLA miss adds the next one."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"))
    period_key: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(Integer)
    hop: Mapped[int] = mapped_column(Integer, default=0)
    cause: Mapped[str] = mapped_column(String(16), default="new")
    state: Mapped[str] = mapped_column(String(16), default="offered")
    assigned_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    account_key: Mapped[str | None] = mapped_column(String(320))
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (
        Index("ix_assignments_lead", "lead_id"),
        Index("ix_assignments_queue_period", "queue_id", "period_key"),
        Index("ix_assignments_member_state", "member_id", "state"),
        Index("ix_assignments_queue_account", "queue_id", "account_key"),
    )


class Leave(Base):
    """Scheduled time off, with the moments the policy pauses and resumes the member."""

    __tablename__ = "leaves"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    pause_from: Mapped[datetime]
    resume_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16), default="command")
    external_id: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_leaves_member_resume", "member_id", "resume_at"),)


class AuditEvent(Base):
    """Who changed what and when: pauses, calibrations, config applies, adjustments."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(Integer)
    queue_id: Mapped[int | None] = mapped_column(Integer)
    period_key: Mapped[str | None] = mapped_column(String(16))
    delta: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_audit_queue_period", "queue_id", "period_key"),)


class OutboxMessage(Base):
    """A message owed to Slack or a webhook, committed with the change that owes it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lead_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    available_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_outbox_pending", "sent_at", "failed_at", "available_at"),
                      Index("ix_outbox_lead", "lead_id"))


class Lease(Base):
    """A named lease so that one replica at a time runs a background job."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    last_run_key: Mapped[str | None] = mapped_column(String(100))


class SlackEvent(Base):
    """Event ids already handled, so Slack's retries are processed once."""

    __tablename__ = "slack_events"

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime]


def table_of(model: type[Base]) -> Table:
    """A model's Table, typed as one: the declarative `__table__` is typed as any FromClause,
    which Core's insert() and update() do not take."""
    table = model.__table__
    assert isinstance(table, Table)
    return table

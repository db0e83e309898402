"""Which writes move the queues' versions by themselves (see `bot.routing.ledger.versions`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, insert, update

from bot.routing.ledger.queues import _OPEN_LEADS, _SAVE_QUEUE, _SAVE_QUEUES, _SAVE_SEAT
from bot.routing.ledger.versions import moves_ledgers
from bot.store.models import Assignment, Leave, Member, Membership, Queue

NOW = datetime(2026, 11, 10, tzinfo=UTC)


def test_writes_of_what_a_ledger_holds_move_the_versions() -> None:
    for statement in (
        update(Member).where(Member.id == 1).values(paused_at=NOW, updated_at=NOW),
        update(Member).values(status_paused_until=NOW),
        update(Member).where(Member.id == 1),  # its values given at execution
        insert(Member).values(slack_id="U1", name="A"),
        insert(Membership).values(queue_id=1, member_id=1),
        update(Membership).where(Membership.id == 1).values(weight_text="2"),
        delete(Membership).where(Membership.id == 1),
        insert(Leave).values(member_id=1),
        update(Leave).values(cancelled_at=NOW),
        update(Queue).where(Queue.id == 1).values(sla_minutes=30),
    ):
        params = {"capacity": 3} if not getattr(statement, "_values", None) else {}
        assert moves_ledgers(statement, [], params), statement


def test_writes_a_ledger_does_not_hold_or_versions_itself_do_not() -> None:
    for statement in (
        *_OPEN_LEADS.values(),  # a member's open-lead count, on each backend
        _SAVE_SEAT,
        _SAVE_QUEUE,
        _SAVE_QUEUES,
        update(Member).where(Member.id == 1).values(status_override="ignore:x", updated_at=NOW),
        update(Member).values(email="a@example.com", calendar_url=bindparam("url")),
        insert(Queue).values(name="q"),
        insert(Assignment).values(lead_id="L-1"),
    ):
        assert not moves_ledgers(statement, [], {}), statement

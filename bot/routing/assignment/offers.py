"""What happens to an offered lead: accepted, passed on, expired (SLA), or still waiting.

A pass or an SLA miss credits the first rep's share back (the lead does not count
against them) and offers the lead to the next member by the same rotation, without
accruing a new lead's share: it is the same lead. When it cannot be credited back (its
offer was in a period that has closed) or it falls back to another queue, it is a new lead
to that ledger and accrues a share like one, so every ledger still sums to zero.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, literal, select, tuple_

from bot.routing import audit
from bot.routing.assignment.batch import Batch
from bot.routing.assignment.lead_lookup import ASSIGNMENT_WITH_NAMES
from bot.routing.assignment.locks import MovedOffer, OpenLeads, claim_waiting_lead, lock_queues, move_offer
from bot.routing.assignment.router import Router
from bot.routing.errors import NotFound
from bot.routing.events import Cause, LeadMoved, Recipient, SlaExhausted, lead_card
from bot.routing.outbox import Outbox
from bot.routing.results import AssignmentChange, MemberRef, RouteOutcome
from bot.routing.rules.matching import RuleResult, first_match
from bot.routing.team import TeamSettings, load_team
from bot.store.models import Assignment, Lead, Queue, table_of


def _load(connection: Connection, assignment_id: int) -> Row[Any]:
    row = (
        connection.execute(ASSIGNMENT_WITH_NAMES.where(Assignment.id == assignment_id))
    ).first()
    if row is None:
        raise NotFound(f"There is no assignment {assignment_id}.")
    return row


def accept(connection: Connection, assignment_id: int, now: datetime, actor: str) -> AssignmentChange:
    """Accept an offer; an offer no longer offered (accepted, passed, moved on) is told back
    unchanged, as a repeated click is."""
    moved = move_offer(connection, assignment_id, "accepted", now)
    row = _load(connection, assignment_id)
    member = MemberRef(row.slack_id, row.name)
    if moved is None:
        return AssignmentChange(
            row.id, row.lead_id, row.state, False, member, seconds_to_accept=_seconds(row)
        )
    open_leads = OpenLeads()
    open_leads.add(moved.member_id, -1)
    open_leads.write(connection)
    audit.record(
        connection,
        now,
        actor,
        "accept",
        member_id=moved.member_id,
        queue_id=moved.queue_id,
        details={"lead_id": moved.lead_id},
    )
    return AssignmentChange(
        moved.id,
        moved.lead_id,
        "accepted",
        True,
        member,
        seconds_to_accept=(now - moved.assigned_at).total_seconds(),
    )


def _seconds(assignment: Row[Any]) -> float | None:
    if assignment.accepted_at is None:
        return None
    waited: float = (assignment.accepted_at - assignment.assigned_at).total_seconds()
    return waited


def hand_on(
    connection: Connection, router: Router, assignment_id: int, now: datetime, actor: str, *, cause: str
) -> AssignmentChange:
    """Pass (cause "pass") or SLA miss (cause "sla"): credit back, offer to the next member.

    Locks in the order of `bot.routing.assignment.locks`: the queues first (read which from the offer,
    unlocked), then the offer's move, then the members' counts.
    """
    row = _load(connection, assignment_id)
    member = MemberRef(row.slack_id, row.name)
    if row.state != "offered":
        return AssignmentChange(row.id, row.lead_id, row.state, False, member)
    lock_queues(connection, [row.queue])
    new_state = "passed" if cause == "pass" else "expired"
    moved = move_offer(connection, assignment_id, new_state, now)
    if moved is None:  # another click or the SLA job moved it while we waited for the queue
        state = connection.execute(
            select(Assignment.state).where(Assignment.id == assignment_id)).scalar_one()
        return AssignmentChange(row.id, row.lead_id, state, False, member)
    team = load_team(connection)
    open_leads = OpenLeads()
    open_leads.add(moved.member_id, -1)
    audit.record(
        connection,
        now,
        actor,
        cause,
        member_id=moved.member_id,
        queue_id=moved.queue_id,
        details={"lead_id": moved.lead_id},
    )
    # The credit and the next offer share one batch: one read of the queue's ledger, one save.
    batch = router.batch(connection, now, team=team, open_leads=open_leads, locked=True)
    opened = batch.queue(row.queue)
    credited = False
    if opened is not None and opened.info.period_key == moved.period_key:
        seat = opened.rotation.seats.get(moved.membership_id)
        if seat is not None:
            opened.rotation.credit(seat)
            credited = True
    outcome = _offer_next(router, batch, moved, row.queue, cause, credited_in=row.queue if credited else None)
    if cause == "sla":
        _tell_sla_move(connection, row, outcome, now)
    return AssignmentChange(moved.id, moved.lead_id, new_state, True, member, next_outcome=outcome)


def _offer_next(
    router: Router, batch: Batch, moved: MovedOffer, queue: str, cause: str, *, credited_in: str | None
) -> RouteOutcome:
    connection = batch.connection
    lead = (connection.execute(select(table_of(Lead)).where(Lead.id == moved.lead_id))).one()
    had_it = frozenset(
        (connection.execute(select(Assignment.member_id).where(Assignment.lead_id == lead.id)))
        .scalars()
        .all()
    )
    placement = router.place(batch, queue, lead.fields, credited_in=credited_in, exclude_members=had_it)
    verb = "passed it on" if cause == "pass" else f"did not accept it within the {queue} SLA"
    placement.notes.insert(0, f"Offered again because the previous rep {verb}.")
    tried = [RuleResult(lead.rule or "-", queue, True, "re-offered")]
    return router.offer_again(batch, placement, tried, lead.id, lead.fields, cause=cause, hop=moved.hop + 1)


def _tell_sla_move(connection: Connection, row: Any, outcome: RouteOutcome, now: datetime) -> None:
    """The rep who missed the SLA and the queue's channel hear where the lead went."""
    lead = (connection.execute(select(Lead.fields).where(Lead.id == row.lead_id))).scalar_one()
    now_with = outcome.assignee.name if outcome.assignee else None
    note = LeadMoved(lead_card(row.lead_id, lead), row.queue, Cause.SLA, now_with)  # Slack threads it
    outbox = Outbox(now)
    outbox.owe(f"sla-moved:{row.id}:rep", note, Recipient.dm(row.slack_id), row.lead_id)
    channel = connection.execute(select(Queue.channel).where(Queue.name == row.queue)).scalar()
    if channel:
        outbox.owe(f"sla-moved:{row.id}:channel", note, Recipient.channel(channel), row.lead_id)
    outbox.flush(connection)


def overdue(connection: Connection, now: datetime) -> list[tuple[int, int, str]]:
    """Offers past their queue's SLA: (assignment id, hop, queue name)."""
    rows = (
        connection.execute(
            select(Assignment.id, Assignment.hop, Assignment.assigned_at, Queue.name, Queue.sla_minutes)
            .join(Queue, Queue.id == Assignment.queue_id)
            .where(Assignment.state == "offered", Queue.sla_minutes.is_not(None))
            .order_by(Assignment.id)
        )
    ).all()
    return [
        (r.id, r.hop, r.name) for r in rows if (now - r.assigned_at).total_seconds() >= r.sla_minutes * 60
    ]


def expire(connection: Connection, router: Router, assignment_id: int, hop: int,
           now: datetime) -> AssignmentChange | None:
    """Move a missed offer on; the move that uses up `sla.max_hops` also tells the managers.

    After that the lead stays with the last rep (no more moves, no repeated notes). None
    when there is nothing to move: the hops are used up, or the offer was accepted or
    passed since the SLA job read it as overdue.
    """
    team = load_team(connection)
    if hop >= team.max_hops:
        return None
    change = hand_on(connection, router, assignment_id, now, "sla", cause="sla")
    if not change.changed:
        return None
    if hop + 1 == team.max_hops:
        fields = connection.execute(select(Lead.fields).where(Lead.id == change.lead_id)).scalar_one()
        last = change.next_outcome.assignee if change.next_outcome else None
        notify_managers(connection, team, now, f"sla-exhausted:{change.lead_id}",
                        SlaExhausted(lead_card(change.lead_id, fields), hop + 1, last.name if last else None))
    return change


def notify_managers(connection: Connection, team: TeamSettings, now: datetime, key: str,
                    note: SlaExhausted) -> None:
    """Tell the managers' channel and every manager by DM."""
    channel = team.settings.get("manager_channel")
    lead_id = str(note.lead["id"])
    outbox = Outbox(now)
    if channel:
        outbox.owe(key + ":channel", note, Recipient.channel(channel), lead_id)
    for manager in team.managers:
        outbox.owe(f"{key}:{manager}", note, Recipient.dm(manager), lead_id)
    outbox.flush(connection)


def pending_leads(
    connection: Connection, after: tuple[datetime, str] | None = None, limit: int = 500
) -> list[tuple[datetime, str]]:
    """One page of waiting leads, oldest first, after `after` (keyset pagination, so leads
    that still cannot be placed never hide the ones behind them)."""
    query = select(Lead.received_at, Lead.id).where(Lead.status == "unassigned")
    if after is not None:
        moment, lead_id = after
        query = query.where(
            tuple_(Lead.received_at, Lead.id)
            > tuple_(literal(moment, Lead.received_at.type), literal(lead_id, Lead.id.type))
        )
    rows = connection.execute(query.order_by(Lead.received_at, Lead.id).limit(limit))
    return [(row.received_at, row.id) for row in rows]


def assign_pending_lead(
    connection: Connection, router: Router, lead_id: str, now: datetime
) -> RouteOutcome | None:
    """Try again for a lead nobody could take; None when it is still unassigned.

    Locks as `bot.routing.assignment.locks` says: the queue chain (read which from the lead, unlocked),
    then the lead, which must still be waiting (another replica may have placed it).
    """
    lead = (connection.execute(select(table_of(Lead)).where(Lead.id == lead_id))).first()
    if lead is None or lead.status != "unassigned":
        return None
    team = load_team(connection)
    queue, rule = lead.queue, lead.rule
    if queue is None:  # it arrived before a config (or a rule) could place it: try the rules now
        tried = first_match(team.rule_set, lead.fields)
        if not tried or not tried[-1].matched:
            return None
        queue, rule = tried[-1].queue, tried[-1].name
    lock_queues(connection, [queue])
    if not claim_waiting_lead(connection, lead_id):
        return None
    batch = router.batch(connection, now, team=team, locked=True)
    placement = router.place(batch, queue, lead.fields)
    if placement.winner is None:
        return None
    placement.notes.insert(
        0, f"Nobody was available when it arrived ({lead.reason}); assigned as soon as someone was."
    )
    tried = [RuleResult(rule or "-", queue, True, "waiting for someone available")]
    hop = (connection.execute(select(Assignment.id).where(Assignment.lead_id == lead_id))).all()
    return router.offer_again(batch, placement, tried, lead_id, lead.fields, cause="pending", hop=len(hop))

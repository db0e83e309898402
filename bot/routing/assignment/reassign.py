"""A manager's reassign: offer a lead to a named member now (also "Take it": to oneself).

It is a placement like any other, written by `Router.offer_again` (the assignment, the
ledger, the lead row, the open-lead counts and the `lead_assigned` DM in the outbox), with
its own counters, by the rules a pass follows (DESIGN, "Delivery and SLA"):

- the lead's open offer, or its acceptance, ends as `reassigned`, and its rep's share is
  credited back (the lead no longer counts against them) when it is still this period's;
- the new member is charged the lead in their seat in the lead's queue; there the share
  was already counted when the lead first came, so nothing accrues again;
- a member outside the lead's queue (a manager may choose anyone in the rotation) is
  charged in one of their own queues (the first of the lead's fallbacks they sit in, else
  their first queue): the lead is a new lead to that ledger and accrues like one, as a
  fallback's does. The explanation says a manager chose;
- a waiting lead (nobody was available) accrues in the new member's queue like a new lead.

A manager's choice is not held to eligibility: the member may be paused or at capacity.

Locks in the order of `bot.routing.assignment.locks`: the queues (the lead's queue, its
fallbacks and the new member's seat's queue), then the lead's rows (the offer's move or the
waiting lead's claim), then the members' counts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from bot.routing import audit
from bot.routing.assignment.batch import Batch
from bot.routing.assignment.explain import DecidedBy
from bot.routing.assignment.locks import OpenLeads, claim_waiting_lead, lock_queues, move_offer
from bot.routing.assignment.router import Placement, Router
from bot.routing.errors import InvalidChange, NotFound
from bot.routing.events import LeadReassigned, Recipient, lead_card
from bot.routing.ledger.queues import OpenQueue, eligible_seats
from bot.routing.outbox import Outbox
from bot.routing.results import MemberRef, RouteOutcome
from bot.routing.rules.lead_fields import storable
from bot.routing.rules.matching import RuleResult
from bot.routing.team import load_team
from bot.store.models import Assignment, Lead, Member, Membership, Queue, table_of

_ASSIGNMENTS = table_of(Assignment)
_END_ACCEPTED = (
    update(_ASSIGNMENTS)
    .where(_ASSIGNMENTS.c.id == bindparam("assignment_id"), _ASSIGNMENTS.c.state == "accepted")
    .values(state="reassigned", closed_at=bindparam("now"))
    .returning(_ASSIGNMENTS.c.id)
)


@dataclass(frozen=True, slots=True)
class Reassigned:
    """What a reassign did: who had the lead (and in what state), who has it now, where."""

    lead_id: str
    member: MemberRef
    queue: str
    previous: MemberRef | None
    previous_state: str | None  # "offered" | "accepted" | None (the lead was waiting)
    in_leads_queue: bool  # False: the member is not in the lead's queue, charged in `queue`
    outcome: RouteOutcome


class NotWaiting(InvalidChange):
    """A "Take it" on a lead that is no longer waiting: someone else took it first."""


def reassign(connection: Connection, router: Router, lead_id: str, slack_id: str, now: datetime,
             actor: str, *, only_if_waiting: bool = False) -> Reassigned:
    if not storable(lead_id) or len(lead_id) > 200:
        raise NotFound("There is no lead with that id; nothing was changed.")
    lead = connection.execute(select(table_of(Lead)).where(Lead.id == lead_id)).first()
    if lead is None:
        raise NotFound(f"There is no lead `{lead_id}`; nothing was changed.")
    member = connection.execute(select(Member.id, Member.name).where(
        Member.slack_id == slack_id, Member.in_config.is_(True))).first()
    if member is None:
        raise NotFound(f"<@{slack_id}> is not in the rotation, so the lead cannot go to them; add them "
                       "first (`/rotation add`). Nothing was changed.")
    team = load_team(connection)
    seat_queue = _seat_queue(connection, member.id, lead.queue)
    if seat_queue is None:
        raise InvalidChange(f"{member.name} is in no queue, so there is no ledger to count the lead in; "
                            "add them to one first (`/rotation add`). Nothing was changed.")
    lock_queues(connection, [q for q in (lead.queue, seat_queue) if q])  # step 1
    current = _current(connection, lead_id)  # read under the queue locks: no pass or SLA moves it now
    if only_if_waiting and (current is not None or lead.status != "unassigned"):
        raise NotWaiting(f"Lead {lead_id} is no longer waiting; nothing was changed.")
    if current is not None and current.member_id == member.id:
        done = "accepted by" if current.state == "accepted" else "offered to"
        raise InvalidChange(f"Lead {lead_id} is already {done} {member.name}; nothing was changed.")
    open_leads = OpenLeads()
    previous, ended = _end_current(connection, current, now, open_leads)
    if current is None and lead.status == "unassigned" and not claim_waiting_lead(connection, lead_id):
        raise InvalidChange(f"Lead {lead_id} was just placed by someone else; look again. "
                            "Nothing was changed.")
    batch = router.batch(connection, now, team=team, open_leads=open_leads, locked=True)
    placement, credited = _placement(batch, lead, ended, member.id, seat_queue, actor)
    winner = placement.winner
    assert winner is not None and placement.opened is not None
    tried = [RuleResult(lead.rule or "-", lead.queue or seat_queue, True, "when the lead arrived")]
    hop = len(connection.execute(select(Assignment.id).where(Assignment.lead_id == lead_id)).all())
    outcome = router.offer_again(batch, placement, tried, lead_id, lead.fields, cause="reassign", hop=hop)
    audit.record(connection, now, actor, "reassign", member_id=member.id, queue_id=placement.opened.info.id,
                 details={"lead_id": lead_id, "from": previous.slack_id if previous else None,
                          "from_state": ended.state if ended else None, "credited": credited})
    if previous is not None:
        _tell_previous(connection, previous, lead_id, lead.fields, winner.name, ended.id if ended else 0, now)
    return Reassigned(lead_id, MemberRef(slack_id, member.name), placement.opened.info.name, previous,
                      ended.state if ended else None, lead.queue == seat_queue, outcome)


@dataclass(frozen=True, slots=True)
class _Current:
    id: int
    member_id: int
    state: str
    queue: str


@dataclass(frozen=True, slots=True)
class _Ended:
    id: int
    member_id: int
    membership_id: int
    period_key: str
    queue: str
    state: str  # what it was: "offered" or "accepted"


def _seat_queue(connection: Connection, member_id: int, lead_queue: str | None) -> str | None:
    """Where the member is charged: the lead's queue, else the first of its fallbacks they
    sit in, else their first queue."""
    mine = list(connection.execute(
        select(Queue.name).join(Membership, Membership.queue_id == Queue.id)
        .where(Membership.member_id == member_id, Membership.in_config.is_(True), Queue.in_config.is_(True))
        .order_by(Queue.position)).scalars())
    if not mine:
        return None
    name, seen = lead_queue, set()
    while name is not None and name not in seen:
        if name in mine:
            return name
        seen.add(name)
        name = connection.execute(select(Queue.fallback).where(Queue.name == name)).scalar()
    return mine[0]


def _current(connection: Connection, lead_id: str) -> _Current | None:
    row = connection.execute(
        select(Assignment.id, Assignment.member_id, Assignment.state, Queue.name)
        .join(Queue, Queue.id == Assignment.queue_id)
        .where(Assignment.lead_id == lead_id, Assignment.state.in_(("offered", "accepted")))
        .order_by(Assignment.id.desc()).limit(1)).first()
    return None if row is None else _Current(*row)


def _end_current(connection: Connection, current: _Current | None, now: datetime,
                 open_leads: OpenLeads) -> tuple[MemberRef | None, _Ended | None]:
    """End the open offer (or the acceptance) as reassigned (step 2). An Accept may win the
    race for an offer (it takes no queue lock): then the acceptance is what ends."""
    if current is None:
        return None, None
    state = "offered"
    moved = move_offer(connection, current.id, "reassigned", now)
    if moved is not None:
        open_leads.add(moved.member_id, -1)
    elif connection.execute(_END_ACCEPTED, {"assignment_id": current.id, "now": now}).first() is not None:
        state = "accepted"
    else:  # neither offered nor accepted any more: nothing of it to end
        return None, None
    row = connection.execute(
        select(Assignment.member_id, Assignment.membership_id, Assignment.period_key, Member.slack_id,
               Member.name).join(Member, Member.id == Assignment.member_id)
        .where(Assignment.id == current.id)).one()
    return (MemberRef(row.slack_id, row.name),
            _Ended(current.id, row.member_id, row.membership_id, row.period_key, current.queue, state))


def _placement(batch: Batch, lead: Any, ended: _Ended | None, member_id: int, seat_queue: str,
               actor: str) -> tuple[Placement, bool]:
    """Credit the previous rep, and seat the lead with the member: the placement to commit."""
    now = batch.now

    def queue(name: str) -> OpenQueue:
        found = batch.queue(name)
        if found is None:
            raise NotFound(f"There is no queue named {name!r}; nothing was changed.")
        return found

    credited = False
    if ended is not None:
        previous = queue(ended.queue)
        seat = previous.rotation.seats.get(ended.membership_id)
        if seat is not None and previous.info.period_key == ended.period_key:
            previous.rotation.credit(seat)
            credited = True
    target = queue(seat_queue)
    info = target.by_member(member_id)
    if info is None:
        raise InvalidChange("That member just left the queue; nothing was changed.")
    eligible, excluded = eligible_seats(target, now)
    group = eligible if info in eligible else [*eligible, info]
    excluded.pop(info.seat.id, None)
    target.rotation.set_eligibility(s.seat.id for s in group)
    if not (credited and ended is not None and ended.queue == seat_queue):
        target.rotation.accrue([s.seat for s in group])  # a new lead to this ledger
    # A manager's choice is not held to capacity (check_capacity reads facts.capacity).
    chosen = dataclasses.replace(info, facts=dataclasses.replace(info.facts, capacity=None))
    who = "they took it themselves" if actor == chosen.slack_id else f"<@{actor}> chose them"
    outside = "" if lead.queue in (None, seat_queue) else \
        f" {chosen.name} is not in {lead.queue}, so it counts in their {seat_queue} ledger."
    notes = [f"A manager reassigned it to {chosen.name} ({who}).{outside}"]
    placement = Placement(target, winner=chosen, eligible=[chosen], excluded={}, notes=notes,
                          decided_by=DecidedBy.MANAGER)
    return placement, credited


def _tell_previous(connection: Connection, previous: MemberRef, lead_id: str, fields: dict[str, Any],
                   name: str, ended_id: int, now: datetime) -> None:
    """The rep who had the lead hears it went to someone else (their DM's buttons are dead)."""
    outbox = Outbox(now)
    outbox.owe(f"reassigned:{ended_id}:rep", LeadReassigned(lead_card(lead_id, fields), name),
               Recipient.dm(previous.slack_id), lead_id)
    outbox.flush(connection)

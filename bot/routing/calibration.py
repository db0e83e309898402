"""A manager's calibration of one seat: weight, +N adjustment, active, queue membership.

Changes go through the same `Rotation` operations the router uses (rebase, adjust),
so a +5 moves the member exactly five leads further from their next one.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from fractions import Fraction

from sqlalchemy import Connection, insert, select, update

from bot.routing.errors import AlreadyDone, InvalidChange, NotFound
from bot.routing.ledger import OpenQueue, SeatInfo, eligible_seats, open_queue, save
from bot.routing.locks import lock_queues
from bot.routing.members import audit, check_text, require_member
from bot.routing.results import Calibration
from bot.routing.team import TeamSettings
from bot.routing.weights import (
    WeightError,
    describe_weight,
    share_percent,
    weight_for_share,
    weight_from_number,
    weight_from_priority,
)
from bot.store.models import Membership, SlackEvent, table_of

MAX_ADJUSTMENT = 1000
MAX_CALIBRATION_NOTE = 2000
MAX_WEIGHT_TEXT = 32  # the seat's weight_text column


Reweighing = list[tuple[SeatInfo, Fraction, str]]  # seats, their new exact weights and the words


def parse_weight_input(text: str, opened: OpenQueue, slack_id: str) -> Reweighing:
    """ "2" (weight), "18%" (share of this queue), "priority 3" (1 in 4) → the exact weight and
    its words for the member's seat, and for the others' seats when they change too.

    A share is of the whole queue, so the member's weight is set against the others'. In a
    queue of shares (every other seat given as a percentage), the others' shares shrink or
    grow to make room, so that every seat's words still say its share; a weight and a
    priority are relative and leave the others alone.
    """
    seat = opened.by_slack_id(slack_id)
    assert seat is not None, "the caller checked the member is in the queue"
    raw = text.strip().lower()
    try:
        if raw.startswith("priority"):
            priority = raw.removeprefix("priority").strip()
            return [(seat, weight_from_priority(priority), f"priority {int(priority)}")]
        if raw.endswith("%"):
            return _set_share(share_percent(raw), seat, [s for s in opened.seats if s is not seat])
        return [(seat, weight_from_number(raw), raw)]
    except WeightError as error:
        raise InvalidChange(f"Weight {error}; write 2, 18% or priority 3.", field="weight") from None


def _set_share(percent: Fraction, seat: SeatInfo, others: list[SeatInfo]) -> Reweighing:
    others_total = sum((s.seat.weight for s in others), Fraction(0))
    if others_total <= 0:  # alone in the queue: every lead is theirs whatever the number
        return [(seat, percent, _percent_words(percent))]
    if not all(s.weight_text.endswith("%") for s in others):
        weight = weight_for_share(percent, others_total)
        return [(seat, weight, describe_weight(weight))]
    # Weights in percent: the member's is `percent`, the others share the rest in the same
    # proportions as before (a rotation is the same whatever the scale of its weights).
    scale = (100 - percent) / others_total
    rescaled = [(s, s.seat.weight * scale) for s in others]
    return [(seat, percent, _percent_words(percent))] + [(s, w, _percent_words(w)) for s, w in rescaled]


def _percent_words(percent: Fraction) -> str:
    return f"{float(percent):.6g}%"


def validate(change: Calibration) -> None:
    check_text(change.note, "note", MAX_CALIBRATION_NOTE, field="note")
    check_text(change.weight, "weight", MAX_WEIGHT_TEXT, field="weight")
    check_text(change.queue, "queue name", field="queue")
    check_text(change.slack_id, "member", field="member")
    if change.adjustment is not None:
        if abs(change.adjustment) > MAX_ADJUSTMENT:
            raise InvalidChange(
                f"An adjustment must be between -{MAX_ADJUSTMENT} and +{MAX_ADJUSTMENT}.", field="adjustment"
            )
        if change.adjustment != 0 and not (change.note and change.note.strip()):
            raise InvalidChange("Say why in a note: adjustments are audited.", field="note")


def apply_calibration(
    connection: Connection, team: TeamSettings, change: Calibration, now: datetime, actor: str
) -> OpenQueue:
    """Apply `change` to the opened queue's ledger (not saved; the caller saves or discards)."""
    validate(change)
    opened = open_queue(connection, change.queue, team, now)
    if opened is None:
        raise NotFound(f"There is no queue named {change.queue!r}.")
    info = opened.by_slack_id(change.slack_id)
    if info is None:
        raise InvalidChange(
            f"{change.slack_id} is not in {change.queue}; add them to the queue first.", field="member"
        )
    rotation, seat = opened.rotation, info.seat
    if change.weight is not None and change.weight.strip():
        for changed, weight, text in parse_weight_input(change.weight, opened, change.slack_id):
            rotation.reweight(changed.seat, weight)
            changed.weight_text = text
    if change.adjustment:
        eligible, _ = eligible_seats(opened, now)
        rotation.adjust(seat, change.adjustment, [s.seat.id for s in eligible])
    if change.active is not None:
        info.facts = dataclasses.replace(info.facts, seat_active=change.active)
    return opened


def calibrate(
    connection: Connection, team: TeamSettings, change: Calibration, now: datetime, actor: str
) -> str:
    if change.request_id is not None:
        _first_of_its_request(connection, change.request_id, now)
    opened = apply_calibration(connection, team, change, now, actor)
    info = opened.by_slack_id(change.slack_id)
    assert info is not None
    save(connection, opened, now)
    values: dict[str, object] = {"weight_text": info.weight_text}
    if change.active is not None:
        values["active"] = change.active
    connection.execute(update(Membership).where(Membership.id == info.seat.id).values(**values))
    if change.weight:  # a share set in a queue of shares rewords the others' too
        for other in opened.seats:
            if other is not info:
                connection.execute(update(Membership).where(Membership.id == other.seat.id)
                                   .values(weight_text=other.weight_text))
    said = []
    if change.weight:
        said.append(f"weight {info.weight_text}")
    if change.adjustment:
        said.append(f"adjustment {change.adjustment:+d}")
        audit(
            connection,
            now,
            actor,
            "adjustment",
            member_id=info.seat.member_id,
            queue_id=opened.info.id,
            period_key=opened.info.period_key,
            delta=change.adjustment,
            note=change.note,
        )
    if change.active is not None:
        said.append("active" if change.active else "inactive")
    audit(
        connection,
        now,
        actor,
        "calibrate",
        member_id=info.seat.member_id,
        queue_id=opened.info.id,
        note=change.note,
        details={"weight": change.weight, "adjustment": change.adjustment, "active": change.active},
    )
    return f"{info.name} in {opened.info.name}: " + (", ".join(said) if said else "no change") + "."


def _first_of_its_request(connection: Connection, request_id: str, now: datetime) -> None:
    """Record the request before anything changes; AlreadyDone if it was recorded before.

    An adjustment adds up, so a Save clicked twice would move the member twice. The key is
    written in the calibration's own transaction: a calibration refused (InvalidChange) may
    be asked again, and two at once are kept apart by the table's primary key (the second
    waits for the first to commit, then fails). Keys are forgotten after two days, with
    Slack's event ids (`bot.slack.dedupe`).
    """
    if request_done(connection, request_id):
        raise AlreadyDone("This calibration was already saved.")
    connection.execute(insert(SlackEvent).values(event_id=_request_key(request_id), seen_at=now))


def request_done(connection: Connection, request_id: str) -> bool:
    """Whether a calibration with this request id was saved."""
    seen = select(SlackEvent.event_id).where(SlackEvent.event_id == _request_key(request_id))
    return connection.execute(seen).first() is not None


def _request_key(request_id: str) -> str:
    return f"calibrate:{request_id}"[:100]


def add_to_queue(
    connection: Connection, slack_id: str, queue: str, now: datetime, actor: str, weight: str | None = None
) -> str:
    check_text(queue, "queue name", field="queue")
    check_text(weight, "weight", MAX_WEIGHT_TEXT, field="weight")
    check_text(slack_id, "member", field="member")
    try:
        member = require_member(connection, slack_id)
    except NotFound:  # said to the manager, not to the member
        raise NotFound(f"{slack_id} is not among the members in the routing config; add them to its "
                       "`members` first (`rotation config export`, edit, `rotation config apply`).") from None
    lock_queues(connection, [queue])  # seats are written under their queue's lock (bot.routing.locks)
    queue_row = (connection.execute(select_queue(queue))).first()
    if queue_row is None:
        raise NotFound(f"There is no queue named {queue!r}.")
    existing = (
        connection.execute(
            select(table_of(Membership)).where(
                Membership.queue_id == queue_row.id, Membership.member_id == member.id
            )
        )
    ).first()
    if existing is not None and existing.in_config:
        raise InvalidChange(f"{member.name} is already in {queue}.", field="queue")
    exact = weight_from_number(weight or "1")
    values = dict(
        weight=exact,
        weight_text=weight or "1",
        active=True,
        in_config=True,
        lag_base=Fraction(0),
        frozen=True,
    )
    if existing is None:
        connection.execute(
            insert(Membership).values(
                queue_id=queue_row.id,
                member_id=member.id,
                vtime_base=Fraction(0),
                received=0,
                adjustment=0,
                last_seq=0,
                created_at=now,
                **values,
            )
        )
    else:
        connection.execute(update(Membership).where(Membership.id == existing.id).values(**values))
    audit(connection, now, actor, "queue_add", member_id=member.id, queue_id=queue_row.id)
    return f"{member.name} joined {queue}, level with everyone (no catch-up flood)."


def remove_from_queue(connection: Connection, slack_id: str, queue: str, now: datetime, actor: str) -> str:
    check_text(queue, "queue name", field="queue")
    check_text(slack_id, "member", field="member")
    member = require_member(connection, slack_id)
    lock_queues(connection, [queue])
    queue_row = (connection.execute(select_queue(queue))).first()
    if queue_row is None:
        raise NotFound(f"There is no queue named {queue!r}.")
    result = connection.execute(
        update(Membership)
        .where(
            Membership.queue_id == queue_row.id,
            Membership.member_id == member.id,
            Membership.in_config.is_(True),
        )
        .values(in_config=False)
    )
    if result.rowcount == 0:
        raise InvalidChange(f"{member.name} is not in {queue}.", field="queue")
    audit(connection, now, actor, "queue_remove", member_id=member.id, queue_id=queue_row.id)
    return f"{member.name} left {queue}; their history stays in the reports."


def select_queue(name: str):
    from bot.store.models import Queue

    return select(Queue.id, Queue.name).where(Queue.name == name)

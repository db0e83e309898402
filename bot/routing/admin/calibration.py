"""A manager's calibration of one seat: weight, +N adjustment, active, queue membership.

Changes go through the same `Rotation` operations the router uses (rebase, adjust),
so a +5 moves the member exactly five leads further from their next one.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from fractions import Fraction

from sqlalchemy import Connection, Select, insert, select, update

from bot.routing import audit
from bot.routing.admin.results import Calibrated, JoinedQueue, LeftQueue, Reading, Reweighed, SeatWeight
from bot.routing.admin.roster import SeatState, config_problem
from bot.routing.assignment.locks import lock_queues
from bot.routing.availability.time_off import check_text, require_member
from bot.routing.errors import AlreadyDone, InvalidChange, NotFound
from bot.routing.fairness.weights import (
    MAX_WEIGHT,
    MIN_WEIGHT,
    SHARE_DECIMALS,
    WEIGHT_DECIMALS,
    WeightError,
    decimal_words,
    decimals_of,
    is_share_words,
    percent_words,
    round_to,
    share_percent,
    shares_in_proportion,
    weight_for_share,
    weight_from_number,
    weight_from_priority,
    weight_words,
)
from bot.routing.ledger.queues import OpenQueue, SeatInfo, eligible_seats, open_queue, save
from bot.routing.results import Calibration, MemberRef
from bot.routing.team import TeamSettings, load_team
from bot.store.models import Membership, SlackEvent, table_of

MAX_ADJUSTMENT = 1000
MAX_CALIBRATION_NOTE = 2000
MAX_WEIGHT_TEXT = 32  # the seat's weight_text column


Reweighing = list[tuple[SeatInfo, Fraction, str]]  # seats, their new exact weights and the words


def parse_weight_input(text: str, opened: OpenQueue, slack_id: str) -> Reweighing:
    """ "2" (weight), "18%" (share of this queue), "priority 3" (1 in 4) → the exact weight and
    its words for the member's seat, and for the others' seats when they change too.

    A queue is weighed one way, as the routing config says it must be: every seat a share,
    or none. In a queue of shares a share is set exactly, and the others' shares shrink or
    grow in proportion to make 100% again (in decimals the config writes back exactly); a
    weight or a priority there is refused on the field, saying to write a share. In a queue
    of weights a share becomes the weight that gives it (to 3 decimals, said so).
    """
    seat = opened.by_slack_id(slack_id)
    assert seat is not None, "the caller checked the member is in the queue"
    others = [s for s in opened.seats if s is not seat]
    raw = " ".join(text.strip().lower().split())
    shares = queue_of_shares(others)
    try:
        if shares:
            return _in_queue_of_shares(raw, seat, others, opened.info.name)
        return _in_queue_of_weights(raw, seat, others, opened.info.name)
    except WeightError as error:
        hint = "write a share like 18%" if shares else "write 2, 18% or priority 3"
        raise InvalidChange(f"Weight {error}; {hint}.", field="weight") from None


def queue_of_shares(seats: list[SeatInfo]) -> bool:
    """Whether these seats (a queue's, or all its others') are weighed in shares."""
    return bool(seats) and all(is_share_words(s.weight_text) for s in seats)


def _in_queue_of_shares(raw: str, seat: SeatInfo, others: list[SeatInfo], queue: str) -> Reweighing:
    if not raw.endswith("%"):
        raise InvalidChange(
            f"{queue} gives each member a share of its leads, so write a share like 18% (the others' "
            f"shares make room); {seat.name} has {seat.weight_text} now. To weigh its members instead, "
            "change the queue in the routing config.", field="weight")
    percent = share_percent(raw)
    rest = _make_room(others, 100 - percent, _places(percent), queue)
    return [(seat, percent, percent_words(percent)), *rest]


def _make_room(seats: list[SeatInfo], total: Fraction, places: int, queue: str) -> Reweighing:
    """`seats`' shares scaled in proportion to add up to `total` (so the queue's make 100%),
    in `places` decimals, or more (up to 4) where fewer would round a share away."""
    for finer in range(places, SHARE_DECIMALS + 1):
        scaled = shares_in_proportion([s.seat.weight for s in seats], total, finer)
        if all(share > 0 for share in scaled):
            return [(info, share, percent_words(share)) for info, share in zip(seats, scaled, strict=True)]
    starved = next(info for info, share in zip(seats, scaled, strict=True) if share <= 0)
    raise InvalidChange(f"That leaves too little of {queue} for {starved.name} (less than "
                        f"{percent_words(Fraction(1, 10**SHARE_DECIMALS))}); nothing was changed.",
                        field="weight")


def _places(share: Fraction) -> int:
    """Decimals for the others' shares made to add up: 2, or as many as the share typed has."""
    return min(SHARE_DECIMALS, max(2, decimals_of(share)))


def _in_queue_of_weights(raw: str, seat: SeatInfo, others: list[SeatInfo], queue: str) -> Reweighing:
    if raw.startswith("priority"):
        weight = weight_from_priority(raw.removeprefix("priority").strip())
        return [(seat, weight, f"priority {weight.denominator}")]
    if raw.endswith("%"):
        return [(seat, *_share_as_weight(share_percent(raw), others, queue))]
    weight = weight_from_number(raw)
    return [(seat, weight, weight_words(weight))]


def _share_as_weight(percent: Fraction, others: list[SeatInfo], queue: str) -> tuple[Fraction, str]:
    """The weight, to 3 decimals, that gives `percent` of a queue of weights; alone, 1."""
    others_total = sum((s.seat.weight for s in others), Fraction(0))
    if others_total <= 0:  # alone in the queue: every lead is theirs whatever the number
        return Fraction(1), "1"
    weight = round_to(weight_for_share(percent, others_total), WEIGHT_DECIMALS)
    if MIN_WEIGHT <= weight <= MAX_WEIGHT:
        return weight, weight_words(weight)
    exact = decimal_words(weight_for_share(percent, others_total))
    lowest = round_to(MIN_WEIGHT / (MIN_WEIGHT + others_total) * 100 + Fraction(1, 200), 2)
    highest = round_to(MAX_WEIGHT / (MAX_WEIGHT + others_total) * 100 - Fraction(1, 200), 2)
    raise InvalidChange(
        f"{percent_words(percent)} of {queue} would be a weight of {exact} beside the others' "
        f"{weight_words(others_total)} together, and a weight must be from {weight_words(MIN_WEIGHT)} "
        f"to {MAX_WEIGHT}: give a share from {percent_words(lowest)} to {percent_words(highest)}, "
        "or a weight.", field="weight")


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
    opened, info = _opened_for(connection, team, change, now)
    _apply(opened, info, change, now)
    return opened


def _opened_for(connection: Connection, team: TeamSettings, change: Calibration,
                now: datetime) -> tuple[OpenQueue, SeatInfo]:
    """The queue `change` is about, opened, and its member's seat, once both are checked."""
    validate(change)
    opened = open_queue(connection, change.queue, team, now)
    if opened is None:
        raise NotFound(f"There is no queue named {change.queue!r}.")
    info = opened.by_slack_id(change.slack_id)
    if info is None:
        raise InvalidChange(
            f"{change.slack_id} is not in {change.queue}; add them to the queue first.", field="member"
        )
    return opened, info


def _apply(opened: OpenQueue, info: SeatInfo, change: Calibration, now: datetime) -> None:
    rotation, seat = opened.rotation, info.seat
    if change.weight is not None and change.weight.strip():
        _reweigh(opened, parse_weight_input(change.weight, opened, change.slack_id))
    if change.adjustment:
        eligible, _ = eligible_seats(opened, now)
        rotation.adjust(seat, change.adjustment, [s.seat.id for s in eligible])
    if change.active is not None:
        info.facts = dataclasses.replace(info.facts, seat_active=change.active)


def _reweigh(opened: OpenQueue, changes: Reweighing) -> None:
    """Set the seats' weights and words, then check that the routing config takes them as they
    are, by the config's own checks (`config export` must apply again, to these weights)."""
    for changed, weight, words in changes:
        opened.rotation.reweight(changed.seat, weight)
        changed.weight_text = words
    problem = config_problem([SeatState(s.slack_id, s.seat.weight, s.weight_text) for s in opened.seats])
    if problem:
        raise InvalidChange(f"Weight refused: the routing config would refuse {opened.info.name}'s weights "
                            f"({problem}), so nothing was changed. `rotation config export` writes the queue "
                            "in weights the config takes: apply that to mend it.", field="weight")


def calibrate(
    connection: Connection, team: TeamSettings, change: Calibration, now: datetime, actor: str
) -> Calibrated:
    """Save `change` and audit it; what changed, for the front end to say."""
    if change.request_id is not None:
        _first_of_its_request(connection, change.request_id, now)
    opened, info = _opened_for(connection, team, change, now)
    before = {s.seat.id: s.weight_text for s in opened.seats}
    _apply(opened, info, change, now)
    save(connection, opened, now)
    values: dict[str, object] = {"weight_text": info.weight_text}
    if change.active is not None:
        values["active"] = change.active
    connection.execute(update(Membership).where(Membership.id == info.seat.id).values(**values))
    weighed = bool(change.weight and change.weight.strip())
    if weighed:  # a share set in a queue of shares rewords the others' too
        _save_words(connection, [other for other in opened.seats if other is not info])
    if change.adjustment:
        audit.record(
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
    audit.record(
        connection,
        now,
        actor,
        "calibrate",
        member_id=info.seat.member_id,
        queue_id=opened.info.id,
        note=change.note,
        details={"weight": change.weight, "adjustment": change.adjustment, "active": change.active},
    )
    weight = _reweighed((change.weight or "").strip(), info, opened, before) if weighed else None
    return Calibrated(opened.info.name, MemberRef(info.slack_id, info.name), weight, change.adjustment or 0,
                      change.active)


def _save_words(connection: Connection, seats: list[SeatInfo]) -> None:
    for seat in seats:
        connection.execute(update(Membership).where(Membership.id == seat.seat.id)
                           .values(weight_text=seat.weight_text))


def _reweighed(typed: str, info: SeatInfo, opened: OpenQueue, before: dict[int, str]) -> Reweighed:
    """The seat's weight from `before` to now, and how what was typed was read: a share is
    not always the words it was typed in (a weight in a queue of weights, others resized)."""
    if not typed.endswith("%"):
        reading = Reading.AS_TYPED
    elif not is_share_words(info.weight_text):
        reading = Reading.SHARE_AS_WEIGHT
    else:
        reading = Reading.SHARE
    others = tuple(SeatWeight(MemberRef(s.slack_id, s.name), before[s.seat.id], s.weight_text)
                   for s in opened.seats if s is not info) if reading is Reading.SHARE else ()
    return Reweighed(typed, before[info.seat.id], info.weight_text, reading, others)


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
) -> JoinedQueue:
    check_text(queue, "queue name", field="queue")
    check_text(weight, "weight", MAX_WEIGHT_TEXT, field="weight")
    check_text(slack_id, "member", field="member")
    try:
        member = require_member(connection, slack_id)
    except NotFound:  # said to the manager, not to the member
        raise NotFound(f"{slack_id} is not among the members in the routing config; add them to its "
                       "`members` first (`rotation config export`, edit, `rotation config apply`).") from None
    lock_queues(connection, [queue])  # seats are written under their queue's lock (assignment.locks)
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
    exact, words, made_room = _newcomer_weight(connection, queue, weight, now)
    values = dict(
        weight=exact,
        weight_text=words,
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
    audit.record(connection, now, actor, "queue_add", member_id=member.id, queue_id=queue_row.id)
    return JoinedQueue(queue, MemberRef(slack_id, member.name), words, made_room)


def _newcomer_weight(connection: Connection, queue: str, weight: str | None,
                     now: datetime) -> tuple[Fraction, str, bool]:
    """A newcomer's weight, words, and whether the others made room. In a queue of shares
    (which the config wants all or none) they get an equal share, and the others' shares
    make room in proportion; elsewhere the weight given, by the config's rules, or 1."""
    opened = open_queue(connection, queue, load_team(connection), now)
    if opened is None or not queue_of_shares(opened.seats):
        try:
            exact = weight_from_number(weight or "1")
        except WeightError as error:
            raise InvalidChange(f"Weight {error}; write 2 or 0.5.", field="weight") from None
        return exact, weight_words(exact), False
    share = round_to(Fraction(100, len(opened.seats) + 1), 2)
    if weight is not None:
        try:
            share = share_percent(weight) if weight.strip().endswith("%") else Fraction(0)
        except WeightError as error:
            raise InvalidChange(f"Share {error}.", field="weight") from None
        if not share:
            raise InvalidChange(f"{queue} gives each member a share of its leads: give a share like 18%.",
                                field="weight")
    _reshare(connection, opened, _make_room(opened.seats, 100 - share, _places(share), queue), now)
    return share, percent_words(share), True


def _reshare(connection: Connection, opened: OpenQueue, shares: Reweighing, now: datetime) -> None:
    """Give the seats these shares, folded into their ledgers at the current lag, and save."""
    for info, share, words in shares:
        opened.rotation.reweight(info.seat, share)
        info.weight_text = words
    save(connection, opened, now)
    _save_words(connection, [info for info, _, _ in shares])


def remove_from_queue(connection: Connection, slack_id: str, queue: str, now: datetime,
                      actor: str) -> LeftQueue:
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
    left = _grow_shares(connection, LeftQueue(queue, MemberRef(slack_id, member.name)), now)
    audit.record(connection, now, actor, "queue_remove", member_id=member.id, queue_id=queue_row.id)
    return left


def _grow_shares(connection: Connection, left: LeftQueue, now: datetime) -> LeftQueue:
    """In a queue of shares the others' grow in proportion to make 100% again (as the config
    wants); one left alone gets weight 1, every lead. `left`, saying which of these happened."""
    opened = open_queue(connection, left.queue, load_team(connection), now)
    if opened is None or not queue_of_shares(opened.seats):
        return left
    if len(opened.seats) == 1:
        alone = opened.seats[0]
        _reshare(connection, opened, [(alone, Fraction(1), "1")], now)
        return dataclasses.replace(left, left_alone=MemberRef(alone.slack_id, alone.name))
    _reshare(connection, opened, _make_room(opened.seats, Fraction(100), 2, left.queue), now)
    return dataclasses.replace(left, shares_grew=True)


def select_queue(name: str) -> Select[int, str]:
    from bot.store.models import Queue

    return select(Queue.id, Queue.name).where(Queue.name == name)

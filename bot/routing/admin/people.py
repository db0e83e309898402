"""A manager's people: add a person to the rotation, remove them, and keep Slack's adds
across config applies.

Adding reuses the calibration's seat operations (`calibration.add_to_queue`, `calibrate`), so
a newcomer starts level in each queue exactly as a seat added in the calibrate modal does:
lag 0 and frozen until their first lead (DESIGN, fairness rule 3: no flood, no penalty).
Adding someone already there changes only what the command says (their queues, weight,
capacity or hours), never their ledger.

The config file and Slack both change the team, so the rule between them is:
- a restart with the same file changes nothing (`apply_config_if_changed`);
- a file that says something new wins for every person it names (their queues and weights
  are the file's, a Slack removal of them is undone);
- a person added in Slack whom the applied file does not name is kept, with their queues and
  ledgers (the mark `members.slack_added_at`, cleared once a file names them). To take
  them out: a remove (in Slack, `/rotation remove @member`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from fractions import Fraction
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, func, select, text, update

from bot.config.schema import MemberConfig
from bot.routing import audit
from bot.routing.admin import calibration
from bot.routing.admin.results import Calibrated, LimitsSet, PersonAdded, PersonRemoved, QueueAdd
from bot.routing.admin.roster import CONFIG_LOCK_ID, RESETTABLE
from bot.routing.assignment.locks import lock_all_queues, lock_queues
from bot.routing.availability.time_off import check_text
from bot.routing.errors import InvalidChange, NotFound
from bot.routing.fairness.weights import (
    WeightError,
    is_share_words,
    percent_words,
    round_to,
    weight_from_number,
)
from bot.routing.ledger.queues import bump_versions, open_queue, save
from bot.routing.results import Calibration, MemberRef
from bot.routing.team import TeamSettings, load_team
from bot.store.models import Assignment, AuditEvent, Member, Membership, Queue, table_of

MAX_QUEUES_AT_ONCE = 200


@dataclass(frozen=True, slots=True)
class Profile:
    """What Slack's profile says of a person (users.info): the front end reads it."""

    slack_id: str
    name: str
    email: str | None = None
    timezone: str | None = None


class Keep(Enum):
    """A limit the change leaves as it is (for a newcomer: none)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True)
class PersonChange:
    """An add: the person, their queues (none: the catch-all rule's queue), a weight in the
    calibration's words ("2", "18%", "priority 3"), and their capacity and working hours
    (None: none; KEEP: as they are)."""

    profile: Profile
    queues: tuple[str, ...] = ()
    weight: str | None = None
    capacity: int | Keep | None = KEEP
    working_hours: str | Keep | None = KEEP

    @property
    def limits(self) -> bool:
        return self.capacity is not KEEP or self.working_hours is not KEEP


class NoCatchAllRule(InvalidChange):
    """An add that names no queue, in a team whose rules have no catch-all: say which queues
    (a front end may say how: Slack names its command)."""

    def __init__(self) -> None:
        super().__init__("The routing config has no catch-all rule, so say which queues. "
                         "Nothing was changed.", field="queues")


class NotInRotation(NotFound):
    """A remove of someone who is not in the rotation (a front end may name them its own way)."""

    def __init__(self, slack_id: str) -> None:
        super().__init__(f"{slack_id} is not in the rotation, so there is nothing to remove; "
                         "nothing was changed.")
        self.slack_id = slack_id


def catch_all_queue(team: TeamSettings) -> str:
    """The queue of the rule with no `when`: where `add` puts a person named with no queue."""
    rule = next((r for r in team.rules if not r.get("when")), None)
    if rule is None:
        raise NoCatchAllRule()
    return str(rule["queue"])


def checked_profile(change: PersonChange, existing: Any | None) -> MemberConfig:
    """The person as the routing config's own checks take them (so `config export` applies)."""
    profile = change.profile
    values: dict[str, Any] = {"slack_id": profile.slack_id,
                              "name": profile.name.strip()[:200] or profile.slack_id,
                              "email": profile.email or None, "timezone": profile.timezone or None}
    if existing is not None:  # in the rotation already: the profile is theirs as it stands
        values |= {"name": existing.name, "email": existing.email, "timezone": existing.timezone,
                   "capacity": existing.capacity, "working_hours": existing.working_hours}
    if change.capacity is not KEEP:
        values["capacity"] = change.capacity
    if change.working_hours is not KEEP:
        values["working_hours"] = change.working_hours or None
    try:
        return MemberConfig(**values)
    except ValidationError as error:
        first = error.errors()[0]
        where = str(first["loc"][0]) if first["loc"] else "member"
        words = first["msg"].removeprefix("Value error, ")
        if where == "email":  # a profile's odd email must not stop an add: it is optional
            return checked_profile(replace(change, profile=replace(profile, email=None)), existing)
        if where == "timezone" and existing is None:
            return checked_profile(replace(change, profile=replace(profile, timezone=None)), existing)
        field = {"capacity": "capacity", "working_hours": "working_hours"}.get(where, "member")
        raise InvalidChange(f"The {where.replace('_', ' ')} is refused: {words}. Nothing was changed.",
                            field=field) from None


def _queue_names(connection: Connection, team: TeamSettings, wanted: tuple[str, ...]) -> list[str]:
    """The queues named, as the config spells them (people type EMEA for emea)."""
    names = list(connection.execute(select(Queue.name).where(Queue.in_config.is_(True))
                                    .order_by(Queue.position)).scalars())
    if not wanted:
        wanted = (catch_all_queue(team),)
    if len(wanted) > MAX_QUEUES_AT_ONCE:
        raise InvalidChange(f"Name at most {MAX_QUEUES_AT_ONCE} queues at once.", field="queues")
    found: list[str] = []
    for word in wanted:
        name = word if word in names else next((n for n in names if n.casefold() == word.casefold()), None)
        if name is None:
            listed = ", ".join(names[:30]) + (" …" if len(names) > 30 else "")
            raise NotFound(f"There is no queue named {word[:100]!r}; nothing was changed. Queues: {listed}.")
        if name not in found:
            found.append(name)
    return found


def add_person(connection: Connection, change: PersonChange, now: datetime, actor: str) -> PersonAdded:
    """Put a person in the rotation and in the queues named; see the module's docstring."""
    team = load_team(connection)
    slack_id = change.profile.slack_id
    check_text(change.weight, "weight", calibration.MAX_WEIGHT_TEXT, field="weight")
    queues = _queue_names(connection, team, change.queues)
    existing = connection.execute(select(table_of(Member)).where(Member.slack_id == slack_id)).first()
    # step 1 of bot.routing.assignment.locks, before any write: the queues named and the
    # ones the person sits in already (whose ledgers read their capacity and hours)
    lock_queues(connection, [*queues, *(_seat_queues(connection, existing.id) if existing else [])])
    in_rotation = existing is not None and existing.in_config
    person = checked_profile(change, existing if in_rotation else None)
    limits: LimitsSet | None = None
    values = dict(name=person.name, email=person.email, timezone=person.timezone, capacity=person.capacity,
                  working_hours=person.working_hours, updated_at=now)
    if existing is None:
        connection.execute(table_of(Member).insert().values(
            slack_id=slack_id, active=True, in_config=True, open_leads=0, created_at=now, **values))
    elif not in_rotation:
        connection.execute(update(Member).where(Member.id == existing.id)
                           .values(active=True, in_config=True, **values))
    elif change.limits:
        connection.execute(update(Member).where(Member.id == existing.id).values(**values))
        limits = LimitsSet(MemberRef(slack_id, person.name), person.capacity, person.working_hours)
    if not in_rotation:
        connection.execute(update(Member).where(Member.slack_id == slack_id).values(slack_added_at=now))
    member_id = connection.execute(select(Member.id).where(Member.slack_id == slack_id)).scalar_one()
    seats: list[QueueAdd] = []
    for queue in queues:
        try:
            seats.append(_into_queue(connection, team, slack_id, member_id, queue, change.weight, now, actor))
        except InvalidChange as refused:  # the calibration's words, said of this queue; all rolls back
            said = str(refused).rstrip(".")
            raise InvalidChange(f"{queue}: {said}. Nothing was changed.", field=refused.field) from None
    _touched(connection, member_id)
    if not in_rotation or change.limits:
        audit.record(connection, now, actor, "person_add" if not in_rotation else "person_update",
                     member_id=member_id,
                     details={"queues": queues, "weight": change.weight, "capacity": person.capacity,
                              "working_hours": person.working_hours, "timezone": person.timezone,
                              "email": person.email})
    return PersonAdded(MemberRef(slack_id, person.name), not in_rotation, tuple(queues), limits, tuple(seats))


def _into_queue(connection: Connection, team: TeamSettings, slack_id: str, member_id: int, queue: str,
                weight: str | None, now: datetime, actor: str) -> QueueAdd:
    """Seat the person in `queue` level with everyone, or (already there) set only the weight."""
    seat = connection.execute(
        select(Membership.in_config, Membership.weight_text)
        .join(Queue, Queue.id == Membership.queue_id)
        .where(Queue.name == queue, Membership.member_id == member_id)).first()
    if seat is not None and seat.in_config:
        if weight is None or not weight.strip():
            return QueueAdd(queue, seat.weight_text)
        weighed = calibration.calibrate(connection, team, _weighing(queue, slack_id, weight), now, actor)
        return QueueAdd(queue, _words_now(weighed, seat.weight_text), weighed=weighed)
    if weight is None or _fits_newcomer(connection, team, queue, weight, now):
        joined = calibration.add_to_queue(connection, slack_id, queue, now, actor, weight)
        return QueueAdd(queue, joined.weight, joined=joined)
    joined = calibration.add_to_queue(connection, slack_id, queue, now, actor)
    weighed = calibration.calibrate(connection, team, _weighing(queue, slack_id, weight), now, actor)
    return QueueAdd(queue, _words_now(weighed, joined.weight), joined=joined, weighed=weighed)


def _words_now(weighed: Calibrated, before: str) -> str:
    return weighed.weight.after if weighed.weight is not None else before


def _weighing(queue: str, slack_id: str, weight: str) -> Calibration:
    return Calibration(queue=queue, slack_id=slack_id, weight=weight)


def _fits_newcomer(connection: Connection, team: TeamSettings, queue: str, weight: str,
                   now: datetime) -> bool:
    """Whether `add_to_queue` takes this weight as it is: a number in a queue of weights, a
    share in a queue of shares. A priority, or a share in a queue of weights, is set after
    the seat is added, by the calibration's own reading of it."""
    opened = open_queue(connection, queue, team, now)
    shares = opened is not None and calibration.queue_of_shares(opened.seats)
    if shares:
        return True  # add_to_queue reads the share, and refuses anything else in words
    try:
        weight_from_number(weight)
    except WeightError:
        return False
    return True


def remove_person(connection: Connection, slack_id: str, queue: str | None, now: datetime,
                  actor: str) -> PersonRemoved:
    """Out of one queue, or (no queue) out of the rotation; history and past leads stay."""
    check_text(slack_id, "member", field="member")
    member = connection.execute(select(table_of(Member)).where(Member.slack_id == slack_id)).first()
    if member is None or not member.in_config:
        raise NotInRotation(slack_id)
    ref = MemberRef(slack_id, member.name)
    if queue is not None:
        name = _queue_names(connection, load_team(connection), (queue,))[0]
        left = calibration.remove_from_queue(connection, slack_id, name, now, actor)
        return PersonRemoved(ref, False, (name,), 0, (left,))
    seats = _seat_queues(connection, member.id)
    lock_queues(connection, seats)
    lefts = [calibration.remove_from_queue(connection, slack_id, name, now, actor) for name in seats]
    connection.execute(update(Member).where(Member.id == member.id)
                       .values(in_config=False, active=False, updated_at=now))
    connection.execute(update(Member).where(Member.id == member.id).values(slack_added_at=None))
    _touched(connection, member.id)
    offered = connection.execute(select(func.count()).select_from(Assignment).where(
        Assignment.member_id == member.id, Assignment.state == "offered")).scalar_one()
    audit.record(connection, now, actor, "person_remove", member_id=member.id,
                 details={"queues": seats, "open_offers": offered})
    return PersonRemoved(ref, True, tuple(seats), offered, tuple(lefts))


def _seat_queues(connection: Connection, member_id: int) -> list[str]:
    return list(connection.execute(
        select(Queue.name).join(Membership, Membership.queue_id == Queue.id)
        .where(Membership.member_id == member_id, Membership.in_config.is_(True))
        .order_by(Queue.position)).scalars())


def _touched(connection: Connection, member_id: int) -> None:
    """Every queue the member has a seat in (in use or not) was written: ledgers kept in
    memory (`bot.routing.ledger.cache`) read them again. Their locks are already held."""
    ids = connection.execute(select(Membership.queue_id).where(Membership.member_id == member_id)).scalars()
    bump_versions(connection, sorted(set(ids)))


# --- the config file and Slack's people ---

def lock_for_apply(connection: Connection) -> None:
    """The locks a config apply takes, in its order (roster.apply_config takes them again,
    which the same transaction already holds), so Slack's people are read under them."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": CONFIG_LOCK_ID})
    lock_all_queues(connection)


def slack_people_seats(connection: Connection) -> dict[int, list[int]]:
    """People added in Slack and still in the rotation: member id -> their seats in use."""
    marked = select(Member.id).where(Member.slack_added_at.is_not(None))
    rows = connection.execute(
        select(Member.id, Membership.id.label("seat_id"))
        .outerjoin(Membership, (Membership.member_id == Member.id) & Membership.in_config.is_(True))
        .where(Member.id.in_(marked), Member.in_config.is_(True))).all()
    kept: dict[int, list[int]] = {}
    for member_id, seat_id in rows:
        kept.setdefault(member_id, [])
        if seat_id is not None:
            kept[member_id].append(seat_id)
    return kept


def their_calibrations(connection: Connection, member_ids: list[int]) -> int:
    """How many of the Slack changes since the last apply (`roster.RESETTABLE`, counted as
    `calibrations_replaced` counts them) were made to these people: an apply that keeps them
    keeps those, so the warning must not count them as set back."""
    if not member_ids:
        return 0
    last = select(func.max(AuditEvent.id)).where(AuditEvent.action == "config_apply").scalar_subquery()
    rows = connection.execute(select(AuditEvent.action, AuditEvent.details).where(
        AuditEvent.action.in_(RESETTABLE), AuditEvent.id > func.coalesce(last, 0),
        AuditEvent.member_id.in_(member_ids))).all()
    return sum(1 for action, details in rows if action != "calibrate"
               or (details or {}).get("weight") or (details or {}).get("active") is not None)


def keep_slack_people(connection: Connection, kept: dict[int, list[int]], named: set[str],
                      now: datetime) -> list[str]:
    """After a file was applied: the people it names are the file's from now on; the people
    added in Slack it does not name are put back, with their seats (whose ledgers the apply
    did not touch). Their names, for the one who applied."""
    if named:
        connection.execute(update(Member).where(Member.slack_id.in_(sorted(named)))
                           .values(slack_added_at=None))
    rows = connection.execute(select(Member.id, Member.slack_id, Member.name)
                              .where(Member.id.in_(list(kept)))).all() if kept else []
    team = load_team(connection)
    names: list[str] = []
    for member_id, slack_id, name in rows:
        if slack_id in named:
            continue
        names.append(name)
        connection.execute(update(Member).where(Member.id == member_id)
                           .values(in_config=True, active=True, updated_at=now))
        seats = kept[member_id]
        if not seats:
            continue
        live = select(Queue.id).where(Queue.in_config.is_(True))
        connection.execute(update(Membership).where(Membership.id.in_(seats), Membership.queue_id.in_(live))
                           .values(in_config=True))
        queues = connection.execute(select(Queue.name).join(Membership, Membership.queue_id == Queue.id)
                                    .where(Membership.id.in_(seats), Queue.in_config.is_(True))).scalars()
        for queue in queues:
            _fit_words(connection, team, queue, slack_id, now)
    return names


def _fit_words(connection: Connection, team: TeamSettings, queue: str, slack_id: str, now: datetime) -> None:
    """Put a seat that came back beside the file's seats in words the queue takes: in a
    queue of shares the others make room for its share (or an equal one), elsewhere a
    share becomes weight 1. So `config export` still writes a queue `config check` takes."""
    opened = open_queue(connection, queue, team, now)
    assert opened is not None
    info = opened.by_slack_id(slack_id)
    assert info is not None
    others = [s for s in opened.seats if s is not info]
    if calibration.queue_of_shares(others):
        words = info.weight_text if is_share_words(info.weight_text) else \
            percent_words(round_to(Fraction(100, len(opened.seats)), 2))
    elif is_share_words(info.weight_text):
        words = "1"
    else:
        return
    for seat, weight, said in calibration.parse_weight_input(words, opened, slack_id):
        opened.rotation.reweight(seat.seat, weight)
        seat.weight_text = said
    save(connection, opened, now)
    for seat in opened.seats:
        connection.execute(update(Membership).where(Membership.id == seat.seat.id)
                           .values(weight_text=seat.weight_text))

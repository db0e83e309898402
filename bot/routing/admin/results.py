"""What a manager's changes did, as data: the admin room's answers, worded by the front ends.

Why typed: the same calibration is told in Slack (the modal, `/rotation add`), and may be
told elsewhere; each front end words it its own way (`bot/slack/admin_words.py` for Slack).
Each result carries what the words need and no more: the queue, the member, and what
changed there (a weight from its words before to its words after, an adjustment, active).
Weights are in the config's words ("2", "18%", "priority 3"), as `config export` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.routing.results import MemberRef


@dataclass(frozen=True, slots=True)
class SeatWeight:
    """One seat's weight in the config's words, before and after a change."""

    member: MemberRef
    before: str
    after: str


class Reading(Enum):
    """How a weight the manager typed was read."""

    AS_TYPED = "as typed"  # a weight or a priority, set as written
    SHARE_AS_WEIGHT = "share as weight"  # a share in a queue of weights: the weight that gives it
    SHARE = "share"  # a share in a queue of shares: the others' shares made room in proportion


@dataclass(frozen=True, slots=True)
class Reweighed:
    """A seat's new weight: what was typed, the words before and after, and how it was read."""

    typed: str  # as the manager wrote it, without the spaces around it
    before: str
    after: str
    reading: Reading
    others: tuple[SeatWeight, ...] = ()  # with SHARE: the queue's other seats, in its order


@dataclass(frozen=True, slots=True)
class Calibrated:
    """A calibration saved: the member's seat in `queue`, and what changed there."""

    queue: str
    member: MemberRef
    weight: Reweighed | None = None  # None: the weight was left as it was
    adjustment: int = 0  # leads counted as received (+N) or given back (-N); 0: none
    active: bool | None = None  # what the seat was set to; None: left as it was

    @property
    def changed(self) -> bool:
        return self.weight is not None or self.adjustment != 0 or self.active is not None


@dataclass(frozen=True, slots=True)
class JoinedQueue:
    """A member seated in a queue, level with everyone (lag 0, frozen until their first lead)."""

    queue: str
    member: MemberRef
    weight: str  # their seat's words
    made_room: bool = False  # a queue of shares: the others' shares made room for this one


@dataclass(frozen=True, slots=True)
class LeftQueue:
    """A member out of a queue; their history stays. In a queue of shares the others' shares
    grew to make 100% again, or the one member left takes every lead (weight 1)."""

    queue: str
    member: MemberRef
    shares_grew: bool = False
    left_alone: MemberRef | None = None  # set instead of shares_grew when one member is left


@dataclass(frozen=True, slots=True)
class QueueAdd:
    """What adding a person did in one of the queues named."""

    queue: str
    weight: str  # their seat's words there now
    joined: JoinedQueue | None = None  # None: they were in it already
    weighed: Calibrated | None = None  # their weight set there (after joining, or instead)


@dataclass(frozen=True, slots=True)
class LimitsSet:
    """A person's capacity and working hours, as an add set them (None: no limit)."""

    member: MemberRef
    capacity: int | None
    working_hours: str | None


@dataclass(frozen=True, slots=True)
class PersonAdded:
    member: MemberRef
    joined_rotation: bool  # new to the rotation (or back in it)
    queues: tuple[str, ...]
    limits: LimitsSet | None  # set only for someone in the rotation already whose limits were given
    seats: tuple[QueueAdd, ...]  # one a queue, in `queues`' order


@dataclass(frozen=True, slots=True)
class PersonRemoved:
    member: MemberRef
    whole_rotation: bool
    queues: tuple[str, ...]
    open_offers: int  # leads still offered to them (the SLA moves them, or a reassign)
    left: tuple[LeftQueue, ...]  # one a queue they left

"""The rotation ledger of one queue, in memory and exact.

The fair strategy is the quota method in its lag (earliest-deadline) form:

- lag = fair share so far - leads received, per seat (a member's place in a queue);
- on each lead, every eligible seat's lag grows by w / W_eligible;
- among eligible seats with lag > 0 the winner is the one whose lag would reach 1
  soonest, the smallest (1 - lag) / w; if none has lag > 0, the largest lag wins;
  ties go to the least recently assigned, then to the lowest seat id;
- the winner's lag drops by 1.

With fixed weights and everyone eligible, every count stays within 1 of its exact
share at every prefix. Ineligible seats are frozen (they accrue nothing) so they come
back level, and a new seat starts at lag 0.

Lags are stored lazily: lag = lag_base + weight * (vtime - vtime_base) while the seat
is eligible, where `vtime` is the queue's running sum of 1 / W_eligible. A lead then
changes only the winner and the seats whose eligibility changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

STRATEGIES = ("fair", "least_recent", "load_balance")
# Far above the rounding error of a float lag (~1e-13 for lags and weights in the
# thousands) and far below any real difference between two exact lags worth telling apart
# by floats: anything closer is compared exactly.
TOLERANCE = 1e-6


@dataclass(slots=True)
class Seat:
    """One membership's ledger entry."""

    id: int
    member_id: int
    weight: Fraction
    lag_base: Fraction = Fraction(0)
    vtime_base: Fraction = Fraction(0)
    frozen: bool = True
    received: int = 0
    adjustment: int = 0
    last_seq: int = 0
    open_leads: int = 0
    capacity: int | None = None
    dirty: bool = field(default=False, compare=False)
    # float(lag_base), float(vtime_base), float(weight), and the Fractions they came from:
    # a Fraction's float conversion is slow, and ranking asks for it on every lead.
    _floats: tuple[Fraction, Fraction, Fraction, float, float, float] | None = field(
        default=None, compare=False, repr=False
    )

    def lag(self, vtime: Fraction) -> Fraction:
        if self.frozen:
            return self.lag_base
        return self.lag_base + self.weight * (vtime - self.vtime_base)

    def approx_lag(self, vtime: float) -> float:
        """The lag as a float, for ranking only (see `Rotation._choose_fair`)."""
        lag_base, vtime_base, weight = self._approx()
        if self.frozen:
            return lag_base
        return lag_base + weight * (vtime - vtime_base)

    def approx_weight(self) -> float:
        return self._approx()[2]

    def _approx(self) -> tuple[float, float, float]:
        cached = self._floats
        # Fractions are immutable, so the same objects mean the same values.
        if (
            cached is None
            or cached[0] is not self.lag_base
            or cached[1] is not self.vtime_base
            or cached[2] is not self.weight
        ):
            cached = self._floats = (
                self.lag_base,
                self.vtime_base,
                self.weight,
                float(self.lag_base),
                float(self.vtime_base),
                float(self.weight),
            )
        return cached[3], cached[4], cached[5]

    def rebase(self, vtime: Fraction) -> None:
        """Fold the accrued lag into lag_base so weight or state can change safely."""
        self.lag_base = self.lag(vtime)
        self.vtime_base = vtime
        self.dirty = True


@dataclass(frozen=True, slots=True)
class Choice:
    seat: Seat
    tie_break: str | None
    lags: dict[int, Fraction] | None = None  # the exact lags compared, computed once
    approx: dict[int, float] | None = None  # every eligible seat's float lag, for explanations


@dataclass(slots=True)
class Rotation:
    """A queue's ledger: the queue clock plus its seats."""

    vtime: Fraction = Fraction(0)
    seq: int = 0
    seats: dict[int, Seat] = field(default_factory=dict)
    # The eligible set's total weight, kept while the set is the same (reweight clears it).
    _total_for: tuple[frozenset[int], Fraction] | None = field(default=None, repr=False, compare=False)

    def lag(self, seat: Seat) -> Fraction:
        return seat.lag(self.vtime)

    def set_eligibility(self, eligible_ids: Iterable[int]) -> None:
        """Freeze seats that are not eligible now, thaw those that are, level."""
        eligible = set(eligible_ids)
        for seat in self.seats.values():
            if seat.id in eligible and seat.frozen:
                seat.frozen = False
                seat.vtime_base = self.vtime
                seat.dirty = True
            elif seat.id not in eligible and not seat.frozen:
                seat.rebase(self.vtime)
                seat.frozen = True

    def accrue(self, eligible: Sequence[Seat]) -> None:
        """Every eligible seat's lag grows by w / W_eligible (one lead's worth of share)."""
        ids = frozenset(seat.id for seat in eligible)
        if self._total_for is None or self._total_for[0] != ids:
            self._total_for = (ids, sum((seat.weight for seat in eligible), Fraction(0)))
        total = self._total_for[1]
        if total > 0:
            self.vtime += Fraction(total.denominator, total.numerator)

    def choose(self, eligible: Sequence[Seat], strategy: str = "fair") -> Choice:
        if not eligible:
            raise ValueError("no eligible seat to choose from")
        if strategy == "least_recent":
            return _first(eligible, lambda s: (s.last_seq,), "waited longest")
        if strategy == "load_balance":
            return _first(eligible, lambda s: (-_free(s), s.open_leads, s.last_seq), "most free capacity")
        return self._choose_fair(eligible)

    def _choose_fair(self, eligible: Sequence[Seat]) -> Choice:
        """Rank with floats, decide with Fractions.

        Exact arithmetic on every seat is what made large queues slow, so floats find
        the seats that could be the answer (anything within a tolerance far above float
        error of the best) and only those are compared exactly. The result is the exact
        rule's, ties included.
        """
        vtime = float(self.vtime)
        approx = {seat.id: seat.approx_lag(vtime) for seat in eligible}
        due = [
            s
            for s in eligible
            if approx[s.id] > TOLERANCE or (approx[s.id] >= -TOLERANCE and self.lag(s) > 0)
        ]
        if due:
            near = _near_best(due, lambda s: (1 - approx[s.id]) / s.approx_weight())
            lags = {seat.id: self.lag(seat) for seat in near}
            choice = _first(near, lambda s: ((1 - lags[s.id]) / s.weight, s.last_seq), "due soonest")
        else:
            near = _near_best(eligible, lambda s: -approx[s.id])
            lags = {seat.id: self.lag(seat) for seat in near}
            choice = _first(near, lambda s: (-lags[s.id], s.last_seq), "largest lag")
        return Choice(choice.seat, choice.tie_break, lags, approx)

    def charge(self, seat: Seat) -> None:
        """The seat received a lead: its lag drops by one."""
        seat.rebase(self.vtime)
        seat.lag_base -= 1
        seat.received += 1
        self.seq += 1
        seat.last_seq = self.seq
        seat.open_leads += 1

    def credit(self, seat: Seat) -> None:
        """Undo a charge (a pass or an SLA miss): the lead does not count against them."""
        seat.rebase(self.vtime)
        seat.lag_base += 1
        seat.received -= 1

    def adjust(self, seat: Seat, delta: int, eligible_ids: Iterable[int] = ()) -> None:
        """A manager's +N: exactly as if N leads had been dealt to this seat.

        Their count goes up by N and the fair share of the seats in the rotation now
        (`eligible_ids`, this one included) grows by N leads' worth, so the ledger still
        sums to zero and nobody else is owed extra. -N undoes it. This is the
        handbook's "add the leads the others received", done exactly.
        """
        self.set_eligibility({*eligible_ids, seat.id})
        group = [s for s in self.seats.values() if not s.frozen]
        total = sum((s.weight for s in group), Fraction(0))
        self.vtime += Fraction(delta) / total
        seat.rebase(self.vtime)
        seat.lag_base -= delta
        seat.adjustment += delta

    def reweight(self, seat: Seat, weight: Fraction) -> None:
        seat.rebase(self.vtime)
        seat.weight = weight
        self._total_for = None

    def reset(self) -> None:
        """A new period: every count, adjustment and lag starts again at zero."""
        self.vtime = Fraction(0)
        for seat in self.seats.values():
            seat.lag_base = Fraction(0)
            seat.vtime_base = Fraction(0)
            seat.received = 0
            seat.adjustment = 0
            seat.frozen = True
            seat.dirty = True


def _near_best(seats: Sequence[Seat], approx_key: Callable[[Seat], float]) -> list[Seat]:
    """The seats whose approximate key is within the tolerance of the smallest one."""
    keyed = [(approx_key(seat), seat) for seat in seats]
    best = min(key for key, _ in keyed)
    bound = best + TOLERANCE * max(1.0, abs(best))
    return [seat for key, seat in keyed if key <= bound]


def _free(seat: Seat) -> float:
    if seat.capacity is None:
        return float("inf")
    return float(seat.capacity - seat.open_leads)


def _first(seats: Sequence[Seat], key, reason: str) -> Choice:
    """The seat with the smallest key; ties broken by recency, then by id, and said so."""
    keyed = [(key(seat), seat.id, seat) for seat in seats]
    best = min(keyed, key=lambda k: (k[0], k[1]))
    tie_break = None
    others = [k for k in keyed if k[2] is not best[2] and k[0][0] == best[0][0]]
    if others:
        runner_up = min(others, key=lambda k: (k[0], k[1]))
        if runner_up[0] == best[0]:
            tie_break = "tied with the next candidate; the lower id goes first"
        else:
            tie_break = (
                f"tied on {reason} with the next candidate; "
                "the one who waited longer since their last lead goes first"
            )
    return Choice(best[2], tie_break)

"""The rotation ledger of one queue, in memory and exact: seats, lags, the queue clock.

Which seat a strategy picks lives in the strategies beside this module; the `fair` one
(fair.py) is the quota method in its lag (earliest-deadline) form:

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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from bot.routing.fairness.lag_index import LagIndex
from bot.routing.fairness.ranking import Choice
from bot.routing.fairness.registry import strategy_named
from bot.routing.fairness.seat_order import SeatKey, SeatOrder

__all__ = ["Choice", "Rotation", "Seat"]


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
        """The lag as a float, for ranking only (see `bot.routing.fairness.fair`)."""
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


@dataclass(slots=True)
class Rotation:
    """A queue's ledger: the queue clock plus its seats."""

    vtime: Fraction = Fraction(0)
    seq: int = 0
    seats: dict[int, Seat] = field(default_factory=dict)
    # The eligible set's total weight, kept while the set is the same (reweight clears it).
    _total_for: tuple[frozenset[int], Fraction] | None = field(default=None, repr=False, compare=False)
    # The eligible set the seats' frozen flags were last set to (reset and adjust clear it).
    _applied: frozenset[int] | None = field(default=None, repr=False, compare=False)
    # The unfrozen seats in lag order (see lag_index), built on the first pick that can use it.
    _index: LagIndex | None = field(default=None, repr=False, compare=False)
    # The unfrozen seats in a strategy's own order (see seat_order), by strategy name.
    _orders: dict[str, SeatOrder] = field(default_factory=dict, repr=False, compare=False)
    # The seats this rotation changed since `dirty_seats` last asked (None: any of them).
    _touched: set[int] | None = field(default=None, repr=False, compare=False)

    def lag(self, seat: Seat) -> Fraction:
        return seat.lag(self.vtime)

    def set_eligibility(self, eligible_ids: Iterable[int]) -> None:
        """Freeze seats that are not eligible now, thaw those that are, level.

        Given the very frozenset it was given last time (a queue keeps its eligible set as
        one object while it holds, see `bot.routing.ledger.eligible_now`), there is nothing
        to do: every seat is already as that set says.
        """
        if eligible_ids is self._applied:
            return
        eligible = eligible_ids if isinstance(eligible_ids, frozenset) else frozenset(eligible_ids)
        self._applied = eligible if eligible is eligible_ids else None
        for seat in self.seats.values():
            if seat.id in eligible and seat.frozen:
                seat.frozen = False
                seat.vtime_base = self.vtime
                seat.dirty = True
                self._touch(seat)
                self._file(seat)
            elif seat.id not in eligible and not seat.frozen:
                seat.rebase(self.vtime)
                seat.frozen = True
                self._touch(seat)
                if self._index is not None:
                    self._index.remove(seat)
                for order in self._orders.values():
                    order.remove(seat)

    def accrue(self, eligible: Sequence[Seat], ids: frozenset[int] | None = None) -> None:
        """Every eligible seat's lag grows by w / W_eligible (one lead's worth of share).

        `ids`, the eligible seats' ids when the caller has them, spares building the set."""
        if ids is None:
            ids = frozenset(seat.id for seat in eligible)
        known = self._total_for
        if known is None or (known[0] is not ids and known[0] != ids):
            known = self._total_for = (ids, sum((seat.weight for seat in eligible), Fraction(0)))
        total = known[1]
        if total > 0:
            self.vtime += Fraction(total.denominator, total.numerator)

    def choose(self, eligible: Sequence[Seat], strategy: str = "fair",
               ids: frozenset[int] | None = None) -> Choice:
        """The seat `strategy` picks among `eligible` (see `bot.routing.fairness.STRATEGIES`).

        With `ids`, the set this rotation's eligibility was last set to (so `eligible` is
        every unfrozen seat), a strategy that can picks from the lag index instead of
        walking every seat; the pick is the same.
        """
        if not eligible:
            raise ValueError("no eligible seat to choose from")
        chosen = strategy_named(strategy)
        if ids is not None and ids is self._applied:
            ranked = chosen.choose_ranked(self, self.index())
            if ranked is not None:
                return ranked
        return chosen.choose(self, eligible)

    def index(self) -> LagIndex:
        """The unfrozen seats in lag order, kept from here on as seats move."""
        if self._index is None:
            self._index = LagIndex(seat for seat in self.seats.values() if not seat.frozen)
        return self._index

    def order(self, name: str, key: SeatKey) -> SeatOrder:
        """The unfrozen seats sorted by `key` (strategy `name`'s), kept from here on as
        seats move; `key` may read only what the rotation moves (see seat_order)."""
        order = self._orders.get(name)
        if order is None:
            order = self._orders[name] = SeatOrder(key, (s for s in self.seats.values() if not s.frozen))
        return order

    def count_open(self, seat: Seat, open_leads: int) -> None:
        """The seat's member now has `open_leads` open leads (counted or read elsewhere):
        what a strategy ranking by open leads must be told."""
        if seat.open_leads != open_leads:
            seat.open_leads = open_leads
            if not seat.frozen:
                for order in self._orders.values():
                    order.add(seat)

    def charge(self, seat: Seat) -> None:
        """The seat received a lead: its lag drops by one."""
        seat.rebase(self.vtime)
        seat.lag_base -= 1
        seat.received += 1
        self.seq += 1
        seat.last_seq = self.seq
        seat.open_leads += 1
        self._moved(seat)

    def credit(self, seat: Seat) -> None:
        """Undo a charge (a pass or an SLA miss): the lead does not count against them."""
        seat.rebase(self.vtime)
        seat.lag_base += 1
        seat.received -= 1
        self._moved(seat)

    def _moved(self, seat: Seat) -> None:
        self._touch(seat)
        if not seat.frozen:
            self._file(seat)  # re-sorted at its new entry

    def _file(self, seat: Seat) -> None:
        """An unfrozen seat, new to the orders kept or moved in them."""
        if self._index is not None:
            self._index.add(seat)
        for order in self._orders.values():
            order.add(seat)

    def _touch(self, seat: Seat) -> None:
        if self._touched is not None:
            self._touched.add(seat.id)

    def dirty_seats(self) -> list[Seat]:
        """The seats changed since the last call (a save writes them): found from the ones
        this rotation touched, not by a walk of every seat (but the first time)."""
        touched = self.seats.values() if self._touched is None else (
            self.seats[i] for i in self._touched if i in self.seats)
        dirty = [seat for seat in touched if seat.dirty]
        self._touched = set()
        return dirty

    def adjust(self, seat: Seat, delta: int, eligible_ids: Iterable[int] = ()) -> None:
        """A manager's +N: exactly as if N leads had been dealt to this seat.

        Their count goes up by N and the fair share of the seats in the rotation now
        (`eligible_ids`, this one included) grows by N leads' worth, so the ledger still
        sums to zero and nobody else is owed extra. -N undoes it. This is the
        handbook's "add the leads the others received", done exactly.
        """
        self.set_eligibility({*eligible_ids, seat.id})
        self._applied = self._index = None
        group = [s for s in self.seats.values() if not s.frozen]
        total = sum((s.weight for s in group), Fraction(0))
        self.vtime += Fraction(delta) / total
        seat.rebase(self.vtime)
        seat.lag_base -= delta
        seat.adjustment += delta
        self._touch(seat)

    def reweight(self, seat: Seat, weight: Fraction) -> None:
        seat.rebase(self.vtime)
        seat.weight = weight
        self._total_for = self._index = None
        self._touch(seat)

    def reset(self) -> None:
        """A new period: every count, adjustment and lag starts again at zero."""
        self.vtime = Fraction(0)
        self._applied = self._index = self._touched = None
        self._orders.clear()  # every seat is frozen below
        for seat in self.seats.values():
            seat.lag_base = Fraction(0)
            seat.vtime_base = Fraction(0)
            seat.received = 0
            seat.adjustment = 0
            seat.frozen = True
            seat.dirty = True

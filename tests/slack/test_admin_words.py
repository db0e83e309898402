"""Slack's words for the admin room's results: the sentences managers read, word for word,
from the typed results (the sentences the core itself wrote before it returned data)."""

from __future__ import annotations

import pytest

from bot.routing.admin.people import NoCatchAllRule, NotInRotation
from bot.routing.admin.results import (
    Calibrated,
    JoinedQueue,
    LeftQueue,
    LimitsSet,
    PersonAdded,
    PersonRemoved,
    QueueAdd,
    Reading,
    Reweighed,
    SeatWeight,
)
from bot.routing.errors import AlreadyPaused, InvalidChange
from bot.routing.results import MemberRef
from bot.slack import admin_words

ANNA, BEN = MemberRef("U01A", "Anna"), MemberRef("U02B", "Ben")


def others(count: int) -> tuple[SeatWeight, ...]:
    return tuple(SeatWeight(MemberRef(f"U{i}", f"M{i}"), "12.5%", "10%") for i in range(count))


@pytest.mark.parametrize(("result", "words"), [
    (Calibrated("q", ANNA, Reweighed("2.50", "1", "2.5", Reading.AS_TYPED)), "Anna in q: weight 2.5."),
    (Calibrated("weighed", ANNA, Reweighed("18%", "1", "0.878", Reading.SHARE_AS_WEIGHT)),
     "Anna in weighed: weight 0.878 (for 18% of weighed's leads: its members are weighed, not shared)."),
    (Calibrated("s", ANNA, Reweighed("20 %", "18%", "20%", Reading.SHARE,
                                     (SeatWeight(BEN, "18%", "17.56%"),))),
     "Anna in s: weight 20% (the others' shares made room: Ben 17.56%)."),
    (Calibrated("s", ANNA, Reweighed("30%", "12.5%", "30%", Reading.SHARE, others(6))),
     "Anna in s: weight 30% (the others' shares made room: M0 10%, M1 10%, M2 10%, M3 10%, M4 10%, M5 10%)."),
    (Calibrated("s", ANNA, Reweighed("30%", "12.5%", "30%", Reading.SHARE, others(8))),
     "Anna in s: weight 30% (the others' shares made room: M0 10%, M1 10%, M2 10%, M3 10%, M4 10%, M5 10% "
     "and 2 more)."),
    (Calibrated("s", ANNA, Reweighed("30%", "50%", "30%", Reading.SHARE)), "Anna in s: weight 30%."),
    (Calibrated("q", ANNA, adjustment=3), "Anna in q: adjustment +3."),
    (Calibrated("q", ANNA, adjustment=-2), "Anna in q: adjustment -2."),
    (Calibrated("q", ANNA, active=False), "Anna in q: inactive."),
    (Calibrated("q", ANNA, active=True), "Anna in q: active."),
    (Calibrated("q", ANNA, Reweighed("3", "1", "3", Reading.AS_TYPED), 1, False),
     "Anna in q: weight 3, adjustment +1, inactive."),
    (Calibrated("q", ANNA), "Anna in q: no change."),
])
def test_a_calibration_in_words(result: Calibrated, words: str) -> None:
    assert admin_words.calibrated(result) == words


def test_joining_and_leaving_in_words() -> None:
    assert admin_words.joined_queue(JoinedQueue("q", ANNA, "2")) == \
        "Anna joined q, level with everyone (no catch-up flood)."
    assert admin_words.joined_queue(JoinedQueue("s", ANNA, "20%", made_room=True)) == \
        "Anna joined s with 20% (the others' shares made room), level with everyone (no catch-up flood)."
    assert admin_words.left_queue(LeftQueue("q", ANNA)) == "Anna left q; their history stays in the reports."
    assert admin_words.left_queue(LeftQueue("s", ANNA, shares_grew=True)) == \
        "Anna left s; the others' shares grew to make 100% again; their history stays in the reports."
    assert admin_words.left_queue(LeftQueue("s", ANNA, left_alone=BEN)) == \
        "Anna left s; Ben is alone in it, with every lead; their history stays in the reports."


def test_an_add_in_words_one_line_a_queue_escaped() -> None:
    dana = MemberRef("U09D", "Dana <Kim>")
    weighed = Calibrated("q", dana, Reweighed("priority 3", "1", "priority 3", Reading.AS_TYPED))
    added = PersonAdded(dana, True, ("q", "r"), None, (
        QueueAdd("q", "priority 3", joined=JoinedQueue("q", dana, "1"), weighed=weighed),
        QueueAdd("r", "1", joined=JoinedQueue("r", dana, "1"))))
    assert admin_words.person_added(added) == (
        "Added <@U09D> to the rotation.\n"
        "Dana &lt;Kim&gt; joined q, level with everyone (no catch-up flood). Dana &lt;Kim&gt; in q: "
        "weight priority 3.\n"
        "Dana &lt;Kim&gt; joined r, level with everyone (no catch-up flood).")
    again = PersonAdded(ANNA, False, ("q", "s"), LimitsSet(ANNA, 7, "Mon-Fri 09:00-17:00"), (
        QueueAdd("q", "priority 3"),
        QueueAdd("s", "20%", weighed=Calibrated("s", ANNA, Reweighed("20%", "25%", "20%", Reading.SHARE)))))
    assert admin_words.person_added(again) == (
        "<@U01A> is in the rotation already.\n"
        "Anna: capacity 7, working hours Mon-Fri 09:00-17:00.\n"
        "Already in q (weight priority 3); nothing changed there.\n"
        "Anna in s: weight 20%.")
    assert admin_words.limits(LimitsSet(ANNA, None, None)) == "Anna: no capacity limit, no working hours."


def test_a_remove_in_words() -> None:
    one = PersonRemoved(ANNA, False, ("q",), 0, (LeftQueue("q", ANNA),))
    assert admin_words.person_removed(one) == "Anna left q; their history stays in the reports."
    whole = PersonRemoved(BEN, True, ("q", "s"), 4, (LeftQueue("q", BEN), LeftQueue("s", BEN)))
    assert admin_words.person_removed(whole) == (
        "Removed <@U02B> from the rotation (they were in q, s). Their history and past leads are kept. "
        "4 lead(s) still offered to them stay until accepted or moved by the SLA; "
        "`/rotation reassign LEAD_ID @member` moves one now.")
    nowhere = PersonRemoved(BEN, True, (), 0, ())
    assert admin_words.person_removed(nowhere) == (
        "Removed <@U02B> from the rotation (they were in no queue). Their history and past leads are kept.")


def test_refusals_name_slacks_command_and_mention() -> None:
    assert admin_words.refusal(NoCatchAllRule()) == (
        "The routing config has no catch-all rule, so say which queues: `/rotation add @member to QUEUE`. "
        "Nothing was changed.")
    assert admin_words.refusal(NotInRotation("U09D")) == (
        "<@U09D> is not in the rotation, so there is nothing to remove; nothing was changed.")
    assert admin_words.refusal(InvalidChange("Anna is already in q.")) == "Anna is already in q."
    paused = admin_words.refusal(AlreadyPaused("Already paused."))  # availability's advice kept
    assert paused == "Already paused. Use `/rotation resume` to come back."

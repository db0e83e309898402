"""The admin room's answers are data: what a calibration, a join, a leave, an add and a remove
did, with the values before and after, and no words of any front end in them."""

from __future__ import annotations

from typing import Any

import pytest
from factories import make_config, make_member, make_queue, make_service, team_of

from bot.routing.admin.people import NoCatchAllRule, NotInRotation, PersonChange, Profile
from bot.routing.admin.results import (
    Calibrated,
    JoinedQueue,
    LeftQueue,
    LimitsSet,
    QueueAdd,
    Reading,
    Reweighed,
    SeatWeight,
)
from bot.routing.clock import ManualClock
from bot.routing.results import Calibration, MemberRef
from bot.routing.service import RoutingService

BOSS = "U0BOSS"
ANNA, BEN, CLEO = MemberRef("U01A", "Anna"), MemberRef("U02B", "Ben"), MemberRef("U03C", "Cleo")
CONFIG = make_config(
    [make_member("U01A", name="Anna"), make_member("U02B", name="Ben"), make_member("U03C", name="Cleo"),
     make_member("U04D", name="Dan")],
    [make_queue("weighed", [{"slack_id": "U01A", "weight": 2}, "U02B", "U03C"]),
     make_queue("shared", [{"slack_id": "U01A", "share": "20%"}, {"slack_id": "U02B", "share": "30%"},
                           {"slack_id": "U03C", "share": "50%"}]),
     make_queue("pair", [{"slack_id": "U01A", "share": "50%"}, {"slack_id": "U02B", "share": "50%"}])],
    rules=[{"name": "everyone", "queue": "weighed"}])


@pytest.fixture
async def service(database_url: str, clock: ManualClock) -> RoutingService:
    service = await make_service(database_url, clock, CONFIG)
    yield service
    await service.db.dispose()


async def calibrate(service: RoutingService, **change: Any) -> Calibrated:
    return await service.admin.calibrate(Calibration(**change), actor=BOSS)


async def test_a_weight_carries_its_words_before_and_after(service: RoutingService) -> None:
    done = await calibrate(service, queue="weighed", slack_id="U01A", weight=" priority 3 ")
    assert done == Calibrated("weighed", ANNA, Reweighed("priority 3", "2", "priority 3", Reading.AS_TYPED))
    assert done.changed
    again = await calibrate(service, queue="weighed", slack_id="U01A", weight="4")
    assert again.weight == Reweighed("4", "priority 3", "4", Reading.AS_TYPED)


async def test_a_share_in_a_queue_of_weights_is_read_as_the_weight_that_gives_it(
        service: RoutingService) -> None:
    done = await calibrate(service, queue="weighed", slack_id="U02B", weight="50%")
    assert done.weight == Reweighed("50%", "1", "3", Reading.SHARE_AS_WEIGHT)  # 3 beside 2 + 1


async def test_a_share_in_a_queue_of_shares_carries_the_others_before_and_after(
        service: RoutingService) -> None:
    done = await calibrate(service, queue="shared", slack_id="U03C", weight="60%")
    assert done.weight == Reweighed("60%", "50%", "60%", Reading.SHARE,
                                    (SeatWeight(ANNA, "20%", "16%"), SeatWeight(BEN, "30%", "24%")))


async def test_an_adjustment_and_active_are_carried_and_nothing_else(service: RoutingService) -> None:
    done = await calibrate(service, queue="weighed", slack_id="U02B", adjustment=-3, note="gave back")
    assert done == Calibrated("weighed", BEN, adjustment=-3)
    [standing] = await service.ledger.standings("weighed")
    assert next(s for s in standing.seats if s.slack_id == "U02B").adjustment == done.adjustment
    off = await calibrate(service, queue="weighed", slack_id="U03C", active=False, weight=" ")
    assert off == Calibrated("weighed", CLEO, active=False)  # a blank weight is no weight
    nothing = await calibrate(service, queue="weighed", slack_id="U03C", adjustment=0)
    assert nothing == Calibrated("weighed", CLEO) and not nothing.changed


async def test_joining_and_leaving_say_what_the_others_shares_did(service: RoutingService) -> None:
    dan = MemberRef("U04D", "Dan")
    assert await service.admin.add_to_queue("U04D", "weighed", actor=BOSS, weight="2") == \
        JoinedQueue("weighed", dan, "2")
    assert await service.admin.add_to_queue("U04D", "pair", actor=BOSS) == \
        JoinedQueue("pair", dan, "33.33%", made_room=True)
    assert await service.admin.remove_from_queue("U04D", "weighed", actor=BOSS) == LeftQueue("weighed", dan)
    assert await service.admin.remove_from_queue("U04D", "pair", actor=BOSS) == \
        LeftQueue("pair", dan, shares_grew=True)
    assert await service.admin.remove_from_queue("U01A", "pair", actor=BOSS) == \
        LeftQueue("pair", ANNA, left_alone=BEN)


async def test_an_add_says_per_queue_whether_it_joined_weighed_or_both(service: RoutingService) -> None:
    eve = MemberRef("U05E", "Eve")
    added = await service.admin.add_person(PersonChange(Profile("U05E", "Eve"), ("weighed",), "priority 2"),
                                           actor=BOSS)
    assert added.joined_rotation and added.limits is None and added.queues == ("weighed",)
    [seat] = added.seats
    # a priority is set after the seat is added (weight 1 first), by the calibration's reading
    assert seat.joined == JoinedQueue("weighed", eve, "1") and seat.weight == "priority 2"
    priority = Reweighed("priority 2", "1", "priority 2", Reading.AS_TYPED)
    assert seat.weighed == Calibrated("weighed", eve, priority)
    shared = await service.admin.add_person(PersonChange(Profile("U05E", "Eve"), ("shared",)), actor=BOSS)
    assert not shared.joined_rotation
    made_room = JoinedQueue("shared", eve, "25%", made_room=True)
    assert shared.seats == (QueueAdd("shared", "25%", joined=made_room),)


async def test_adding_someone_there_already_carries_their_limits_and_seat(service: RoutingService) -> None:
    change = PersonChange(Profile("U02B", "x"), ("weighed", "pair"), capacity=7, working_hours=None)
    added = await service.admin.add_person(change, actor=BOSS)
    assert not added.joined_rotation
    assert added.limits == LimitsSet(BEN, 7, None)
    assert added.seats == (QueueAdd("weighed", "1"), QueueAdd("pair", "50%"))
    weighed = await service.admin.add_person(PersonChange(Profile("U02B", "x"), ("pair",), "40%"), actor=BOSS)
    [seat] = weighed.seats
    assert seat.joined is None and seat.weight == "40%" and seat.weighed is not None
    assert seat.weighed.weight == Reweighed("40%", "50%", "40%", Reading.SHARE,
                                            (SeatWeight(ANNA, "50%", "60%"),))


async def test_a_remove_carries_each_queue_left(service: RoutingService) -> None:
    one = await service.admin.remove_person("U03C", queue="SHARED", actor=BOSS)
    assert one.left == (LeftQueue("shared", CLEO, shares_grew=True),) and not one.whole_rotation
    gone = await service.admin.remove_person("U01A", actor=BOSS)
    assert gone.whole_rotation and gone.queues == ("weighed", "shared", "pair")
    assert gone.left == (LeftQueue("weighed", ANNA), LeftQueue("shared", ANNA, left_alone=BEN),
                         LeftQueue("pair", ANNA, left_alone=BEN))


async def test_the_core_refuses_in_words_that_name_no_front_end(database_url: str,
                                                                 clock: ManualClock) -> None:
    """No Slack command and no Slack mention: Slack adds its own (bot/slack/admin_words.py)."""
    config = make_config(team_of("U01A"), [make_queue("q", ["U01A"])],
                         rules=[{"name": "US", "when": {"field": "country", "op": "equals", "value": "US"},
                                 "queue": "q"}])
    service = await make_service(database_url, clock, config)
    try:
        with pytest.raises(NoCatchAllRule) as no_catch_all:
            await service.admin.add_person(PersonChange(Profile("U09N", "N")), actor=BOSS)
        with pytest.raises(NotInRotation) as not_in:
            await service.admin.remove_person("U09N", actor=BOSS)
    finally:
        await service.db.dispose()
    assert no_catch_all.value.field == "queues" and not_in.value.slack_id == "U09N"
    for refused in (no_catch_all.value, not_in.value):
        assert "/rotation" not in str(refused) and "<@" not in str(refused)
        assert "nothing was changed" in str(refused).lower()

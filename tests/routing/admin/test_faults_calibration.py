"""Attacks on a calibration: weights, shares and priorities a manager can type in Slack.

Whatever a calibration accepts must be what the routing config accepts: after each one,
refused or applied, `config export` passes `config check` and applies again to exactly the
same weights. A refusal says why in words on the weight field and changes nothing.
"""

from __future__ import annotations

import time
from fractions import Fraction

import pytest
import yaml
from factories import make_config, make_queue, make_service, team_of

from bot.config.routing import ConfigInvalid, load_text
from bot.routing.admin.results import Reading, Reweighed
from bot.routing.clock import ManualClock
from bot.routing.errors import InvalidChange
from bot.routing.results import Calibration
from bot.routing.service import RoutingService
from bot.slack import admin_words

SHARED = [{"slack_id": "U01A", "share": "18%"}, {"slack_id": "U02B", "share": "18%"},
          {"slack_id": "U03C", "share": "32%"}, {"slack_id": "U04D", "share": "32%"}]
CONFIG = make_config(
    team_of("U01A", "U02B", "U03C", "U04D", "U05E"),
    [make_queue("weighed", [{"slack_id": s, "weight": 1} for s in ("U01A", "U02B", "U03C", "U04D", "U05E")]),
     make_queue("shared", SHARED),
     make_queue("alone", ["U05E"])],
)

# (queue, member, what the manager typed, the seat's words after it, or the refusal's words)
APPLIED = [
    ("shared", "U01A", "20%", "20%"),
    ("shared", "U01A", " 20 % ", "20%"),
    ("shared", "U03C", "33.3333%", "33.3333%"),
    ("shared", "U03C", "99.99%", "99.99%"),
    ("shared", "U03C", "0.0001%", "0.0001%"),
    ("weighed", "U01A", "18%", "0.878"),
    ("weighed", "U01A", "0.001", "0.001"),
    ("weighed", "U01A", "10000", "10000"),
    ("weighed", "U01A", "1e3", "1000"),
    ("weighed", "U01A", "2.50", "2.5"),
    ("weighed", "U01A", "0.5", "0.5"),
    ("weighed", "U01A", "priority 3", "priority 3"),
    ("weighed", "U01A", "PRIORITY   1000", "priority 1000"),
    ("alone", "U05E", "18%", "1"),
]
REFUSED = [
    ("shared", "U03C", "3", "gives each member a share of its leads"),
    ("shared", "U01A", "priority 2", "gives each member a share of its leads"),
    ("shared", "U01A", "100%", "less than 100%"),
    ("shared", "U01A", "0.00001%", "at least 0.0001%"),
    ("shared", "U01A", "18.12345%", "at most 4 decimals"),
    ("shared", "U01A", "１８%", "percentage like"),
    ("shared", "U01A", "1e-7%", "percentage like"),
    ("weighed", "U01A", "99.99%", "would be a weight of 39996"),
    ("weighed", "U01A", "0.01%", "from 0.001 to 10000"),
    ("weighed", "U01A", "10001", "at most 10000"),
    ("weighed", "U01A", "3e4", "at most 10000"),
    ("weighed", "U01A", "1e-300", "at least 0.001"),
    ("weighed", "U01A", "0.0000001", "at least 0.001"),
    ("weighed", "U01A", "1.2345", "at most 3 decimals"),
    ("weighed", "U01A", "1/3", "number like 2 or 0.5"),
    ("weighed", "U01A", "nan", "number like 2 or 0.5"),
    ("weighed", "U01A", "inf", "number like 2 or 0.5"),
    ("weighed", "U01A", "-2", "must be > 0"),
    ("weighed", "U01A", "0", "must be > 0"),
    ("weighed", "U01A", "١", "number like 2 or 0.5"),
    ("weighed", "U01A", "priority 1001", "at most 1000"),
    ("weighed", "U01A", "priority 0", "1 or more"),
    ("weighed", "U01A", "priority 1.5", "whole number"),
]


@pytest.fixture
async def service(database_url: str, clock: ManualClock) -> RoutingService:
    service = await make_service(database_url, clock, CONFIG)
    yield service
    await service.db.dispose()


async def weights(service: RoutingService) -> dict[tuple[str, str], tuple[Fraction, str]]:
    """Every seat's exact weight and words, by queue and member."""
    standings = await service.ledger.standings()
    return {(q.name, s.slack_id): (s.weight, s.weight_text) for q in standings for s in q.seats}


async def assert_export_applies_again_to_the_same_weights(service: RoutingService) -> None:
    held = await weights(service)
    exported = await service.admin.export_config()
    config = load_text(yaml.safe_dump(exported))  # what `config check` runs; raises on an error
    await service.admin.apply_config(config)
    assert {seat: weight for seat, (weight, _) in (await weights(service)).items()} == {
        seat: weight for seat, (weight, _) in held.items()}
    assert await service.admin.export_config() == exported


async def test_the_example_config_round_trips(service: RoutingService) -> None:
    """No attack: the baseline every case below is measured against."""
    await assert_export_applies_again_to_the_same_weights(service)


@pytest.mark.parametrize(("queue", "member", "typed", "words"), APPLIED)
async def test_an_accepted_calibration_exports_a_config_that_applies_again(
        service: RoutingService, queue: str, member: str, typed: str, words: str) -> None:
    """A weight, share or priority at the edges of what the config takes, typed in Slack."""
    calibrated = await service.admin.calibrate(Calibration(queue=queue, slack_id=member, weight=typed),
                                               actor="U0BOSS")
    held = await weights(service)
    assert calibrated.weight is not None and calibrated.weight.after == words
    assert held[(queue, member)][1] == words and f"weight {words}" in admin_words.calibrated(calibrated)
    shared = [w for (q, _), (w, _) in held.items() if q == "shared"]
    assert sum(shared) == 100 and all(w > 0 for w in shared)  # a queue of shares still makes 100%
    await assert_export_applies_again_to_the_same_weights(service)


@pytest.mark.parametrize(("queue", "member", "typed", "words"), REFUSED)
async def test_a_refused_calibration_says_why_on_the_field_and_changes_nothing(
        service: RoutingService, queue: str, member: str, typed: str, words: str) -> None:
    """A weight the config would refuse, or one that would make its queue mix shares and weights."""
    before, exported = await weights(service), await service.admin.export_config()
    with pytest.raises(InvalidChange) as refused:
        await service.admin.calibrate(Calibration(queue=queue, slack_id=member, weight=typed), actor="U0BOSS")
    assert words in str(refused.value) and refused.value.field == "weight"
    assert await weights(service) == before and await service.admin.export_config() == exported
    await assert_export_applies_again_to_the_same_weights(service)


@pytest.mark.parametrize("typed", ["10001", "1e-300", "0.0000001", "1.2345", "priority 1001", "1e99999999"])
async def test_what_the_modal_refuses_config_check_refuses(service: RoutingService, typed: str) -> None:
    """The same words in a config file: one set of rules, so both refuse."""
    key, value = ("priority", typed.split()[1]) if typed.startswith("priority") else ("weight", typed)
    seats = [{"slack_id": "U01A", key: value}]
    with pytest.raises(ConfigInvalid):
        load_text(make_config(team_of("U01A"), [make_queue("weighed", seats)]))
    with pytest.raises(InvalidChange):
        await service.admin.calibrate(Calibration(queue="weighed", slack_id="U01A", weight=typed),
                                      actor="U0BOSS")


async def test_a_huge_exponent_is_refused_at_once(service: RoutingService) -> None:
    """'1e99999999' (10 characters): Fraction would compute 10**99999999, minutes of CPU."""
    started = time.monotonic()
    with pytest.raises(InvalidChange, match="number like 2"):
        await service.admin.calibrate(Calibration(queue="weighed", slack_id="U01A", weight="1e99999999"),
                                actor="U0BOSS")
    assert time.monotonic() - started < 30  # not a timing of speed: 10**99999999 takes 300 s


async def test_a_share_in_a_queue_of_weights_is_said_to_be_a_weight(service: RoutingService) -> None:
    """18% in a queue of weights: saved as the weight that gives it, and the answer says so."""
    change = Calibration(queue="weighed", slack_id="U01A", weight="18%")
    calibrated = await service.admin.calibrate(change, actor="U0BOSS")
    assert calibrated.weight == Reweighed("18%", "1", "0.878", Reading.SHARE_AS_WEIGHT)
    assert admin_words.calibrated(calibrated) == (
        "U01A in weighed: weight 0.878 (for 18% of weighed's leads: its members are weighed, not shared).")
    seat = next(s for s in (await service.ledger.standings("weighed"))[0].seats if s.slack_id == "U01A")
    assert abs(seat.target_share - Fraction(18, 100)) < Fraction(1, 10000)


async def test_a_share_in_a_queue_of_shares_makes_room_in_proportion(service: RoutingService) -> None:
    """20% for one of 18/18/32/32: the others shrink 18:32:32 to make 100% in 2 decimals."""
    calibrated = await service.admin.calibrate(Calibration(queue="shared", slack_id="U01A", weight="20%"),
                                               actor="U0BOSS")
    assert calibrated.weight is not None and calibrated.weight.reading is Reading.SHARE
    assert [(o.member.slack_id, o.before, o.after) for o in calibrated.weight.others] == [
        ("U02B", "18%", "17.56%"), ("U03C", "32%", "31.22%"), ("U04D", "32%", "31.22%")]
    said = admin_words.calibrated(calibrated)
    assert "the others' shares made room: U02B 17.56%, U03C 31.22%, U04D 31.22%" in said
    held = await weights(service)
    assert [held[("shared", s)][0] for s in ("U01A", "U02B", "U03C", "U04D")] == [
        20, Fraction("17.56"), Fraction("31.22"), Fraction("31.22")]


async def test_joining_and_leaving_a_queue_of_shares_keeps_it_at_100(service: RoutingService) -> None:
    """Add a member to a queue of shares (it gave weight 1 beside shares), then remove members
    until one is left (the shares no longer made 100%): every export still applies."""
    joined = await service.admin.add_to_queue("U05E", "shared", actor="U0BOSS")
    assert (joined.weight, joined.made_room) == ("20%", True)
    assert "with 20% (the others' shares made room)" in admin_words.joined_queue(joined)
    held = await weights(service)
    assert held[("shared", "U05E")] == (20, "20%")
    assert sum(w for (q, _), (w, _) in held.items() if q == "shared") == 100
    await assert_export_applies_again_to_the_same_weights(service)
    for member in ("U01A", "U02B", "U03C"):
        left = await service.admin.remove_from_queue(member, "shared", actor="U0BOSS")
        assert sum(w for (q, _), (w, _) in (await weights(service)).items() if q == "shared") in (100, 1)
        await assert_export_applies_again_to_the_same_weights(service)
    held = await weights(service)
    assert left.shares_grew and left.left_alone is None
    assert "the others' shares grew to make 100% again" in admin_words.left_queue(left)
    alone = await service.admin.remove_from_queue("U05E", "shared", actor="U0BOSS")
    assert alone.left_alone is not None and alone.left_alone.slack_id == "U04D" and not alone.shares_grew
    assert (await weights(service))[("shared", "U04D")] == (1, "1")  # alone: every lead, as a weight
    await assert_export_applies_again_to_the_same_weights(service)
    await service.admin.add_to_queue("U01A", "shared", actor="U0BOSS")  # a queue of weights again
    assert (await weights(service))[("shared", "U01A")] == (1, "1")
    await assert_export_applies_again_to_the_same_weights(service)


async def test_a_preview_refuses_what_a_save_would(service: RoutingService) -> None:
    """The modal's Preview of a weight in a queue of shares: refused in the same words, nothing kept."""
    before = await weights(service)
    with pytest.raises(InvalidChange, match="gives each member a share"):
        await service.admin.preview("shared", change=Calibration(queue="shared", slack_id="U01A", weight="3"))
    assert await weights(service) == before


async def test_a_queue_saved_mixed_before_these_rules_still_exports_a_config_that_applies(
        service: RoutingService) -> None:
    """A queue of shares where an older version saved a plain weight 3 and a weight of 1e-07:
    the export writes the queue as weights the config takes, and calibrating it says why not."""
    from sqlalchemy import select, update

    from bot.store.models import Member, Membership, Queue

    async with service.db.engine.begin() as connection:
        queue = (await connection.execute(select(Queue.id).where(Queue.name == "shared"))).scalar_one()
        for slack_id, weight, words in (("U03C", Fraction(3), "3"), ("U04D", Fraction(1, 10**7), "1e-07")):
            named = select(Member.id).where(Member.slack_id == slack_id)
            member = (await connection.execute(named)).scalar_one()
            await connection.execute(update(Membership)
                                     .where(Membership.member_id == member, Membership.queue_id == queue)
                                     .values(weight=weight, weight_text=words))
    exported = await service.admin.export_config()
    seats = next(q for q in exported["queues"] if q["name"] == "shared")["members"]
    assert [s.get("weight") for s in seats] == [18, 18, 3, 0.001]
    load_text(yaml.safe_dump(exported))
    with pytest.raises(InvalidChange, match=r"refuse shared.s weights \(must be at least 0.001\)"):
        await service.admin.calibrate(Calibration(queue="shared", slack_id="U01A", weight="20%"),
                                      actor="U0BOSS")

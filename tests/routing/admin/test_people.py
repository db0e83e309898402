"""People added and removed by a manager: level in each queue, in `config export`, kept by a
restart, and by a changed file that does not name them."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import Any

import pytest
import yaml
from factories import make_config, make_member, make_queue, make_service, team_of
from sqlalchemy import func, select

from bot.config.routing import load_text
from bot.routing.admin.people import PersonChange, Profile
from bot.routing.admin.results import QueueAdd
from bot.routing.clock import ManualClock
from bot.routing.errors import InvalidChange, NotFound
from bot.routing.service import RoutingService
from bot.slack import admin_words
from bot.store.models import AuditEvent, Member, Membership

BOSS = "U0BOSS"
DANA = Profile("U09DANA", "Dana Kim", "dana@example.com", "Europe/Paris")


def two_queues(**extra: Any) -> str:
    """q (A, B: weight 1) takes everything but country DE, which goes to de (A only)."""
    return make_config(team_of("U01A", "U02B"),
                       [make_queue("q", ["U01A", "U02B"]), make_queue("de", ["U01A"])],
                       rules=[{"name": "Germany", "when": {"field": "country", "op": "equals", "value": "DE"},
                               "queue": "de"}, {"name": "everyone", "queue": "q"}], **extra)


async def counts(service: RoutingService, queue: str = "q") -> dict[str, int]:
    [standing] = await service.ledger.standings(queue)
    return {seat.slack_id: seat.received for seat in standing.seats}


async def lags(service: RoutingService, queue: str = "q") -> dict[str, Fraction]:
    [standing] = await service.ledger.standings(queue)
    return {seat.slack_id: seat.lag for seat in standing.seats}


async def table_state(service: RoutingService) -> tuple[Any, ...]:
    async with service.db.engine.connect() as c:
        members = (await c.execute(select(Member.slack_id, Member.in_config, Member.capacity)
                                   .order_by(Member.id))).all()
        seats = (await c.execute(select(Membership.id, Membership.in_config, Membership.weight_text)
                                 .order_by(Membership.id))).all()
        audit = (await c.execute(select(func.count()).select_from(AuditEvent))).scalar_one()
    return tuple(members), tuple(seats), audit


async def test_a_newcomer_starts_level_no_flood_and_no_penalty(database_url: str, clock: ManualClock) -> None:
    service = await make_service(database_url, clock, two_queues())
    for i in range(10):
        await service.assignment.route({"id": f"OLD-{i}"})
    added = await service.admin.add_person(PersonChange(DANA), actor=BOSS)
    assert added.joined_rotation and added.queues == ("q",)  # no `to`: the catch-all's queue
    assert (await lags(service))["U09DANA"] == 0
    winners: Counter[str] = Counter()
    for t in range(1, 31):
        outcome = await service.assignment.route({"id": f"NEW-{t}"})
        assert outcome.assignee is not None
        winners[outcome.assignee.slack_id] += 1
        # quota at every prefix, counted from the moment she joined: floor or ceil of t/3
        assert all(t // 3 <= winners[m] <= -(-t // 3) for m in ("U01A", "U02B", "U09DANA")), (t, winners)
    assert sum((await lags(service)).values()) == 0
    await service.db.dispose()


async def test_to_names_queues_and_the_weight_in_the_calibrations_words(database_url: str,
                                                                        clock: ManualClock) -> None:
    service = await make_service(database_url, clock, two_queues())
    added = await service.admin.add_person(PersonChange(DANA, ("Q", "de"), "priority 3"), actor=BOSS)
    assert added.queues == ("q", "de")
    [q] = await service.ledger.standings("q")
    dana = next(s for s in q.seats if s.slack_id == "U09DANA")
    assert (dana.weight, dana.weight_text) == (Fraction(1, 3), "priority 3")
    member = next(m for m in (await service.admin.export_config())["members"] if m["slack_id"] == "U09DANA")
    assert member == {"slack_id": "U09DANA", "name": "Dana Kim", "timezone": "Europe/Paris",
                      "email": "dana@example.com"}
    await service.db.dispose()


async def test_adding_someone_already_there_changes_only_what_is_said(database_url: str,
                                                                      clock: ManualClock) -> None:
    service = await make_service(database_url, clock, two_queues())
    for i in range(5):
        await service.assignment.route({"id": f"L-{i}"})
    before_lags, before_counts = await lags(service), await counts(service)
    again = await service.admin.add_person(PersonChange(Profile("U01A", "Someone Else")), actor=BOSS)
    assert not again.joined_rotation and again.seats == (QueueAdd("q", "1"),)  # neither joined nor weighed
    assert "nothing changed" in admin_words.queue_add(again.seats[0])
    assert (await lags(service), await counts(service)) == (before_lags, before_counts)
    assert (await service.availability.member_status("U01A")).name == "U01A".title()  # not renamed
    await service.admin.add_person(PersonChange(Profile("U01A", "x"), ("q",), "3"), actor=BOSS)
    [q] = await service.ledger.standings("q")
    alice = next(s for s in q.seats if s.slack_id == "U01A")
    assert alice.weight == 3 and alice.received == before_counts["U01A"] and alice.lag == before_lags["U01A"]
    limits = PersonChange(Profile("U01A", "x"), capacity=7, working_hours="Mon-Fri 09:00-17:00")
    await service.admin.add_person(limits, actor=BOSS)
    exported = next(m for m in (await service.admin.export_config())["members"] if m["slack_id"] == "U01A")
    assert (exported["capacity"], exported["working_hours"]) == (7, "Mon-Fri 09:00-17:00")
    await service.db.dispose()


@pytest.mark.parametrize(("change", "words"), [
    (PersonChange(DANA, ("nope",)), "no queue named 'nope'"),
    (PersonChange(DANA, ("q",), "lots"), "Weight"),
    (PersonChange(DANA, capacity=0), "capacity"),
    (PersonChange(DANA, working_hours="whenever"), "working hours"),
    (PersonChange(Profile("not-an-id", "X")), "slack id"),
])
async def test_bad_input_is_refused_in_words_and_changes_nothing(database_url: str, clock: ManualClock,
                                                                 change: PersonChange, words: str) -> None:
    service = await make_service(database_url, clock, two_queues())
    before = await table_state(service)
    with pytest.raises((InvalidChange, NotFound)) as refused:
        await service.admin.add_person(change, actor=BOSS)
    assert words.lower() in str(refused.value).lower() and "nothing was changed" in str(refused.value).lower()
    assert await table_state(service) == before
    await service.db.dispose()


async def test_without_a_catch_all_the_queue_must_be_named(database_url: str, clock: ManualClock) -> None:
    config = make_config(team_of("U01A"), [make_queue("q", ["U01A"])],
                         rules=[{"name": "US", "when": {"field": "country", "op": "equals", "value": "US"},
                                 "queue": "q"}])
    service = await make_service(database_url, clock, config)
    with pytest.raises(InvalidChange, match="no catch-all rule"):
        await service.admin.add_person(PersonChange(DANA), actor=BOSS)
    await service.db.dispose()


async def test_remove_from_a_queue_or_the_rotation_keeps_history_and_past_leads(database_url: str,
                                                                                clock: ManualClock) -> None:
    service = await make_service(database_url, clock, two_queues())
    await service.admin.add_person(PersonChange(DANA, ("q", "de")), actor=BOSS)
    outcomes = [await service.assignment.route({"id": f"L-{i}"}) for i in range(6)]
    dana_leads = [o.lead_id for o in outcomes if o.assignee and o.assignee.slack_id == "U09DANA"]
    assert dana_leads
    one = await service.admin.remove_person("U09DANA", queue="de", actor=BOSS)
    assert not one.whole_rotation and one.queues == ("de",)
    assert [s.queue for s in (await service.availability.member_status("U09DANA")).seats] == ["q"]
    gone = await service.admin.remove_person("U09DANA", actor=BOSS)
    assert gone.whole_rotation and gone.queues == ("q",)
    assert "U09DANA" not in {m["slack_id"] for m in (await service.admin.export_config())["members"]}
    record = await service.assignment.lead(dana_leads[0])
    assert record.assignments[0]["assignee"]["slack_id"] == "U09DANA"
    actions = [e.action for e in (await service.admin.history("U09DANA", limit=50)).entries]
    assert actions[:2] == ["person_remove", "queue_remove"] and "person_add" in actions
    with pytest.raises(NotFound, match="not in the rotation"):
        await service.admin.remove_person("U09DANA", actor=BOSS)
    await service.db.dispose()


async def test_a_restart_with_the_same_file_keeps_slack_adds_and_removes(database_url: str,
                                                                         clock: ManualClock) -> None:
    config = two_queues()
    service = await make_service(database_url, clock, config)
    await service.admin.add_person(PersonChange(DANA, ("q",)), actor=BOSS)
    await service.admin.remove_person("U02B", actor=BOSS)
    await service.db.dispose()
    restarted = await make_service_again(database_url, clock)
    assert await restarted.admin.apply_config_if_changed(load_text(config), actor="serve") is None
    members = {m["slack_id"] for m in (await restarted.admin.export_config())["members"]}
    assert members == {"U01A", "U09DANA"}
    await restarted.db.dispose()


async def make_service_again(url: str, clock: ManualClock) -> RoutingService:
    from bot.store.db import Database

    database = Database(url)
    await database.migrate()
    return RoutingService(database, clock)


async def test_a_changed_file_wins_for_its_people_and_keeps_slack_people(database_url: str,
                                                                         clock: ManualClock) -> None:
    service = await make_service(database_url, clock, two_queues())
    await service.admin.add_person(PersonChange(DANA, ("q", "de")), actor=BOSS)
    for i in range(6):
        await service.assignment.route({"id": f"L-{i}"})
    await service.admin.remove_person("U02B", actor=BOSS)
    dana_before = (await counts(service))["U09DANA"]
    changed = two_queues(managers=["U0BOSS", "U0BOSS2"])
    applied = await service.admin.apply_config_if_changed(load_text(changed), actor="serve")
    assert applied is not None and applied["people_kept_from_slack"] == 1
    assert applied["calibrations_replaced"] == 1  # Bob's removal; Dana's two seats are kept
    exported = await service.admin.export_config()
    assert {m["slack_id"] for m in exported["members"]} == {"U01A", "U02B", "U09DANA"}  # the file names Bob
    assert {q["name"]: [s["slack_id"] for s in q["members"]] for q in exported["queues"]} == {
        "q": ["U01A", "U02B", "U09DANA"], "de": ["U01A", "U09DANA"]}
    assert (await counts(service))["U09DANA"] == dana_before  # her ledger is untouched
    load_text(yaml.safe_dump(exported))  # the export is a config `config check` takes
    # Once a file names her, she is the file's: a file without her takes her out.
    named = make_config([*team_of("U01A", "U02B"), make_member("U09DANA")],
                        [make_queue("q", ["U01A", "U02B", "U09DANA"])])
    await service.admin.apply_config(load_text(named))
    await service.admin.apply_config(load_text(make_config(team_of("U01A", "U02B"),
                                                           [make_queue("q", ["U01A", "U02B"])])))
    assert "U09DANA" not in {m["slack_id"] for m in (await service.admin.export_config())["members"]}
    await service.db.dispose()


async def test_a_queue_of_shares_makes_room_and_stays_whole_across_a_changed_file(database_url: str,
                                                                                  clock: ManualClock) -> None:
    shares = [{"slack_id": "U01A", "share": "60%"}, {"slack_id": "U02B", "share": "40%"}]
    config = make_config(team_of("U01A", "U02B"), [make_queue("q", shares)])
    service = await make_service(database_url, clock, config)
    await service.admin.add_person(PersonChange(DANA, ("q",), "20%"), actor=BOSS)
    [queue] = (await service.admin.export_config())["queues"]
    assert [s["share"] for s in queue["members"]] == ["48%", "32%", "20%"]
    await service.admin.apply_config(load_text(make_config(team_of("U01A", "U02B"),
                                                           [make_queue("q", shares)], managers=["U0BOSS2"])))
    exported = await service.admin.export_config()
    [queue] = exported["queues"]
    assert [s["slack_id"] for s in queue["members"]] == ["U01A", "U02B", "U09DANA"]
    assert sum(Fraction(s["share"].rstrip("%")) for s in queue["members"]) == 100
    load_text(yaml.safe_dump(exported))
    await service.db.dispose()

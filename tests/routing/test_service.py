"""The routing service on a real database (each test runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
import yaml
from factories import make_config, make_member, make_queue, make_service, team_of
from sqlalchemy.exc import IntegrityError

from bot.routing.admin import calibration
from bot.routing.admin.results import Calibrated
from bot.routing.clock import ManualClock
from bot.routing.errors import InvalidChange, RoutingError
from bot.routing.results import Calibration
from bot.routing.service import RoutingService
from bot.slack import admin_words
from bot.store.db import Database

THREE = make_config(team_of("U01A", "U02B", "U03C"), [make_queue("sales", ["U01A", "U02B", "U03C"])])


@pytest.fixture
async def sales(database_url: str, clock: ManualClock) -> RoutingService:
    service = await make_service(database_url, clock, THREE)
    yield service
    await service.db.dispose()


async def counts(service: RoutingService, queue: str = "sales") -> dict[str, int]:
    [standing] = await service.ledger.standings(queue)
    return {seat.slack_id: seat.received for seat in standing.seats}


async def test_route_assigns_explains_and_a_repeat_never_assigns_twice(sales: RoutingService) -> None:
    first = await sales.assignment.route({"id": "L-1", "name": "Ann"})
    again = await sales.assignment.route({"id": "L-1", "name": "Ann"})
    assert first.created and not again.created
    assert first.status == "assigned" and first.assignee is not None
    assert again.assignee == first.assignee and again.explanation == first.explanation
    assert "everyone" in first.explanation["summary"] and first.assignee.name in first.explanation["summary"]
    assert sum((await counts(sales)).values()) == 1
    record = await sales.assignment.lead("L-1")
    assert [a["assignee"]["slack_id"] for a in record.assignments] == [first.assignee.slack_id]


async def test_numeric_id_is_its_decimal_string_and_a_missing_id_is_refused(sales: RoutingService) -> None:
    assert (await sales.assignment.route({"id": 1001})).lead_id == "1001"
    assert not (await sales.assignment.route({"id": "1001"})).created
    with pytest.raises(RoutingError):
        await sales.assignment.route({"name": "no id"})


async def test_dry_run_decides_but_stores_nothing(sales: RoutingService) -> None:
    outcome = await sales.assignment.route({"id": "L-9"}, dry_run=True)
    assert outcome.status == "assigned"
    assert sum((await counts(sales)).values()) == 0
    assert (await sales.assignment.route({"id": "L-9"})).created


async def test_paused_member_is_skipped_explained_and_comes_back_level(sales: RoutingService) -> None:
    await sales.availability.pause("U03C", reason="focus time", actor="U03C")
    outcomes = [await sales.assignment.route({"id": f"L-{i}"}) for i in range(10)]
    assert all(o.assignee.slack_id != "U03C" for o in outcomes)
    assert "U03C was paused (focus time)" in outcomes[-1].explanation["summary"]
    await sales.availability.resume("U03C", actor="U03C")
    nxt = [await sales.assignment.route({"id": f"M-{i}"}) for i in range(6)]
    assert [o.assignee.slack_id for o in nxt].count("U03C") == 2  # level: a third, not a flood


async def test_pause_and_resume_refuse_what_makes_no_sense(sales: RoutingService, clock: ManualClock) -> None:
    await sales.availability.pause("U01A", until=date(2026, 11, 30), reason=None, actor="U01A")
    with pytest.raises(InvalidChange, match="already paused"):
        await sales.availability.pause("U01A", until=date(2026, 11, 30), actor="U01A")
    with pytest.raises(InvalidChange, match="not paused"):
        await sales.availability.resume("U02B", actor="U02B")
    with pytest.raises(InvalidChange, match="not in the future"):
        await sales.availability.pause("U02B", until=date(2026, 11, 1), actor="U02B")
    clock.advance(days=8)  # past Nov 30 in New York: the pause has ended by itself
    assert (await sales.availability.member_status("U01A")).state == "active"


async def test_nobody_eligible_stores_unassigned_then_assigns_when_someone_returns(
    sales: RoutingService,
) -> None:
    for member in ("U01A", "U02B", "U03C"):
        await sales.availability.pause(member, actor=member)
    waiting = await sales.assignment.route({"id": "W-1"})
    assert waiting.status == "unassigned" and waiting.assignee is None
    assert "nobody in sales is available" in waiting.explanation["summary"]
    assert await sales.assignment.assign_pending() == []
    await sales.availability.resume("U02B", actor="U02B")
    [done] = await sales.assignment.assign_pending()
    assert done.lead_id == "W-1" and done.assignee.slack_id == "U02B"
    assert (await sales.assignment.lead("W-1")).status == "assigned"


async def test_pass_credits_the_share_back_and_offers_the_next_member(sales: RoutingService) -> None:
    first = await sales.assignment.route({"id": "P-1"})
    change = await sales.assignment.pass_lead(first.assignment_id, actor=first.assignee.slack_id)
    assert change.changed and change.next_outcome.assignee.slack_id != first.assignee.slack_id
    again = await sales.assignment.pass_lead(first.assignment_id, actor=first.assignee.slack_id)
    assert not again.changed  # a double click changes nothing more
    tally = await counts(sales)
    assert tally[first.assignee.slack_id] == 0 and sum(tally.values()) == 1
    accepted = await sales.assignment.accept(change.next_outcome.assignment_id, actor="x")
    assert accepted.changed and accepted.seconds_to_accept == 0
    assert not (await sales.assignment.accept(change.next_outcome.assignment_id, actor="x")).changed
    states = [a["state"] for a in (await sales.assignment.lead("P-1")).assignments]
    assert states == ["passed", "accepted"]


async def test_calibration_and_preview_agree_and_preview_commits_nothing(sales: RoutingService) -> None:
    change = Calibration(queue="sales", slack_id="U01A", adjustment=3, note="joined late")
    preview = await sales.admin.preview("sales", count=6, change=change)
    assert sum((await counts(sales)).values()) == 0
    assert [p.slack_id for p in preview].count("U01A") == 0
    await sales.admin.calibrate(change, actor="U0BOSS")
    actual = [(await sales.assignment.route({"id": f"C-{i}"})).assignee.slack_id for i in range(6)]
    assert actual == [p.slack_id for p in preview]
    with pytest.raises(InvalidChange) as missing_note:
        await sales.admin.calibrate(Calibration(queue="sales", slack_id="U01A", adjustment=2), actor="U0BOSS")
    assert missing_note.value.field == "note"
    with pytest.raises(InvalidChange) as bad_weight:
        await sales.admin.calibrate(Calibration(queue="sales", slack_id="U01A", weight="-2"), actor="U0BOSS")
    assert bad_weight.value.field == "weight"


async def test_one_request_calibrates_once_even_when_sent_twice_at_the_same_moment(
        database_url: str, clock: ManualClock) -> None:
    first = await make_service(database_url, clock, THREE)
    second = RoutingService(Database(database_url), clock)  # another replica, same database
    change = Calibration(queue="sales", slack_id="U01A", adjustment=2, note="x", request_id="V1")
    try:
        results = await asyncio.gather(first.admin.calibrate(change, actor="U0BOSS"),
                                       second.admin.calibrate(change, actor="U0BOSS"), return_exceptions=True)
        assert sorted(type(r).__name__ for r in results) == ["AlreadyDone", "Calibrated"]
        [standing] = await first.ledger.standings("sales")
        assert next(s for s in standing.seats if s.slack_id == "U01A").adjustment == 2
    finally:
        await second.db.dispose()
        await first.db.dispose()


async def test_a_calibration_failing_on_another_constraint_is_not_taken_for_a_repeat(
        sales: RoutingService, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> Calibrated:
        raise IntegrityError("UPDATE memberships …", {}, Exception("another constraint"))

    monkeypatch.setattr(calibration, "calibrate", broken)
    with pytest.raises(IntegrityError):  # not AlreadyDone: nothing with this request id was saved
        await sales.admin.calibrate(Calibration(queue="sales", slack_id="U01A", weight="2", request_id="V9"),
                              actor="U0BOSS")


async def test_weight_as_share_and_priority(sales: RoutingService) -> None:
    await sales.admin.calibrate(Calibration(queue="sales", slack_id="U01A", weight="50%"), actor="U0BOSS")
    picks = [p.slack_id for p in await sales.admin.preview("sales", count=20)]
    assert picks.count("U01A") == 10
    await sales.admin.calibrate(Calibration(queue="sales", slack_id="U01A", weight="priority 2"),
                                actor="U0BOSS")
    picks = [p.slack_id for p in await sales.admin.preview("sales", count=25)]
    assert picks.count("U01A") == 5  # weights 1/2, 1, 1: one in five


async def test_a_share_set_in_a_queue_of_shares_rewords_the_others_so_the_words_add_up(
        database_url: str, clock: ManualClock) -> None:
    shares = [{"slack_id": "U01A", "share": "20%"}, {"slack_id": "U02B", "share": "30%"},
              {"slack_id": "U03C", "share": "50%"}]
    service = await make_service(database_url, clock,
                                 make_config(team_of("U01A", "U02B", "U03C"), [make_queue("sales", shares)]))
    try:
        change = Calibration(queue="sales", slack_id="U01A", weight="60%")
        calibrated = await service.admin.calibrate(change, actor="U0BOSS")
        weight = calibrated.weight
        assert weight is not None and (weight.before, weight.after) == ("20%", "60%")
        assert "weight 60%" in admin_words.calibrated(calibrated)
        [standing] = await service.ledger.standings("sales")
        words = {s.slack_id: s.weight_text for s in standing.seats}
        assert words == {"U01A": "60%", "U02B": "15%", "U03C": "25%"}  # the others keep their 3:5
        picks = [p.slack_id for p in await service.admin.preview("sales", count=20)]
        assert (picks.count("U01A"), picks.count("U02B"), picks.count("U03C")) == (12, 3, 5)

        exported = await service.admin.export_config()  # and what is exported routes the same
        assert [s["share"] for s in exported["queues"][0]["members"]] == ["60%", "15%", "25%"]
        from bot.config.routing import load_text

        await service.admin.apply_config(load_text(yaml.safe_dump(exported)))
        assert [p.slack_id for p in await service.admin.preview("sales", count=20)] == picks
    finally:
        await service.db.dispose()


async def test_period_resets_counts_and_history_stays_in_reports(
    sales: RoutingService, clock: ManualClock
) -> None:
    for i in range(6):
        await sales.assignment.route({"id": f"N-{i}"})
    clock.advance(days=8)  # into December in New York
    await sales.assignment.route({"id": "D-1"})
    assert sum((await counts(sales)).values()) == 1
    november = await sales.ledger.report(period="2026-11")
    assert sum(row.leads for row in november) == 6
    assert {row.period for row in await sales.ledger.report()} == {"2026-12"}


async def test_config_reapply_keeps_ledgers_and_updates_weights(
    database_url: str, clock: ManualClock
) -> None:
    service = await make_service(database_url, clock, THREE)
    for i in range(9):
        await service.assignment.route({"id": f"R-{i}"})
    from bot.config.routing import load_text

    changed = make_config(
        team_of("U01A", "U02B", "U03C"), [make_queue("sales", [{"slack_id": "U01A", "weight": 2}, "U02B"])]
    )
    await service.admin.apply_config(load_text(changed))
    [standing] = await service.ledger.standings("sales")
    assert {s.slack_id: s.received for s in standing.seats} == {"U01A": 3, "U02B": 3}
    exported = await service.admin.export_config()
    assert exported["queues"][0]["members"] == [
        {"slack_id": "U01A", "weight": 2},
        {"slack_id": "U02B"} | {"weight": 1},
    ]
    await service.db.dispose()


async def test_serve_applies_its_config_again_only_when_it_says_something_new(
    database_url: str, clock: ManualClock
) -> None:
    """A restart must not set back what managers calibrated in Slack since the last apply."""
    from bot.config.routing import load_text

    service = await make_service(database_url, clock, THREE)
    await service.admin.calibrate(Calibration(queue="sales", slack_id="U01A", weight="3"), actor="U0BOSS")
    await service.admin.calibrate(Calibration(queue="sales", slack_id="U02B", active=False), actor="U0BOSS")
    await service.admin.calibrate(Calibration(queue="sales", slack_id="U03C", adjustment=2, note="late"),
                            actor="U0BOSS")  # a ledger entry: no apply sets it back
    calibrated = await service.admin.export_config()

    relaid = "# the same config, laid out anew\n" + THREE.replace("sales", "'sales'")
    assert await service.admin.apply_config_if_changed(load_text(relaid), actor="serve") is None
    assert await service.admin.export_config() == calibrated

    changed = THREE.replace("America/New_York", "Europe/Paris")
    applied = await service.admin.apply_config_if_changed(load_text(changed), actor="serve")
    assert applied is not None and applied["calibrations_replaced"] == 2  # the weight and the active
    seats = (await service.admin.export_config())["queues"][0]["members"]
    assert [s.get("weight", 1) for s in seats] == [1, 1, 1] and not any("active" in s for s in seats)
    assert await service.admin.apply_config_if_changed(load_text(changed), actor="serve") is None
    again = await service.admin.apply_config(load_text(changed))  # `rotation config apply` always applies
    assert again["calibrations_replaced"] == 0
    await service.db.dispose()


async def test_replicas_starting_together_on_a_new_database_apply_the_config_once(
    database_url: str, clock: ManualClock
) -> None:
    from bot.config.routing import load_text

    first = Database(database_url)
    await first.migrate()
    replicas = [RoutingService(first, clock), RoutingService(Database(database_url), clock),
                RoutingService(Database(database_url), clock)]
    try:
        applied = await asyncio.gather(*(r.admin.apply_config_if_changed(load_text(THREE), actor="serve")
                                         for r in replicas))
        assert sum(a is not None for a in applied) == 1  # the others found it applied
        assert [s["slack_id"] for s in (await replicas[2].admin.export_config())["queues"][0]["members"]] == [
            "U01A", "U02B", "U03C"]
    finally:
        for replica in replicas:
            await replica.db.dispose()


async def test_fallback_and_sticky_ownership(database_url: str, clock: ManualClock) -> None:
    config = make_config(
        team_of("U01A", "U02B", "U03C"),
        [
            make_queue("enterprise", ["U01A", "U02B"], sticky="domain", fallback="all"),
            make_queue("all", ["U03C"]),
        ],
        rules=[
            {
                "name": "big",
                "when": {"field": "employees", "op": "gte", "value": 1000},
                "queue": "enterprise",
            },
            {"name": "rest", "queue": "all"},
        ],
    )
    service = await make_service(database_url, clock, config)
    first = await service.assignment.route({"id": "S-1", "employees": "5000", "email": "a@globex.com"})
    others = [
        await service.assignment.route({"id": f"S-{i}", "employees": 2000, "email": f"p{i}@globex.com"})
        for i in range(2, 5)
    ]
    assert {o.assignee.slack_id for o in others} == {first.assignee.slack_id}
    assert "sticky ownership" in others[0].explanation["summary"]
    gmail = [
        await service.assignment.route({"id": f"G-{i}", "employees": 2000,
                                        "email": f"g{i}@gmail.com"}) for i in range(2)
    ]
    assert all("sticky" not in g.explanation["summary"] for g in gmail)  # free mail is no account
    await service.availability.pause("U01A", actor="U01A")
    await service.availability.pause("U02B", actor="U02B")
    fell = await service.assignment.route({"id": "F-1", "employees": 3000})
    assert fell.queue == "all" and fell.assignee.slack_id == "U03C"
    assert "fell back to all" in fell.explanation["summary"]
    await service.db.dispose()


async def test_sticky_accounts_in_one_batch_keep_stored_and_new_owners(
    database_url: str, clock: ManualClock
) -> None:
    three = ["U01A", "U02B", "U03C"]
    config = make_config(team_of(*three), [make_queue("q", three, sticky="domain")])
    service = await make_service(database_url, clock, config)
    globex = await service.assignment.route({"id": "S-0", "email": "a@globex.com"})
    batch = await service.assignment.route_many(
        [{"id": f"S-{i}", "email": f"p{i}@{'globex' if i % 2 else 'initech'}.com"} for i in range(1, 9)]
        + [{"id": "S-9", "email": "z@gmail.com"}]
    )
    owners = {o.lead_id: o.assignee.slack_id for o in batch}
    assert {owners[f"S-{i}"] for i in (1, 3, 5, 7)} == {globex.assignee.slack_id}
    assert len({owners[f"S-{i}"] for i in (2, 4, 6, 8)}) == 1  # the first initech lead's owner keeps it
    assert "sticky ownership" in batch[2].explanation["summary"]
    assert "sticky" not in batch[-1].explanation["summary"]
    await service.db.dispose()


async def test_capacity_and_scheduled_leave(database_url: str, clock: ManualClock) -> None:
    members = [make_member("U01A", capacity=2), make_member("U02B", timezone="Europe/Berlin")]
    service = await make_service(
        database_url, clock, make_config(members, [make_queue("q", ["U01A", "U02B"])])
    )
    await service.availability.add_leave("U02B", date(2026, 11, 23), date(2026, 11, 24), actor="U02B")
    got = [await service.assignment.route({"id": f"K-{i}"}) for i in range(3)]
    assert [g.assignee.slack_id if g.assignee else None for g in got] == ["U01A", "U01A", None]
    assert "at capacity 2/2" in got[2].explanation["summary"]
    assert "on leave until Nov 25" in got[2].explanation["summary"]
    await service.db.dispose()


async def test_a_batch_counts_its_own_leads_against_a_cap_shared_by_two_queues(
    database_url: str, clock: ManualClock
) -> None:
    """U01A fills their cap in queue a; queue b, opened later in the same transaction,
    must see them full, or the batch fails its capacity check and nothing is routed."""
    members = [make_member("U01A", capacity=1), make_member("U02B")]
    queues = [make_queue("a", ["U01A"]), make_queue("b", ["U01A", "U02B"])]
    to_a = {"field": "country", "op": "equals", "value": "A"}
    rules = [{"name": "to a", "when": to_a, "queue": "a"}, {"name": "rest", "queue": "b"}]
    service = await make_service(database_url, clock, make_config(members, queues, rules))
    got = await service.assignment.route_many([{"id": "A-1", "country": "A"}, {"id": "B-1"}, {"id": "B-2"}])
    assert [g.assignee.slack_id for g in got] == ["U01A", "U02B", "U02B"]
    assert "at capacity 1/1" in got[1].explanation["summary"]
    await service.db.dispose()


async def test_member_status_shows_shares_and_leave(sales: RoutingService) -> None:
    await sales.availability.add_leave("U01A", date(2026, 12, 20), date(2027, 1, 3), actor="U01A")
    for i in range(3):
        await sales.assignment.route({"id": f"T-{i}"})
    status = await sales.availability.member_status("U01A")
    assert status.state == "active" and status.seats[0].received == 1
    [leave] = status.leaves
    assert leave.pause_from.date() == date(2026, 12, 18)  # 15 days > 5: paused 2 days early
    with pytest.raises(InvalidChange, match="overlaps"):
        await sales.availability.add_leave("U01A", date(2026, 12, 30), date(2027, 1, 5), actor="U01A")
    with pytest.raises(InvalidChange, match="ends"):
        await sales.availability.add_leave("U01A", date(2027, 2, 5), date(2027, 2, 1), actor="U01A")


def test_deadlocks_and_serialization_failures_are_retried_nothing_else() -> None:
    from sqlalchemy.exc import DBAPIError

    from bot.routing.transactions import is_retryable

    class Orig(Exception):
        def __init__(self, sqlstate: str) -> None:
            self.sqlstate = sqlstate

    assert is_retryable(DBAPIError("stmt", {}, Orig("40P01")))
    assert is_retryable(DBAPIError("stmt", {}, Orig("40001")))
    assert not is_retryable(DBAPIError("stmt", {}, Orig("23505")))


async def test_waiting_leads_that_cannot_be_placed_never_hide_the_others(
    database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config.routing import load_text
    from bot.routing.assignment import offers
    from bot.store.db import Database

    database = Database(database_url)
    await database.migrate()
    service = RoutingService(database, clock)
    for i in range(3):  # the oldest waiting leads will match no rule: they wait forever
        await service.assignment.route({"id": f"US-{i}", "country": "US"})
    clock.advance(seconds=1)
    early = [await service.assignment.route({"id": f"E-{i}",
                                             "country": "DE"}) for i in range(3)]  # no config yet
    assert {o.status for o in early} == {"unassigned"}
    only_de = make_config(
        team_of("U01A"),
        [make_queue("q", ["U01A"])],
        rules=[{"name": "de", "when": {"field": "country", "op": "equals", "value": "DE"}, "queue": "q"}],
    )
    await service.admin.apply_config(load_text(only_de))
    monkeypatch.setattr(offers.pending_leads, "__defaults__", (None, 2))  # pages of two
    done = await service.assignment.assign_pending()
    assert sorted(o.lead_id for o in done) == ["E-0", "E-1", "E-2"]
    assert all(o.assignee.slack_id == "U01A" for o in done)
    await database.dispose()


async def test_every_committed_write_wakes_delivery_and_reads_do_not(sales: RoutingService) -> None:
    """A Pass or a pause owes messages too, not only a new lead: delivery must hear of each."""
    wakes: list[str] = []
    sales.transactions.on_commit = lambda: wakes.append("wake")
    outcome = await sales.assignment.route({"id": "W-1"})
    assert len(wakes) == 1
    await sales.availability.member_status(outcome.assignee.slack_id)
    await sales.assignment.route({"id": "W-2"}, dry_run=True)
    assert len(wakes) == 1  # a read and a dry run commit nothing
    await sales.assignment.pass_lead(outcome.assignment_id, actor=outcome.assignee.slack_id)
    assert len(wakes) == 2
    with pytest.raises(RoutingError):
        await sales.assignment.route({"id": ""})
    assert len(wakes) == 2  # refused: nothing written


async def stored_explanations(service: RoutingService, lead_id: str) -> tuple[object, list[object]]:
    """The explanation columns as written: the lead's, and each assignment's in order."""
    from sqlalchemy import select

    from bot.store.models import Assignment, Lead

    async with service.db.engine.connect() as connection:
        on_lead = (await connection.execute(select(Lead.explanation).where(Lead.id == lead_id))).scalar_one()
        in_order = select(Assignment.explanation).where(Assignment.lead_id == lead_id).order_by(Assignment.id)
        return on_lead, list((await connection.execute(in_order)).scalars())


async def test_an_explanation_is_stored_once_and_read_back_wherever_it_is(sales: RoutingService) -> None:
    first = await sales.assignment.route({"id": "E-1"})
    assert await stored_explanations(sales, "E-1") == (None, [first.explanation])  # on the assignment only
    assert (await sales.assignment.lead("E-1")).explanation == first.explanation
    # a repeat answers the same
    assert (await sales.assignment.route({"id": "E-1"})).explanation == first.explanation

    for member in ("U01A", "U02B", "U03C"):
        if member != first.assignee.slack_id:
            await sales.availability.pause(member, actor=member)
    change = await sales.assignment.pass_lead(first.assignment_id, actor=first.assignee.slack_id)
    waiting = change.next_outcome
    assert waiting.status == "unassigned"  # nobody left to offer it to: the newest decision is the lead's
    assert await stored_explanations(sales, "E-1") == (waiting.explanation, [first.explanation])
    assert (await sales.assignment.lead("E-1")).explanation == waiting.explanation != first.explanation
    assert (await sales.assignment.route({"id": "E-1"})).explanation == waiting.explanation


async def test_a_config_without_rules_says_so_instead_of_no_config(
    database_url: str, clock: ManualClock
) -> None:
    """A config with no rules is applied; its leads wait, and the reason is the true one."""
    no_rules = make_config(team_of("U01A"), [make_queue("q", ["U01A"])], rules=[])
    service = await make_service(database_url, clock, no_rules)
    outcome = await service.assignment.route({"id": "NR-1"})
    assert outcome.status == "unassigned"
    assert "the routing config has no rules" in str(outcome.explanation)
    assert "no routing config has been applied" not in str(outcome.explanation)
    await service.db.dispose()


async def test_a_lead_before_any_config_says_none_was_applied(tmp_path: Path, clock: ManualClock) -> None:
    fresh = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    await fresh.migrate()
    outcome = await RoutingService(fresh, clock).assignment.route({"id": "NR-2"})
    assert "no routing config has been applied yet" in str(outcome.explanation)
    await fresh.dispose()


@pytest.mark.parametrize("name", ["America/Argentina", "A" * 300, "../../etc/passwd", "Europe/"])
async def test_a_name_that_is_no_timezone_is_refused_not_taken_for_a_database_outage(
    sales: RoutingService, name: str
) -> None:
    """Attack: a Slack profile's `tz` naming a folder of the tz database (ZoneInfo raises
    IsADirectoryError) or 300 characters (OSError): a refusal, not "the database is away"."""
    with pytest.raises(InvalidChange, match="not a timezone name"):
        await sales.availability.set_timezone("U01A", name, only_if_unset=False)
    assert await sales.db.takes_writes()


async def test_an_oserror_of_our_own_code_is_not_a_database_outage(sales: RoutingService) -> None:
    def work(_connection: object) -> None:
        raise IsADirectoryError(21, "Is a directory")

    with pytest.raises(IsADirectoryError):
        await sales.db.run(work)
    assert await sales.db.takes_writes()

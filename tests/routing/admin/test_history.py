"""A member's history: every act on their place in the rotation, newest first, paged."""

from __future__ import annotations

from datetime import date

import pytest
from factories import make_config, make_queue, make_service, team_of

from bot.routing.admin.people import PersonChange, Profile
from bot.routing.clock import ManualClock
from bot.routing.errors import NotFound
from bot.routing.results import Calibration

BOSS = "U0BOSS"


async def test_every_act_with_its_actor_note_and_time_newest_first_and_paged(database_url: str,
                                                                            clock: ManualClock) -> None:
    config = make_config(team_of("U01A", "U02B"), [make_queue("q", ["U01A", "U02B"])])
    service = await make_service(database_url, clock, config)
    await service.admin.add_person(PersonChange(Profile("U03C", "Cleo")), actor=BOSS)
    clock.advance(minutes=1)
    await service.availability.pause("U03C", reason="dentist", actor="U03C")
    clock.advance(minutes=1)
    await service.availability.resume("U03C", actor=BOSS)
    clock.advance(minutes=1)
    plus_two = Calibration(queue="q", slack_id="U03C", adjustment=2, note="joined mid-month")
    await service.admin.calibrate(plus_two, actor=BOSS)
    clock.advance(minutes=1)
    await service.availability.add_leave("U03C", date(2026, 12, 7), date(2026, 12, 8), actor="U03C")
    clock.advance(minutes=1)
    await service.admin.calibrate(Calibration(queue="q", slack_id="U03C", weight="2"), actor=BOSS)
    clock.advance(minutes=1)
    await service.admin.remove_person("U03C", queue="q", actor=BOSS)

    whole = await service.admin.history("U03C", limit=50)
    assert [e.action for e in whole.entries] == [
        "queue_remove", "calibrate", "leave_add", "adjustment", "resume", "pause", "person_add", "queue_add"]
    assert whole.older is None and whole.member.name == "Cleo"
    by_action = {e.action: e for e in whole.entries}
    assert (by_action["pause"].actor, by_action["pause"].note) == ("U03C", "dentist")
    assert (by_action["adjustment"].delta, by_action["adjustment"].note) == (2, "joined mid-month")
    assert by_action["calibrate"].details["weight"] == "2" and by_action["queue_remove"].queue == "q"
    assert by_action["leave_add"].details["starts_on"] == "2026-12-07"
    assert [e.at for e in whole.entries] == sorted((e.at for e in whole.entries), reverse=True)

    pages, before = [], None
    while True:
        page = await service.admin.history("U03C", before=before, limit=3)
        pages.append([e.action for e in page.entries])
        if page.older is None:
            break
        before = page.older
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [action for page in pages for action in page] == [e.action for e in whole.entries]
    await service.db.dispose()


async def test_lead_steps_are_not_the_members_history(database_url: str, clock: ManualClock) -> None:
    alone = make_config(team_of("U01A"), [make_queue("q", ["U01A"])])
    service = await make_service(database_url, clock, alone)
    outcome = await service.assignment.route({"id": "L-1"})
    assert outcome.assignment_id is not None
    await service.assignment.accept(outcome.assignment_id, actor="U01A")
    assert (await service.admin.history("U01A")).entries == ()
    with pytest.raises(NotFound, match="never been in the rotation"):
        await service.admin.history("U99NOBODY")
    await service.db.dispose()

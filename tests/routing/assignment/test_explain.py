"""The explanation says who really chose and how many were really available: a strategy
(counting every available member, not the rows shown), an account's sticky owner, or a
manager; and a re-offer is worded by its cause, not as a rule that matched again."""

from __future__ import annotations

import pytest
from factories import make_config, make_queue, make_service, team_of

from bot.routing.assignment import explain
from bot.routing.clock import ManualClock

MANY = [f"U{n:02d}REP" for n in range(30)]


async def test_the_summary_counts_every_available_member(database_url: str, clock: ManualClock) -> None:
    config = make_config(team_of(*MANY), [make_queue("sales", MANY)])
    service = await make_service(database_url, clock, config)
    outcome = await service.assignment.route({"id": "L-1"})
    assert len(outcome.explanation["candidates"]) == explain.MAX_CANDIDATES < 30
    assert outcome.explanation["available"] == 30
    assert "of 30 available" in outcome.explanation["summary"]
    await service.db.dispose()


async def test_a_sticky_owner_is_explained_as_the_owner(database_url: str, clock: ManualClock) -> None:
    config = make_config(team_of("U01A", "U02B"), [make_queue("accounts", ["U01A", "U02B"], sticky="domain")])
    service = await make_service(database_url, clock, config)
    first = await service.assignment.route({"id": "S-1", "email": "a@globex.com"})
    again = await service.assignment.route({"id": "S-2", "email": "b@globex.com"})
    assert again.assignee == first.assignee
    assert again.explanation["decided_by"] == "sticky" and first.explanation["decided_by"] == "strategy"
    assert "as the account's owner" in again.explanation["summary"]
    assert "most overdue" not in again.explanation["summary"]  # the rotation's turn did not decide
    await service.db.dispose()


async def test_a_pass_is_worded_as_a_pass(database_url: str, clock: ManualClock) -> None:
    service = await make_service(database_url, clock, make_config(team_of("U01A", "U02B"),
                                                                   [make_queue("sales", ["U01A", "U02B"])]))
    outcome = await service.assignment.route({"id": "P-1"})
    assert outcome.assignment_id is not None
    change = await service.assignment.pass_lead(outcome.assignment_id, actor=outcome.assignee.slack_id)
    assert change.next_outcome is not None
    summary = change.next_outcome.explanation["summary"]
    assert summary.startswith("The lead was passed on, so it was offered again in the sales queue.")
    assert "matched" not in summary  # no rule matched a second time
    assert change.next_outcome.explanation["cause"] == "pass"
    await service.db.dispose()


def test_a_strategy_nobody_registered_is_refused_not_explained_as_another() -> None:
    explanation = {"rules": [], "strategy": "round_robin", "decided_by": "strategy",
                   "winner": {"slack_id": "U1", "name": "Ann"},
                   "candidates": [{"winner": True, "eligible": True, "name": "Ann"}]}
    with pytest.raises(LookupError, match="round_robin"):
        explain.summarize(explanation)


def test_a_managers_choice_names_the_manager_not_the_rotation() -> None:
    explanation = {"rules": [], "strategy": "fair", "decided_by": "manager", "cause": "reassign",
                   "queue": "sales", "winner": {"slack_id": "U1", "name": "Ann"},
                   "candidates": [{"winner": True, "eligible": True, "name": "Ann", "lag": 0.0,
                                   "count": 0, "adjustment": 0, "weight": "1"}]}
    summary = explain.summarize(explanation)
    assert summary.startswith("A manager reassigned the lead")
    assert "because a manager chose them" in summary and "overdue" not in summary

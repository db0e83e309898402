"""Strategies: one registry, each with its pick and its sentence; a half strategy cannot exist."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from factories import make_config, make_queue, make_service, team_of

from bot.routing.clock import ManualClock
from bot.routing.fairness import STRATEGIES, Choice, Rotation, Seat, Strategy

SENTENCES = {"fair": "the most overdue of", "least_recent": "had waited longest",
             "load_balance": "had the most free capacity"}


def test_every_strategy_in_the_registry_is_named_by_its_config_name() -> None:
    assert set(STRATEGIES) == set(SENTENCES)
    assert all(strategy.name == name for name, strategy in STRATEGIES.items())


@pytest.mark.parametrize("name", sorted(SENTENCES))
async def test_each_strategy_picks_and_explains_its_pick(
    database_url: str, clock: ManualClock, name: str
) -> None:
    config = make_config(team_of("U01A", "U02B"), [make_queue("q", ["U01A", "U02B"], strategy=name)])
    service = await make_service(database_url, clock, config)
    outcome = await service.assignment.route({"id": f"S-{name}"})
    assert outcome.assignee is not None
    assert SENTENCES[name] in outcome.explanation["summary"]
    await service.db.dispose()


def test_a_strategy_without_its_sentence_cannot_be_made() -> None:
    class PickOnly(Strategy):
        name = "pick_only"

        def choose(self, rotation: Rotation, eligible: Sequence[Seat]) -> Choice:
            return Choice(eligible[0], None)

    with pytest.raises(TypeError, match="winner_sentence"):
        PickOnly()  # type: ignore[abstract]


def test_a_new_strategy_is_one_subclass_and_one_registry_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """What adding `random`-like strategies takes: the config accepts it once registered."""
    from bot.config.routing import load_text

    class Newest(Strategy):
        name = "newest_member"

        def choose(self, rotation: Rotation, eligible: Sequence[Seat]) -> Choice:
            return Choice(max(eligible, key=lambda s: s.id), None)

        def winner_sentence(self, name: str, row: dict[str, Any], eligible: int) -> str:
            return f"{name} is the newest of {eligible}."

    text = make_config(team_of("U01A"), [make_queue("q", ["U01A"], strategy="newest_member")])
    with pytest.raises(Exception, match="must be one of 'fair', 'least_recent' or 'load_balance'"):
        load_text(text)
    monkeypatch.setitem(STRATEGIES, "newest_member", Newest())
    assert load_text(text).queues[0].strategy == "newest_member"

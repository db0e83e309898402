"""`lead_url`, the Open lead button's address: checked where it is written, stored by an apply,
shown by an export, and a config without it keeps the digest it had before it existed."""

from __future__ import annotations

import pytest
import yaml

from bot.config.routing import ConfigInvalid, load_text
from bot.routing.admin.roster import config_digest
from bot.routing.clock import ManualClock

BASE = """
members:
  - {slack_id: U01ALICE, name: Alice}
queues:
  - {name: sales, members: [{slack_id: U01ALICE}]}
rules:
  - {name: everyone, queue: sales}
"""


@pytest.mark.parametrize(("template", "expected"), [
    ("https://crm.example.com/leads", "must contain {id}"),
    ("javascript:alert({id})", "must start with https:// or http://"),
    ("https://crm.example.com/leads/{id} x", "must not contain spaces"),
])
def test_a_bad_template_is_refused_at_its_line(template: str, expected: str) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        load_text(f"lead_url: {template!r}\n" + BASE, "routing.yaml")
    [problem] = caught.value.problems
    rendered = problem.render("routing.yaml")
    assert rendered.startswith("routing.yaml:1") and expected in rendered


def test_a_config_without_it_keeps_its_digest() -> None:
    without = load_text(BASE)
    assert "lead_url" not in yaml.safe_dump(without.model_dump(mode="json", exclude_none=True))
    with_it = load_text("lead_url: https://crm.example.com/leads/{id}\n" + BASE)
    assert config_digest(without) != config_digest(with_it)
    assert config_digest(without) == config_digest(load_text(BASE + "\n# a comment changes nothing\n"))


async def test_apply_stores_it_and_export_shows_it(database_url: str, clock: ManualClock) -> None:
    from bot.routing.service import RoutingService
    from bot.store.db import Database

    db = Database(database_url)
    await db.migrate()
    service = RoutingService(db, clock)
    await service.admin.apply_config(load_text("lead_url: https://crm.example.com/leads/{id}\n" + BASE))
    assert (await service.admin.team()).settings["lead_url"] == "https://crm.example.com/leads/{id}"
    exported = await service.admin.export_config()
    assert exported["lead_url"] == "https://crm.example.com/leads/{id}"
    load_text(yaml.safe_dump(exported))  # what export writes, check takes
    await db.dispose()

"""`rotation report --period` for a month with no report: one before the team's first record
(its first config applied) or one not started yet is refused with the Slack command's words,
exit 2 like the CLI's other refusals, and nothing on stdout; the current month is a report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.routing.ledger.periods import period_key
from bot.routing.ledger.report import period_words

ROUTING = Path(__file__).resolve().parent.parent / "examples" / "routing.yaml"
ZONE = "America/New_York"  # the example team's


def test_a_month_before_the_rotation_or_not_started_is_refused_in_words(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(main, ["config", "apply", str(ROUTING)]).exit_code == 0
    began = period_words(period_key(datetime.now(UTC), ZONE, "monthly"))  # applied just now
    early = runner.invoke(main, ["report", "--period", "1900-01"])
    assert early.exit_code == 2 and early.stdout == ""
    assert f"There is no report for January 1900: the rotation began in {began}." in early.stderr
    later = runner.invoke(main, ["report", "--period", "2999-12", "--format", "json", "--queue", "emea"])
    assert later.exit_code == 2 and later.stdout == ""
    assert "There is no report for December 2999 yet: it has not started." in later.stderr
    current = runner.invoke(main, ["report", "--format", "csv"])
    assert current.exit_code == 0 and current.stdout.startswith("period,")

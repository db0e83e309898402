"""The `rotation` command as a user types it (click's runner, a real SQLite file)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def rotation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    return run


def test_config_check_lists_every_problem_with_its_line(rotation, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "members:\n  - {slack_id: U01A, name: A}\nqueues:\n  - name: q\n"
        "    members:\n      - {slack_id: U01A, weight: -1}\n  - name: r\n    strategy: random\n"
    )
    output = rotation("config", "check", str(bad), code=1)
    assert f"{bad}:6: queues[0].members[0].weight: must be > 0" in output
    assert f"{bad}:8: queues[1].strategy: must be one of" in output
    assert "2 problem(s) found" in output
    assert "is valid" in rotation("config", "check", str(EXAMPLES / "routing.yaml"))


def test_apply_import_is_resumable_and_report_formats(rotation, tmp_path: Path) -> None:
    assert "Ledgers kept" in rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    rows = list(csv.DictReader((EXAMPLES / "leads.csv").open()))
    head = tmp_path / "head.csv"
    with head.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:40])
    first = rotation("import", str(head))
    assert "40 rows: " in first and "0 already routed" in first
    again = rotation("import", str(EXAMPLES / "leads.csv"))
    assert "40 already routed (skipped)" in again
    report = json.loads(rotation("report", "--format", "json"))
    assert sum(row["leads"] for row in report) == len(rows)
    table = rotation("report", "--queue", "emea")
    assert table.splitlines()[0].split()[:3] == ["period", "queue", "member"]
    assert {line.split()[1] for line in table.splitlines()[2:]} == {"emea"}
    csv_out = rotation("report", "--format", "csv", "--queue", "emea")
    assert csv_out.startswith("period,queue,name,slack_id,leads")


def test_route_dry_run_stores_nothing_then_routes(rotation, tmp_path: Path) -> None:
    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps({"id": "X-1", "country": "DE", "name": "Hans"}))
    dry = rotation("route", str(lead), "--dry-run")
    assert "by rule “EMEA”" in dry and "nothing was stored" in dry
    assert "[already routed]" not in rotation("route", str(lead))
    assert "[already routed]" in rotation("route", str(lead))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert "is not valid JSON" in rotation("route", str(broken), code=1)
    no_id = tmp_path / "no_id.json"
    no_id.write_text(json.dumps({"name": "nobody"}))
    assert "has no `id`" in rotation("route", str(no_id), code=1)


def test_export_round_trips_through_apply(rotation, tmp_path: Path) -> None:
    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    exported = rotation("config", "export")
    again = tmp_path / "exported.yaml"
    again.write_text(exported)
    assert "is valid" in rotation("config", "check", str(again))
    original = yaml.safe_load((EXAMPLES / "routing.yaml").read_text())
    assert [q["name"] for q in yaml.safe_load(exported)["queues"]] == [q["name"] for q in original["queues"]]
    rotation("config", "apply", str(again))
    assert rotation("config", "export") == exported


def test_report_refuses_a_malformed_period_and_an_unknown_queue(rotation) -> None:
    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    for bad in ("2026-13", "nov", "2026-W47"):
        assert "is not a period of this monthly team" in rotation("report", "--period", bad, code=2)
    assert "no queue named 'nosuch'" in rotation("report", "--queue", "nosuch", code=2)
    assert rotation("report", "--period", "2025-03", "--format", "json").startswith("[")


def test_an_empty_config_is_refused(rotation, tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    output = rotation("config", "check", str(empty), code=1)
    assert "queues: at least one queue is needed" in output


def test_serve_refuses_an_unknown_delivery_mode(rotation, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROTATION_DELIVERY", "sideways")
    output = rotation("serve", code=1)
    assert "ROTATION_DELIVERY must be one of auto, process, inline, not 'sideways'" in output


@pytest.mark.parametrize(("variable", "value", "words"), [
    ("DATABASE_URL", "garbage", "DATABASE_URL is not a database URL: 'garbage'"),
    ("DATABASE_URL", "mysql://u@localhost/db", "DATABASE_URL uses 'mysql'"),
    ("DATABASE_URL", "sqlite:////no/such/folder/x.db", "/no/such/folder, a directory that does not exist"),
    ("PORT", "abc", "PORT must be a whole number, not 'abc'"),
    ("PORT", "70000", "PORT must be between 0 and 65535, not 70000"),
    ("ROTATION_MAX_BODY_BYTES", "64k", "ROTATION_MAX_BODY_BYTES must be a whole number, not '64k'"),
    ("ROTATION_OUTBOX_MAX_ATTEMPTS", "0", "ROTATION_OUTBOX_MAX_ATTEMPTS must be at least 1, not 0"),
    ("ROTATION_WEBHOOK_URL", "not-a-url", "ROTATION_WEBHOOK_URL must be an http:// or https:// URL"),
    ("ROTATION_WEBHOOK_URL", "https://crm.example:99999/hook", "ROTATION_WEBHOOK_URL must be an http"),
])
@pytest.mark.parametrize("command", [("serve",), ("report",)])
def test_a_wrong_variable_is_named_in_one_line(rotation, monkeypatch: pytest.MonkeyPatch, variable: str,
                                               value: str, words: str, command: tuple[str, ...]) -> None:
    monkeypatch.setenv(variable, value)
    output = rotation(*command, code=1)
    assert output.startswith("error: ") and words in output
    assert len(output.strip().splitlines()) == 1  # no traceback


@pytest.mark.parametrize(("given", "used"), [
    ("sqlite:///{dir}/a.db", "sqlite+aiosqlite:///{dir}/a.db"),
    ("postgres://u:p%40ss@db.example:5432/rotation", "postgresql+asyncpg://u:p%40ss@db.example:5432/rotation"),
    ("postgresql://u@db.example/rotation?ssl=require", "postgresql+asyncpg://u@db.example/rotation?ssl=require"),
    ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
    ("postgres://u:p%40ss@db.example/r?sslmode=require", "postgresql+asyncpg://u:p%40ss@db.example/r?ssl=require"),
])
def test_plain_database_urls_mean_our_async_drivers(tmp_path: Path, given: str, used: str) -> None:
    from bot.config.settings import Settings

    settings = Settings.from_env({"DATABASE_URL": given.format(dir=tmp_path)})
    assert settings.database_url == used.format(dir=tmp_path)

"""The `rotation` command as a user types it (click's runner, a real SQLite file)."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.routing.ledger.periods import period_key

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def rotation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()

    def run(*args: str, code: int = 0, stream: str = "output") -> str:
        """What the command printed: both streams as a terminal shows them, or "stdout" or "stderr"."""
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return str(getattr(result, stream))

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
    report = json.loads(rotation("report", "--format", "json", stream="stdout"))
    assert sum(row["leads"] for row in report) == len(rows)
    table = rotation("report", "--queue", "emea", stream="stdout")
    assert table.splitlines()[0].split()[:3] == ["period", "queue", "member"]
    assert {line.split()[1] for line in table.splitlines()[2:]} == {"emea"}
    csv_out = rotation("report", "--format", "csv", "--queue", "emea", stream="stdout")
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


def test_export_before_any_config_was_applied_says_so(rotation) -> None:
    said = rotation("config", "export", code=1)
    assert "No routing config has been applied" in said and "rotation config apply FILE" in said


def test_export_round_trips_through_apply(rotation, tmp_path: Path) -> None:
    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    exported = rotation("config", "export", stream="stdout")
    again = tmp_path / "exported.yaml"
    again.write_text(exported)
    assert "is valid" in rotation("config", "check", str(again))
    original = yaml.safe_load((EXAMPLES / "routing.yaml").read_text())
    assert [q["name"] for q in yaml.safe_load(exported)["queues"]] == [q["name"] for q in original["queues"]]
    rotation("config", "apply", str(again))
    assert rotation("config", "export", stream="stdout") == exported


def test_report_refuses_a_malformed_period_and_an_unknown_queue(rotation) -> None:
    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    for bad in ("2026-13", "nov", "2026-W47"):
        assert "is not a period of this monthly team" in rotation("report", "--period", bad, code=2)
    assert "no queue named 'nosuch'" in rotation("report", "--queue", "nosuch", code=2)
    month = period_key(datetime.now(UTC), "America/New_York", "monthly")  # the config began it
    assert rotation("report", "--period", month, "--format", "json", stream="stdout").startswith("[")


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
    ("ROTATION_CALENDAR_ALLOW_NETWORKS", "10.0.0.0/8, 192.168.1.0/33",
     "ROTATION_CALENDAR_ALLOW_NETWORKS must be a comma-separated list of networks such as 10.20.0.0/16, "
     "and '192.168.1.0/33' is not one."),
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


def stored_lead_ids(tmp_path: Path) -> list[str]:
    """The ids in the CLI's SQLite file (none when no command has made it yet)."""
    import sqlite3

    database = tmp_path / "cli.db"
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        return sorted(row[0] for row in connection.execute("SELECT id FROM leads"))


@pytest.mark.parametrize(("lead", "words"), [
    ({"id": "x" * 201}, "The field `id` is longer than 200 characters."),
    ({"id": "L-1", "tags": ["a"]}, "The field `tags` is a list;"),
    ({"id": "L-1", "address": {"city": "Paris"}}, "The field `address` is an object;"),
    ({"id": "L-\u0000x"}, "The field `id` contains a character that cannot be stored"),
    ({"id": "L-1", "note": "a\ud800"}, "The field `note` contains a character that cannot be stored"),
])
def test_route_refuses_what_http_intake_refuses(rotation, tmp_path: Path, lead: dict, words: str) -> None:
    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "ok-1"}, lead]))
    output = rotation("route", str(bad), code=1)
    assert f"error: lead #2 in {bad}: {words}" in output and "Traceback" not in output
    single = tmp_path / "single.json"
    single.write_text(json.dumps(lead))
    assert f"error: {single}: {words}" in rotation("route", str(single), "--dry-run", code=1)
    assert stored_lead_ids(tmp_path) == []


@pytest.mark.parametrize(("text", "words"), [
    ('{"id": "A", "id": "B"}', 'the key "id" is given twice'),
    ('{"id": "L-1", "score": NaN}', "NaN is not a JSON number"),
    ('{"id": ' + "9" * 5000 + "}", "digits"),
])
def test_route_reads_json_as_http_intake_does(rotation, tmp_path: Path, text: str, words: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    output = rotation("route", str(bad), "--dry-run", code=1)
    assert output.startswith(f"error: {bad} is not valid JSON for leads: ") and words in output
    assert "Traceback" not in output


def test_a_list_with_bad_items_routes_none_and_names_each(rotation, tmp_path: Path) -> None:
    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    leads = tmp_path / "leads.json"
    leads.write_text(json.dumps([{"id": "G-1"}, {"name": "no id"}, {"id": "G-3"}, "L-4"]))
    output = rotation("route", str(leads), code=1)
    assert f"error: lead #2 in {leads}: The lead has no `id`" in output
    assert f"error: lead #4 in {leads}: is not a JSON object" in output
    assert "Nothing was routed." in output
    assert stored_lead_ids(tmp_path) == []


def test_the_dry_run_of_a_list_previews_exactly_the_real_run(rotation, tmp_path: Path) -> None:
    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    leads = tmp_path / "de.json"
    leads.write_text(json.dumps([{"id": f"DE-{n}", "country": "DE"} for n in range(4)] + [{"id": "DE-1"}]))
    dry = rotation("route", str(leads), "--dry-run")
    assert stored_lead_ids(tmp_path) == []
    heads = [line for line in dry.splitlines() if line.startswith("DE-")]
    assert len({line.split(" in ")[0] for line in heads[:4]}) == 4  # spread over four reps, not one
    assert heads[4] == heads[1] + " [already routed]"  # the repeat within the list is a repeat
    real = rotation("route", str(leads))
    assert [line for line in real.splitlines() if line.startswith("DE-")] == heads
    assert stored_lead_ids(tmp_path) == [f"DE-{n}" for n in range(4)]


def test_an_empty_list_says_so(rotation, tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    assert rotation("route", str(empty)).strip() == f"no leads in {empty}"
    assert rotation("route", str(empty), "--dry-run").strip() == f"no leads in {empty}"


@pytest.mark.parametrize(("content", "words"), [
    ("id,name\nok-1,Ann\n" + "x" * 201 + ",Bob\n", ":3: The field `id` is longer than 200 characters."),
    ("id,name\nok-1,A\u0000nn\n", ":2: The field `name` contains a character that cannot be stored"),
    ("id,name\nok-1,Ann\n,Nobody\n", ":3: The lead has no `id`"),
    ('id,name\nok-1,"Ann\nok-2,Bob\nok-3,Cy\n', ":2: a quoted cell is never closed"),
    ('id,name\nok-1,"Ann"x\n', ":2: a closing quote must end its cell"),
    ("id,name\nok-1,Ann\nok-2,Bob,Smith\n", ":3: 3 cells, but the header has 2 columns"),
    ("id,name,name\nok-1,Ann,Bob\n", ":1: the header names `name` twice (columns 2 and 3)"),
    ("id,,name\nok-1,x,Ann\n", ":2: a value in column 2, which has no name in the header"),
    ("id,note\n\nok-1,\"a\nb\"\nok-2," + "y" * 200_000 + "\n", ":5: a cell is longer than 131072 characters"),
])
def test_import_refuses_a_bad_or_malformed_csv_naming_the_line(rotation, tmp_path: Path, content: str,
                                                               words: str) -> None:
    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    bad = tmp_path / "bad.csv"
    bad.write_text(content, newline="")
    output = rotation("import", str(bad), code=1)
    assert f"error: {bad}{words}" in output and "Traceback" not in output
    assert "Nothing was routed." in output
    assert stored_lead_ids(tmp_path) == []


def test_import_keeps_quoted_commas_and_newlines_and_empty_trailing_cells(rotation, tmp_path: Path) -> None:
    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    good = tmp_path / "good.csv"
    # a header with a trailing comma, as spreadsheets export: its nameless column stays empty
    good.write_text('\ufeffid,name,country,\nQ-1,"Smith, Ann",DE,\n\nQ-2,"two\nlines",FR,,\n', newline="")
    assert "2 rows: 2 assigned" in rotation("import", str(good))
    assert stored_lead_ids(tmp_path) == ["Q-1", "Q-2"]


def test_files_that_are_not_utf8_are_named_with_their_line(rotation, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_bytes(b"period: monthly\ntimezone: \xff\n")
    for command in ("check", "apply"):
        output = rotation("config", command, str(config), code=1)
        assert f"{config}:2: not UTF-8 text (byte 0xff at line 2)" in output and "Traceback" not in output
    lead = tmp_path / "lead.json"
    lead.write_bytes(b'{"id": "\xe9"}')
    assert f"error: {lead}:1: not UTF-8 text (byte 0xe9 at line 1)" in rotation("route", str(lead), code=1)
    rows = tmp_path / "rows.csv"
    rows.write_bytes(b"id,name\nL-1,Ann\nL-2,Ren\xe9e\n")
    assert f"error: {rows}:3: not UTF-8 text (byte 0xe9 at line 3)" in rotation("import", str(rows), code=1)
    assert stored_lead_ids(tmp_path) == []


def test_serve_refuses_a_config_that_is_not_utf8(rotation, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    config = tmp_path / "c.yaml"
    config.write_bytes(b"timezone: \xff\n")
    monkeypatch.setenv("ROTATION_CONFIG", str(config))
    rotation("serve", code=1)
    assert f"{config}:1: not UTF-8 text (byte 0xff at line 1)" in caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("command", [
    ("report",), ("config", "apply", str(EXAMPLES / "routing.yaml")), ("config", "export"),
    ("route", "{lead}"), ("route", "{lead}", "--dry-run"), ("import", str(EXAMPLES / "leads.csv")),
    ("jobs", "run-once"),
])
def test_an_unreachable_database_is_one_plain_line(rotation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   command: tuple[str, ...]) -> None:
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps({"id": "L-1"}))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:secret@127.0.0.1:1/x")
    output = rotation(*(part.format(lead=lead) for part in command), code=1)
    assert output.startswith("error: cannot reach the database at postgresql+asyncpg://u:***@127.0.0.1:1/x (")
    assert "Connect call failed" in output and "secret" not in output
    assert len(output.strip().splitlines()) == 1  # no traceback


NO_RULES = ("members:\n  - {slack_id: U01A, name: A}\n"
            "queues:\n  - {name: general, members: [{slack_id: U01A}]}\n")
NO_RULES_WARNING = ("warning: no rules: every lead will wait unassigned; add a catch-all rule "
                    "`- {name: everyone, queue: general}`")


def test_check_and_apply_warn_about_a_config_without_rules(rotation, tmp_path: Path) -> None:
    config = tmp_path / "no_rules.yaml"
    config.write_text(NO_RULES)
    checked = rotation("config", "check", str(config))  # exit 0: it can be applied
    assert f"{config}: {NO_RULES_WARNING}" in checked
    assert f"{config} is valid: 1 members, 1 queues, 0 rules. 1 warning(s) above." in checked
    applied = rotation("config", "apply", str(config))
    assert f"{config}: {NO_RULES_WARNING}" in applied and "Ledgers kept" in applied
    assert "warning" not in rotation("config", "check", str(EXAMPLES / "routing.yaml"))


THIRDS = """members:
  - {slack_id: U01A, name: A}
  - {slack_id: U01B, name: B}
  - {slack_id: U01C, name: C}
queues:
  - name: general
    members: [{slack_id: U01A, share: 33.3%}, {slack_id: U01B, share: 33.3%}, {slack_id: U01C, share: 33.3%}]
rules:
  - {name: everyone, queue: general}
"""


def test_thirds_at_33_3_percent_are_read_as_thirds_and_exported_as_read(rotation, tmp_path: Path) -> None:
    config = tmp_path / "thirds.yaml"
    config.write_text(THIRDS)
    note = (f"{config}:7: note: queues[0].members: shares add up to 99.9%, within rounding of 100%: "
            "read as 1/3 each (33.3333%)")
    assert note in rotation("config", "check", str(config))
    assert note in rotation("config", "apply", str(config))
    exported = yaml.safe_load(rotation("config", "export", stream="stdout"))
    assert [seat["share"] for seat in exported["queues"][0]["members"]] == ["33.3333%"] * 3
    again = tmp_path / "exported.yaml"
    again.write_text(yaml.safe_dump(exported))
    rotation("config", "apply", str(again))
    again_exported = yaml.safe_load(rotation("config", "export", stream="stdout"))
    assert again_exported == exported  # read the same way again
    leads = tmp_path / "leads.json"
    leads.write_text(json.dumps([{"id": f"T-{n}"} for n in range(6)]))
    routed = rotation("route", str(leads))
    owners = [line.split(": ")[1].split(" (")[0] for line in routed.splitlines() if line.startswith("T-")]
    assert sorted(owners) == ["A", "A", "B", "B", "C", "C"]  # a third each, exactly


def test_shares_that_do_not_add_up_are_refused_suggesting_weights(rotation, tmp_path: Path) -> None:
    config = tmp_path / "halves.yaml"
    config.write_text(THIRDS.replace("share: 33.3%", "share: 0.5"))
    refused = rotation("config", "check", str(config), code=1)
    assert f'{config}:7: queues[0].members: shares add up to 1.5%, not 100% (share: 0.5 is read as 0.5%; ' \
           'write "50%" for half)' in refused
    assert "use weights instead, which need not: weight: 1 for each" in refused


def test_every_command_on_the_database_names_it_with_an_absolute_path(
        rotation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///cli.db")  # relative: to the folder it is run from
    named = f"database: sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    applied = rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    assert named in applied and "Ledgers kept" in applied
    assert rotation("config", "apply", str(EXAMPLES / "routing.yaml"), stream="stderr").count(named) == 1
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps({"id": "N-1", "country": "DE"}))
    for command in (("route", str(lead)), ("route", "--pending"), ("report",), ("config", "export"),
                    ("jobs", "run-once")):
        assert named in rotation(*command, stream="stderr"), command
        assert named not in rotation(*command, stream="stdout"), command  # stdout stays the result
    assert "database:" not in rotation("config", "check", str(EXAMPLES / "routing.yaml"))  # no database


def test_the_named_database_never_shows_a_password() -> None:
    from bot.config.settings import shown_database

    assert shown_database("postgresql+asyncpg://rotation:s3cret@db.example/rotation") == \
        "postgresql+asyncpg://rotation:***@db.example/rotation"
    assert shown_database("sqlite+aiosqlite:///:memory:") == "sqlite+aiosqlite:///:memory:"


@pytest.mark.parametrize("command", [
    ("route", "{lead}"), ("route", "{lead}", "--dry-run"), ("route", "--pending"), ("import", "{csv}"),
    ("report",),
])
def test_routing_into_a_database_without_config_is_refused_in_words(rotation, tmp_path: Path,
                                                                      command: tuple[str, ...]) -> None:
    lead, rows = tmp_path / "lead.json", tmp_path / "leads.csv"
    lead.write_text(json.dumps({"id": "L-1", "country": "DE"}))
    rows.write_text("id,country\nL-1,DE\nL-2,US\n")
    args = [part.format(lead=lead, csv=rows) for part in command]
    database = tmp_path / "cli.db"
    refusal = (f"error: no routing config has been applied to sqlite+aiosqlite:///{database}{{}}; run "
               "`rotation config apply FILE` first, or set DATABASE_URL to the database that has one.\n")
    assert rotation(*args, code=1) == refusal.format(" (the file does not exist yet)")
    assert not database.exists()  # a refused command leaves no new empty database behind
    rotation("config", "export", code=1)  # makes the database, with no config in it
    assert database.exists()
    assert rotation(*args, code=1) == refusal.format("")
    assert stored_lead_ids(tmp_path) == []


def test_route_pending_refuses_a_file_and_a_dry_run_as_usage_errors(rotation, tmp_path: Path) -> None:
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps({"id": "L-1"}))
    said = rotation("route", str(lead), "--pending", code=2)
    assert f"--pending assigns the leads already waiting and reads no file: give either {lead} or " \
           "--pending, not both." in said
    assert "--pending has no dry run" in rotation("route", "--pending", "--dry-run", code=2)
    assert "give a JSON file with a lead" in rotation("route", code=2)
    assert not (tmp_path / "cli.db").exists()


def test_route_explain_shows_every_rule_tried_and_every_candidate(rotation, tmp_path: Path) -> None:
    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps({"id": "X-1", "country": "DE", "employees": 20}))
    plain = rotation("route", str(lead), "--dry-run", stream="stdout")
    explained = rotation("route", str(lead), "--dry-run", "--explain", stream="stdout").splitlines()
    assert "\n".join(explained).startswith(plain.split("\n(dry run")[0])  # the summary, then the details
    rules = yaml.safe_load((EXAMPLES / "routing.yaml").read_text())["rules"]
    emea = next(n for n, rule in enumerate(rules, 1) if rule["name"] == "EMEA")
    tried = [line.strip() for line in explained if re.match(r"    \d+\. ", line)]
    assert [line.split(". ", 1)[1].split(" → ")[0] for line in tried] == [r["name"] for r in rules[:emea]]
    assert all(": no match (" in line for line in tried[:-1])
    assert tried[-1].startswith(f"{emea}. EMEA → emea: MATCHED (country \"DE\" is in [")
    assert "    (rules after “EMEA”, if any, were not tried)" in explained
    emea_seats = next(q for q in yaml.safe_load((EXAMPLES / "routing.yaml").read_text())["queues"]
                      if q["name"] == "emea")["members"]
    start = explained.index("  Candidates in emea (fair):")
    candidates = explained[start + 1 : start + 1 + len(emea_seats)]
    assert sorted(line.split("(")[1].split(")")[0] for line in candidates) == \
        sorted(seat["slack_id"] for seat in emea_seats)
    assert sum(": WINNER; received 0, lag +" in line for line in candidates) == 1
    assert all(", weight " in line for line in candidates)
    assert stored_lead_ids(tmp_path) == []


def test_route_explain_names_who_was_left_out_and_why(rotation, tmp_path: Path) -> None:
    config = tmp_path / "two.yaml"
    config.write_text("members:\n  - {slack_id: U01A, name: Ann}\n  - {slack_id: U01B, name: Ben}\n"
                      "queues:\n  - {name: general, members: [{slack_id: U01A}, {slack_id: U01B}]}\n"
                      "rules:\n  - {name: everyone, queue: general}\n")
    rotation("config", "apply", str(config))
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps({"id": "P-1"}))
    rotation("route", str(lead))  # someone got it; the other is next
    second = tmp_path / "second.json"
    second.write_text(json.dumps({"id": "P-2"}))
    explained = rotation("route", str(second), "--dry-run", "--explain", stream="stdout")
    assert "1. everyone → general: MATCHED (catch-all)" in explained
    assert explained.count(": WINNER; received 0") == 1 and explained.count(": eligible; received 1") == 1


def test_a_report_for_a_period_without_leads_says_so(rotation) -> None:
    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    month = period_key(datetime.now(UTC), "America/New_York", "monthly")  # the config began it
    table = rotation("report", "--period", month, "--queue", "emea", stream="stdout").splitlines()
    assert table[-1] == f"No leads in {month} (queue emea)." and table[-2] == ""
    queues = yaml.safe_load((EXAMPLES / "routing.yaml").read_text())["queues"]
    emea = next(queue for queue in queues if queue["name"] == "emea")
    rows = table[2:-2]  # the rows of zeros are still shown
    assert len(rows) == len(emea["members"]) and all(line.startswith(f"{month}  emea") for line in rows)
    whole = rotation("report", "--period", month, stream="stdout")
    assert whole.splitlines()[-1] == f"No leads in {month}."
    csv_out = rotation("report", "--period", month, "--format", "csv", stream="stdout")
    assert {row["leads"] for row in csv.DictReader(csv_out.splitlines())} == {"0"}  # still only CSV
    said = rotation("report", "--period", month, "--format", "json", "--queue", "emea", stream="stderr")
    assert said.splitlines()[-1] == f"No leads in {month} (queue emea)."
    json.loads(rotation("report", "--period", month, "--format", "json", stream="stdout"))


def test_a_report_with_leads_has_no_such_line(rotation, tmp_path: Path) -> None:
    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps({"id": "R-1", "country": "DE"}))
    rotation("route", str(lead))
    assert "No leads" not in rotation("report")
    assert "No leads" not in rotation("report", "--format", "csv")


def test_import_reads_a_windows_1252_csv_with_encoding(rotation, tmp_path: Path) -> None:
    import sqlite3

    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    rows = tmp_path / "excel.csv"
    rows.write_bytes("id,name,country\r\nW-1,Renée Müller,DE\r\nW-2,François “Frank”,FR\r\n".encode("cp1252"))
    assert "--encoding cp1252" in rotation("import", str(rows), code=1)  # read as UTF-8 it is refused
    assert "2 rows: 2 assigned" in rotation("import", str(rows), "--encoding", "cp1252")
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        stored = connection.execute("SELECT fields FROM leads ORDER BY id")
        names = [json.loads(row[0])["name"] for row in stored]
    assert names == ["Renée Müller", "François “Frank”"]
    said = rotation("import", str(rows), "--encoding", "klingon", code=1)
    assert "'klingon' is not a text encoding Python knows" in said


def test_calendar_networks_that_parse_are_kept_as_given_for_the_delivery_child() -> None:
    import dataclasses

    from bot.config.settings import Settings

    settings = Settings.from_env({"ROTATION_CALENDAR_ALLOW_NETWORKS": "10.20.0.0/16, fd00::/8"})
    assert settings.calendar_allow_networks == "10.20.0.0/16, fd00::/8"
    json.dumps(dataclasses.asdict(settings))  # serve hands its settings to the delivery child as JSON


def test_apply_says_it_kept_the_people_added_in_slack(rotation, tmp_path: Path) -> None:
    import asyncio

    from bot.routing.admin.people import PersonChange, Profile
    from bot.routing.service import RoutingService
    from bot.store.db import Database

    rotation("config", "apply", str(EXAMPLES / "routing.yaml"))

    async def add_in_slack() -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        service = RoutingService(db)
        await service.admin.add_person(PersonChange(Profile("U99DANA", "Dana")), actor="U0MANAGER")
        await db.dispose()

    asyncio.run(add_in_slack())
    said = rotation("config", "apply", str(EXAMPLES / "routing.yaml"))
    assert "Kept 1 people added in Slack" in said
    assert "U99DANA" in rotation("config", "export", stream="stdout")

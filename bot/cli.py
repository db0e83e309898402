"""The `rotation` command: serve, config check/apply/export, route, import, report, jobs."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import click
import yaml
from sqlalchemy.exc import DBAPIError

from bot import lead_files
from bot.config.routing import CheckedConfig, ConfigInvalid, check_file
from bot.config.settings import Settings, new_sqlite_file, shown_database, without_password
from bot.crm.check import check_owners
from bot.explanation_text import explanation_lines
from bot.lead_files import LeadFileInvalid
from bot.routing.admin.roster import replaced_calibrations
from bot.routing.errors import RoutingError
from bot.routing.ledger.report import PeriodReport
from bot.routing.results import RouteOutcome
from bot.routing.service import RoutingService
from bot.sources.cli import sources
from bot.store.db import Database

T = TypeVar("T")
IMPORT_BATCH = 50
SHOWN_PROBLEMS = 10  # a file with many bad rows lists this many, then how many more


class Unreachable(Exception):
    """The database at DATABASE_URL did not let us connect; `str()` says where and why."""


class NoConfig(Exception):
    """The database has no routing config applied; `str()` names the database."""


def with_service(work: Callable[[RoutingService], Awaitable[T]], *, needs_config: bool = False) -> T:
    """Run `work` against a migrated database from DATABASE_URL, then close it.

    The database is named on stderr (`database: …`) before the work, so a command run from
    another folder, where a relative SQLite path means another file, says so at once. With
    `needs_config`, a database no config was ever applied to is refused in words (and a SQLite
    file that does not exist yet is not created for that): routing into it would store every
    lead unassigned.
    """
    settings = settings_or_fail()
    shown = shown_database(settings.database_url)
    if needs_config and new_sqlite_file(settings.database_url):
        fail(no_config(shown, new=True))

    async def run() -> T:
        db = Database(settings.database_url)
        try:
            try:
                async with db.engine.connect():
                    pass
            except (OSError, DBAPIError) as error:  # refused, unknown host, timeout, bad login
                where = without_password(db.url)
                raise Unreachable(f"at {where} ({_reason(error)})") from None
            await db.migrate()
            service = RoutingService(db, webhook=bool(settings.webhook_url))
            if needs_config and not (await service.admin.team()).config_version:
                raise NoConfig(no_config(shown))
            click.echo(f"database: {shown}", err=True)
            return await work(service)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except Unreachable as error:
        fail(f"cannot reach the database {error}")
    except NoConfig as error:
        fail(str(error))


def no_config(shown: str, *, new: bool = False) -> str:
    """Why a command that routes (or reports) refuses a database without a config."""
    state = " (the file does not exist yet)" if new else ""
    return (f"no routing config has been applied to {shown}{state}; run `rotation config apply FILE` "
            "first, or set DATABASE_URL to the database that has one.")


def _reason(error: BaseException) -> str:
    """The driver's own words for a failed connection, on one line."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    text = re.sub(r"^<class '[\w.]+'>: ", "", str(text))
    return " ".join(text.split())


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def fail_all(problems: list[str]) -> NoReturn:
    """Every problem found in an input file (the first few), then exit 1: nothing was routed."""
    for problem in problems[:SHOWN_PROBLEMS]:
        click.echo(f"error: {problem}", err=True)
    more = len(problems) - SHOWN_PROBLEMS
    click.echo(
        (f"… and {more} more problem(s). " if more > 0 else "") + "Nothing was routed.", err=True
    )
    sys.exit(1)


def settings_or_fail() -> Settings:
    """The environment's settings, or exit 1 saying which variable is wrong and how."""
    try:
        return Settings.from_env()
    except ValueError as error:
        fail(str(error))


@click.group()
def main() -> None:
    """Run a sales team's lead rotation: fair, exact and explainable."""


@main.command()
def serve() -> None:
    """Apply migrations, load ROTATION_CONFIG, serve HTTP (and Slack) until SIGTERM."""
    from bot.web.server import run

    sys.exit(run(settings_or_fail()))


@main.command(hidden=True)
@click.option("--for-serve", is_flag=True, required=True, help="Started by `rotation serve`, never by hand.")
def deliver(for_serve: bool) -> None:
    """The delivery loop of `rotation serve`, in its own process (serve starts it)."""
    from bot.delivery.child import main as deliver_main

    sys.exit(deliver_main())


@main.group()
def config() -> None:
    """Check, apply or export the routing config."""


@config.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def config_check(file: str) -> None:
    """Validate FILE and print every problem with its place."""
    try:
        checked = check_file(file)
    except ConfigInvalid as error:
        for problem in error.problems:
            click.echo(problem.render(error.source), err=True)
        click.echo(f"{len(error.problems)} problem(s) found in {file}.", err=True)
        sys.exit(1)
    echo_remarks(checked)
    parsed, warned = checked.config, len(checked.warnings)
    if parsed.crm is not None:  # members whose email matches no owner, when the CRM answers
        for remark in check_owners(parsed, settings_or_fail()):
            click.echo(remark.render(checked.source), err=True)
            warned += remark.level == "warning"
    click.echo(
        f"{file} is valid: {len(parsed.members)} members, {len(parsed.queues)} queues, "
        f"{len(parsed.rules)} rules." + (f" {warned} warning(s) above." if warned else "")
    )


def echo_remarks(checked: CheckedConfig) -> None:
    """A valid config's warnings and notes, each on its line, before what was done with it."""
    for remark in checked.remarks:
        click.echo(remark.render(checked.source), err=True)


@config.command("apply")
@click.argument("file", type=click.Path(dir_okay=False))
def config_apply(file: str) -> None:
    """Load FILE into the database (idempotent; ledgers are kept)."""
    try:
        checked = check_file(file)
    except ConfigInvalid as error:
        for problem in error.problems:
            click.echo(problem.render(error.source), err=True)
        sys.exit(1)
    echo_remarks(checked)
    summary = with_service(lambda s: s.admin.apply_config(checked.config, actor="cli"))
    click.echo(
        f"Applied {file}: {summary['members']} members, {summary['queues']} queues, "
        f"{summary['seats']} seats, {summary['rules']} rules. Ledgers kept."
    )
    if summary["calibrations_replaced"]:
        click.echo(replaced_calibrations(summary["calibrations_replaced"]), err=True)
    if summary.get("people_kept_from_slack"):
        click.echo(f"Kept {summary['people_kept_from_slack']} people added in Slack that {file} does not "
                   "name (/rotation remove takes them out).")


@config.command("export")
def config_export() -> None:
    """Print the current state as a routing config."""
    try:
        exported = with_service(lambda s: s.admin.export_config())
    except RoutingError as error:
        fail(str(error))
    click.echo(yaml.safe_dump(exported, sort_keys=False, allow_unicode=True), nl=False)


def describe(outcome: RouteOutcome, *, explain: bool = False) -> str:
    if outcome.assignee is not None:
        head = f"{outcome.lead_id}: {outcome.assignee.name} ({outcome.assignee.slack_id}) in {outcome.queue}"
    else:
        head = f"{outcome.lead_id}: unassigned" + (f" (queue {outcome.queue})" if outcome.queue else "")
    rule = f" by rule “{outcome.rule}”" if outcome.rule else ""
    seen = "" if outcome.created else " [already routed]"
    text = f"{head}{rule}{seen}\n  {outcome.explanation.get('summary', '')}"
    if explain:
        text += "\n" + "\n".join(explanation_lines(outcome.explanation, indent="  "))
    return text


@main.command()
@click.argument("file", type=click.Path(exists=False, dir_okay=False), required=False)
@click.option("--dry-run", is_flag=True, help="Decide and explain, but store nothing.")
@click.option("--explain", is_flag=True, help="Also show every rule's verdict and every candidate's numbers.")
@click.option("--pending", is_flag=True, help="Assign waiting (unassigned) leads to whoever is available.")
def route(file: str | None, dry_run: bool, explain: bool, pending: bool) -> None:
    """Route the lead (or JSON list of leads) in FILE and explain each decision."""
    if pending:
        if file is not None:
            raise click.UsageError(f"--pending assigns the leads already waiting and reads no file: give "
                                   f"either {file} or --pending, not both.")
        if dry_run:
            raise click.UsageError("--pending has no dry run: it assigns the waiting leads for real.")
        outcomes = with_service(lambda s: s.assignment.assign_pending(), needs_config=True)
        for outcome in outcomes:
            click.echo(describe(outcome, explain=explain))
        click.echo(f"{len(outcomes)} waiting lead(s) assigned.")
        return
    if file is None:
        raise click.UsageError("give a JSON file with a lead (or a list of leads), or --pending.")
    try:
        leads, listed = lead_files.json_leads(Path(file))
    except LeadFileInvalid as invalid:
        fail_all(invalid.problems)
    if not leads:
        click.echo(f"no leads in {file}")
        return

    async def work(service: RoutingService) -> list[RouteOutcome]:
        if listed:  # one transaction, so a dry run previews each lead after the ones before it
            return await service.assignment.route_many(leads, actor="cli", dry_run=dry_run)
        return [await service.assignment.route(leads[0], actor="cli", dry_run=dry_run)]

    try:
        outcomes = with_service(work, needs_config=True)
    except RoutingError as error:
        fail(str(error))
    for outcome in outcomes:
        click.echo(describe(outcome, explain=explain))
    if dry_run:
        click.echo("(dry run: nothing was stored)")


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--encoding", default="utf-8", show_default=True,
              help="The file's text encoding: cp1252 for a CSV saved by Excel on Windows.")
def import_csv(file: str, encoding: str) -> None:
    """Route every row of a CSV (header = lead fields, an `id` column); resumable."""
    try:
        rows = lead_files.csv_leads(Path(file), encoding=encoding)
    except LeadFileInvalid as invalid:
        fail_all(invalid.problems)

    async def work(service: RoutingService) -> dict[str, int]:
        counts = {"assigned": 0, "unassigned": 0, "skipped": 0}
        with click.progressbar(length=len(rows), label="Routing leads", file=sys.stderr) as bar:
            for start in range(0, len(rows), IMPORT_BATCH):
                batch = rows[start : start + IMPORT_BATCH]
                for outcome in await service.assignment.route_many(batch, actor="import"):
                    counts["skipped" if not outcome.created else outcome.status] += 1
                bar.update(len(batch))
        return counts

    counts = with_service(work, needs_config=True)
    click.echo(
        f"{len(rows)} rows: {counts['assigned']} assigned, {counts['unassigned']} unassigned, "
        f"{counts['skipped']} already routed (skipped)."
    )


@main.command()
@click.option("--period", help="YYYY-MM (monthly), YYYY-Www (weekly), YYYY-Qn (quarterly).")
@click.option("--queue", help="Only this queue.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.option("--chart", "chart_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw received against fair share to FILE.png (FILE-2.png… for more pages).")
def report(period: str | None, queue: str | None, fmt: str, chart_file: Path | None) -> None:
    """Per queue and member: leads, target and actual share, lag, adjustments, weight, status,
    fair share in leads, passes, SLA misses and time to accept (median and p90).

    A period without leads says so: in the table, on a line of its own; with csv or json, on
    stderr, so what is printed stays the rows (of zeros) a script expects.
    """
    if chart_file is not None and chart_file.suffix.lower() != ".png":
        raise click.UsageError(f"--chart draws a PNG picture; name a file ending in .png, not {chart_file}.")
    if chart_file is not None and not chart_file.parent.is_dir():
        raise click.UsageError(f"--chart: there is no folder {chart_file.parent} for {chart_file.name}.")
    try:
        figures = with_service(lambda s: s.ledger.period_report(period=period, queue=queue),
                               needs_config=True)
    except RoutingError as error:
        raise click.UsageError(str(error)) from None
    from bot.report_format import no_leads_note, render_report

    click.echo(render_report(figures, fmt, queue=queue), nl=False)
    note = no_leads_note(figures, queue)
    if note is not None and fmt != "table":
        click.echo(note, err=True)
    if chart_file is not None:
        _write_chart(figures, chart_file)


def _write_chart(figures: PeriodReport, chart_file: Path) -> None:
    """Every page of the report's chart, named after `chart_file`; where they went, on stderr."""
    from bot.reports.chart import draw, page_file_names

    chart = draw(figures)
    stem = chart_file.with_suffix("")
    written = []
    for page, name in zip(chart.pages, page_file_names(stem.name, len(chart.pages)), strict=True):
        target = stem.with_name(name).with_suffix(chart_file.suffix)
        try:
            target.write_bytes(page)
        except OSError as error:
            fail(f"could not write the chart to {target}: {error.strerror or error}")
        written.append(str(target))
    more = f" (and {', '.join(written[1:])})" if len(written) > 1 else ""
    click.echo(f"chart: {written[0]}{more}", err=True)


@main.group()
def jobs() -> None:
    """Background jobs (time off, SLA, period reset) for cron-style use."""


@jobs.command("run-once")
def jobs_run_once() -> None:
    """Run every due job once and print what each did."""
    from bot.jobs.runner import run_jobs_once

    settings = settings_or_fail()
    result = with_service(lambda service: run_jobs_once(service, settings))
    click.echo(json.dumps(result, indent=2, default=str))


main.add_command(sources)

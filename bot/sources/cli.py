"""`rotation sources`: the configured sources with their addresses and counts, what is parked
and why, and replaying parked requests once the mapping is fixed."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from bot.routing.service import RoutingService
from bot.sources import lead_source, parked
from bot.sources.intake import Replayed, SourceIntake
from bot.sources.stored import stored_sources

PREVIEW = 160  # characters of a parked payload shown in the list


def _with_service(work: Any) -> Any:
    from bot.cli import with_service  # here: bot.cli adds this group, so it imports us first

    return with_service(work)


@click.group(invoke_without_command=True)
@click.pass_context
def sources(context: click.Context) -> None:
    """Lead sources: list them (with their addresses and counts), see what is parked, replay it."""
    if context.invoked_subcommand is not None:
        return

    async def work(service: RoutingService) -> list[tuple[Any, ...]]:
        def read(connection: Any) -> list[tuple[Any, ...]]:
            leads, waiting = lead_source.lead_counts(connection), parked.counts(connection)
            return [(s.name, s.kind, leads.get(s.name, 0), *waiting.get(s.name, (0, 0)))
                    for s in stored_sources(connection)]

        return await service.transactions.read(read)

    rows = _with_service(work)
    if not rows:
        click.echo("No sources in the applied routing config (add a `sources:` list, then "
                   "`rotation config apply`).")
        return
    click.echo(f"{'SOURCE':<20} {'KIND':<11} {'ADDRESS':<32} {'LEADS':>6} {'PARKED':>7} {'REPLAYED':>9}")
    for name, kind, leads, waiting, replayed in rows:
        address = f"POST /sources/{name}"
        click.echo(f"{name:<20} {kind:<11} {address:<32} {leads:>6} {waiting:>7} {replayed:>9}")


@sources.command("parked")
@click.argument("name", required=False)
def sources_parked(name: str | None) -> None:
    """What is parked (not yet routed), oldest first, and why; only NAME's with a name."""

    async def work(service: RoutingService) -> list[Any]:
        return await service.transactions.read(lambda c: parked.waiting(c, name))

    rows = _with_service(work)
    if not rows:
        click.echo(f"Nothing is parked{f' for {name}' if name else ''}.")
        return
    for row in rows:
        when = row.received_at.strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"#{row.id}  {row.source} ({row.kind})  {when}")
        click.echo(f"    why: {row.reason}")
        click.echo(f"    what: {preview(row)}")
    click.echo(f"{len(rows)} parked. After fixing the mapping: rotation sources replay --all")


def preview(row: Any) -> str:
    text = row.body.decode("utf-8", errors="replace")
    if row.split:
        text = json.dumps(json.loads(text), ensure_ascii=False)
    text = " ".join(text.split()).encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates
    return text if len(text) <= PREVIEW else text[:PREVIEW] + "…"


@sources.command("replay")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "everything", is_flag=True, help="Every parked request.")
def sources_replay(ids: tuple[int, ...], everything: bool) -> None:
    """Route parked requests again with the config as applied now (IDs from `sources parked`)."""
    if bool(ids) == everything:
        raise click.UsageError("Give the ids of parked requests (see `rotation sources parked`), or --all.")

    async def work(service: RoutingService) -> list[Replayed]:
        return await SourceIntake(service).replay(None if everything else list(ids))

    results = _with_service(work)
    found = {result.parked_id for result in results}
    missing = [i for i in ids if i not in found]
    for parked_id in missing:
        click.echo(f"#{parked_id}: no parked request has this id", err=True)
    still = 0
    for result in results:
        if result.done and result.lead_ids:
            click.echo(f"#{result.parked_id} ({result.source}): routed as lead {', '.join(result.lead_ids)}")
        elif result.done:
            click.echo(f"#{result.parked_id} ({result.source}): {result.reason}")
        else:
            still += 1
            click.echo(f"#{result.parked_id} ({result.source}): still parked: {result.reason}")
    if not results and not missing:
        click.echo("Nothing is parked.")
    if still or missing:
        sys.exit(1)

"""The report's chart is a real PNG of the documented size, with bars on it, at any team size."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from bot.cli import main
from bot.reports.chart import (
    MAX_PAGE_HEIGHT_PX,
    MEMBERS_PER_PANEL,
    RECEIVED_COLOUR,
    WIDTH_PX,
    alt_text,
    draw,
    page_file_names,
    panels,
)
from bot.routing.ledger.report import AcceptTimes, MemberFigures, PeriodReport, QueueFigures

NOTHING = AcceptTimes(0, None, None)


def member(index: int, received: int, fair: float) -> MemberFigures:
    return MemberFigures(f"U{index:04d}", f"Rep {index}", received, fair, fair - received, 0, 0.1, 0.1,
                         "1", "active", 0, 0, NOTHING)


def queue(name: str, size: int, *, skew: int = 0) -> QueueFigures:
    members = tuple(member(i, 5 + (skew if i == 0 else 0), 5.0) for i in range(size))
    return QueueFigures(name, sum(m.received for m in members), 0, 0, NOTHING, members)


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    image.load()
    return image.convert("RGB")


def share_of(image: Image.Image, colour: str) -> float:
    """The fraction of the picture's pixels in `colour` (#rrggbb)."""
    wanted = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    counts = dict((rgb, n) for n, rgb in image.getcolors(maxcolors=1 << 20) or [])
    return counts.get(wanted, 0) / (image.width * image.height)


@pytest.mark.parametrize("size", [1, 7, MEMBERS_PER_PANEL])
def test_one_queue_is_one_page_of_the_documented_width_with_its_bars(size: int) -> None:
    chart = draw(PeriodReport("2026-11", (queue("emea", size),)))
    [page] = chart.pages
    image = decoded(page)
    assert image.width == WIDTH_PX and 150 < image.height <= MAX_PAGE_HEIGHT_PX
    assert share_of(image, RECEIVED_COLOUR) > 0.005 * min(size, 5)  # the bars are drawn
    assert share_of(image, "#ffffff") < 0.97  # and not a blank page with a title
    assert chart.complete


def test_a_bigger_queue_is_paged_and_pages_grow_with_its_members() -> None:
    small = decoded(draw(PeriodReport("2026-11", (queue("a", 3),))).pages[0])
    bigger = decoded(draw(PeriodReport("2026-11", (queue("a", 12),))).pages[0])
    assert bigger.height > small.height
    chart = draw(PeriodReport("2026-11", (queue("global", 200),)))
    assert len(chart.pages) == 8  # 25 members a panel, one panel of 25 a page
    for page in chart.pages:
        image = decoded(page)
        assert image.width == WIDTH_PX and image.height <= MAX_PAGE_HEIGHT_PX
    titles = [p.title for p in panels(PeriodReport("2026-11", (queue("global", 200),)))]
    assert titles[0] == "global, 1\u201325 of 200" and titles[-1] == "global, 176\u2013200 of 200"


def test_many_queues_for_slack_are_capped_to_the_ones_furthest_from_fair_share() -> None:
    queues = tuple(queue(f"q{i:03d}", 4, skew=9 if i == 77 else 0) for i in range(120))
    report = PeriodReport("2026-11", queues)
    assert len(panels(report)) == 120
    chart = draw(report, max_pages=2)
    assert len(chart.pages) == 2 and not chart.complete
    assert 2 <= chart.queues_drawn < 120 and chart.queues_total == 120
    first = panels(report, by_gap=True)[0]
    assert first.queue.name == "q077"  # the one with a member 9 leads over comes first
    assert "of 120 queues" in alt_text(report, chart) and len(alt_text(report, chart)) <= 1000


def test_a_capped_chart_shows_each_queue_by_its_first_panel_and_one_queue_by_its_first_pages() -> None:
    big = queue("everyone", 200, skew=30)
    report = PeriodReport("2026-11", (big, *(queue(f"q{i}", 4, skew=1) for i in range(20))))
    chart = draw(report, max_pages=3)
    assert len(chart.pages) == 3 and chart.queues_drawn > 1  # the big queue does not take every page
    titles = [p.title for p in panels(report, by_gap=True, first_only=True)]
    assert titles[0] == "everyone, 1\u201325 of 200" and len(titles) == 21
    alone = draw(PeriodReport("2026-11", (big,)), max_pages=3)
    assert (len(alone.pages), alone.queues_drawn, alone.members_drawn, alone.members_total) == (3, 1, 75, 200)
    assert not alone.complete and draw(PeriodReport("2026-11", (queue("a", 3),)), max_pages=3).complete


def test_a_report_without_queues_still_draws_a_page_that_says_so() -> None:
    chart = draw(PeriodReport("2026-11", ()))
    [page] = chart.pages
    image = decoded(page)
    assert image.width == WIDTH_PX and share_of(image, "#ffffff") < 0.999


def test_pages_are_named_after_the_first() -> None:
    assert list(page_file_names("report-2026-11", 3)) == [
        "report-2026-11.png", "report-2026-11-2.png", "report-2026-11-3.png"]


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "routing.yaml"


def rotation(*args: str, code: int = 0) -> tuple[str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.stdout, result.stderr


def test_the_cli_draws_the_same_chart_and_its_csv_has_the_new_columns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    rotation("config", "apply", str(EXAMPLE))
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps([{"id": f"C-{n}", "country": "DE"} for n in range(5)]))
    rotation("route", str(lead))
    chart = str(tmp_path / "emea.png")
    out, said = rotation("report", "--queue", "emea", "--format", "csv", "--chart", chart)
    assert f"chart: {tmp_path / 'emea.png'}" in said
    image = decoded((tmp_path / "emea.png").read_bytes())
    assert image.width == WIDTH_PX and share_of(image, RECEIVED_COLOUR) > 0.005
    rows = list(csv.DictReader(out.splitlines()))
    assert sum(int(r["leads"]) for r in rows) == 5 and {r["passes"] for r in rows} == {"0"}
    assert {"fair_share", "sla_misses", "median_accept_seconds", "p90_accept_seconds"} <= set(rows[0])


def test_the_cli_refuses_a_chart_it_cannot_write_before_reading_anything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    rotation("config", "apply", str(EXAMPLE))
    _, said = rotation("report", "--chart", str(tmp_path / "chart.jpg"), code=2)
    assert "name a file ending in .png" in said
    _, said = rotation("report", "--chart", str(tmp_path / "missing" / "chart.png"), code=2)
    assert "there is no folder" in said
    assert not list(tmp_path.glob("**/*.png"))

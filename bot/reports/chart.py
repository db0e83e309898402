"""The report's chart: leads received against fair share, per member, one panel per queue.

Drawn with matplotlib's Agg canvas on a `Figure` of our own (never pyplot), so it needs no
display and shares no global state between threads; Slack's handler draws in a worker
thread while the event loop goes on.

Sizes, chosen for Slack's preview (360 to 800 px wide; Slack scales a picture to fit its box,
so a tall page would shrink to nothing):
- every page is `WIDTH_PX` wide and at most `MAX_PAGE_HEIGHT_PX` tall, about square;
- a panel shows up to `MEMBERS_PER_PANEL` members as horizontal bars (received) with a black
  tick at each fair share, and each name with "received/fair"; a bigger queue continues in
  further panels ("sales, 26–50 of 200"); members furthest from their fair share come first
  (either way: orange bars are a lead or more over), so the first panel is the one to read;
- panels are stacked on a page while they fit, then a new page begins. 3 queues of 4 make one
  page; one queue of 200 makes 8 pages; 120 queues of 4 make 24.
- Slack gets at most `SLACK_PAGES` pages (see `draw`'s `max_pages`): when the whole chart is
  longer, the queues furthest from fair share, each by its first panel; the CSV beside it has
  everything, and `report QUEUE` charts one queue (its first pages).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from bot.routing.ledger.report import MemberFigures, PeriodReport, QueueFigures

WIDTH_PX = 800
DPI = 100
MEMBERS_PER_PANEL = 25
MAX_PAGE_HEIGHT_PX = 1000
SLACK_PAGES = 6
ROW_PX = 24  # one member's bar
PANEL_TITLE_PX = 34  # above a panel's bars
PANEL_AXIS_PX = 46  # below them: the axis's numbers and the gap to the next panel
PAGE_CHROME_PX = 74  # the page's title and legend
LEFT_PX = 262  # names and figures ("Member name  12/13")
RIGHT_PX = 24
NAME_CHARS = 20

RECEIVED_COLOUR = "#3b7dd8"
OVER_COLOUR = "#d8833b"  # received more than the fair share, by a whole lead or more
FAIR_COLOUR = "#1b1b1b"


@dataclass(frozen=True, slots=True)
class Panel:
    """A queue's members (or one slice of a big queue's) to draw together."""

    queue: QueueFigures
    members: tuple[MemberFigures, ...]
    first: int  # 1-based position of members[0] in the queue's order
    total: int  # the queue's members

    @property
    def title(self) -> str:
        if self.total <= len(self.members):
            return self.queue.name
        return f"{self.queue.name}, {self.first}\u2013{self.first + len(self.members) - 1} of {self.total}"

    @property
    def height_px(self) -> int:
        return PANEL_TITLE_PX + ROW_PX * max(1, len(self.members)) + PANEL_AXIS_PX


def panels(report: PeriodReport, *, by_gap: bool = False, first_only: bool = False) -> list[Panel]:
    """Every queue's panels, in config order (or furthest from fair share first); a queue
    with no members gets an empty one. `first_only`: each queue's first panel alone (its
    members furthest from fair share), so a capped chart shows more queues."""
    found: list[Panel] = []
    queues = sorted(report.queues, key=lambda q: -gap(q)) if by_gap else report.queues
    for queue in queues:
        members = sorted(queue.members, key=lambda m: (-abs(m.lag), m.name.casefold()))
        if not members:
            found.append(Panel(queue, (), 1, 0))
            continue
        end = min(len(members), MEMBERS_PER_PANEL) if first_only else len(members)
        for start in range(0, end, MEMBERS_PER_PANEL):
            found.append(Panel(queue, tuple(members[start:start + MEMBERS_PER_PANEL]), start + 1,
                               len(members)))
    return found


def paginate(all_panels: Sequence[Panel]) -> list[list[Panel]]:
    """Panels stacked on pages no taller than MAX_PAGE_HEIGHT_PX (one panel always fits)."""
    pages: list[list[Panel]] = []
    height = 0
    for panel in all_panels:
        if pages and height + panel.height_px <= MAX_PAGE_HEIGHT_PX - PAGE_CHROME_PX:
            pages[-1].append(panel)
            height += panel.height_px
        else:
            pages.append([panel])
            height = panel.height_px
    return pages


@dataclass(frozen=True, slots=True)
class Chart:
    """A report drawn: its PNG pages, and how many of its queues they show."""

    pages: tuple[bytes, ...]
    queues_drawn: int
    queues_total: int
    members_drawn: int  # seats: a member of two queues counts twice
    members_total: int

    @property
    def complete(self) -> bool:
        return self.queues_drawn == self.queues_total and self.members_drawn == self.members_total


def draw(report: PeriodReport, *, max_pages: int | None = None) -> Chart:
    """The report drawn as PNG pages, in config order (at least one page: a report of no
    queues says so). With `max_pages` and more pages than that, the queues furthest from
    fair share (the largest |lag| of a member) are drawn first, each by its first panel (the
    25 members furthest from theirs), and the rest left out: Slack gets a few pages and the
    CSV; the CLI draws everything."""
    pages = paginate(panels(report))
    if max_pages is not None and len(pages) > max_pages:
        pages = paginate(panels(report, by_gap=True, first_only=len(report.queues) > 1))[:max_pages]
    seats = sum(len(q.members) for q in report.queues)
    if not pages:
        return Chart((_empty_page(report),), 0, len(report.queues), 0, seats)
    drawn = [panel for page in pages for panel in page]
    return Chart(tuple(_draw(report, page, number, len(pages)) for number, page in enumerate(pages, 1)),
                 len({panel.queue.name for panel in drawn}), len(report.queues),
                 sum(len(panel.members) for panel in drawn), seats)


def gap(queue: QueueFigures) -> float:
    """How far the queue's furthest member is from their fair share, in leads."""
    return max((abs(m.lag) for m in queue.members), default=0.0)


def alt_text(report: PeriodReport, chart: Chart) -> str:
    """What a screen reader says of the chart (Slack allows 1,000 characters)."""
    shown = "" if chart.complete else (f" ({chart.queues_drawn} of {chart.queues_total} queues, "
                                       f"{chart.members_drawn} of {chart.members_total} seats)")
    words = (f"Bar chart{shown}: leads each member received in {report.period} against their fair share, "
             f"one panel per queue. {report.received} leads in all.")
    return words[:1000]


def _draw(report: PeriodReport, page: Sequence[Panel], number: int, count: int) -> bytes:
    """One page, laid out in pixels: the title and legend, then each panel's title, bars and
    axis, one under the other."""
    height_px = PAGE_CHROME_PX + sum(p.height_px for p in page)
    figure = Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    pages = f"  (page {number} of {count})" if count > 1 else ""
    figure.text(12 / WIDTH_PX, 1 - 12 / height_px, f"Leads received and fair share, {report.period}{pages}",
                fontsize=15, fontweight="bold", va="top")
    _legend(figure, height_px)
    top_px = PAGE_CHROME_PX
    for panel in page:
        bars_px = ROW_PX * max(1, len(panel.members))
        bottom_px = top_px + PANEL_TITLE_PX + bars_px
        axes = figure.add_axes((LEFT_PX / WIDTH_PX, 1 - bottom_px / height_px,
                                (WIDTH_PX - LEFT_PX - RIGHT_PX) / WIDTH_PX, bars_px / height_px))
        _draw_panel(axes, panel)
        top_px += panel.height_px
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _draw_panel(axes: Axes, panel: Panel) -> None:
    members = panel.members
    positions = list(range(len(members)))
    received = [m.received for m in members]
    fair = [m.fair_share for m in members]
    colours = [OVER_COLOUR if m.received - m.fair_share >= 1 else RECEIVED_COLOUR for m in members]
    axes.barh(positions, received, height=0.66, color=colours, zorder=2)
    axes.scatter(fair, positions, marker="|", s=260, linewidths=2.5, color=FAIR_COLOUR, zorder=3)
    # One text per member (name and figures) keeps a 200-member page quick to draw.
    axes.set_yticks(positions, [f"{_name(m.name)}  {m.received}/{m.fair_share:.0f}" for m in members],
                    fontsize=11)
    axes.set_xlim(0, max([*received, *fair, 1.0]) * 1.05)
    axes.set_ylim(len(members) - 0.5 if members else 0.5, -0.5)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    axes.tick_params(axis="x", labelsize=10, length=3, pad=2)
    axes.tick_params(axis="y", length=0, pad=6)
    axes.grid(axis="x", color="#e2e2e2", zorder=0)
    axes.spines[["top", "right"]].set_visible(False)
    detail = f"{panel.queue.received} leads"
    if panel.queue.passes or panel.queue.sla_misses:
        detail += f", {panel.queue.passes} passed, {panel.queue.sla_misses} missed the SLA"
    axes.set_title(f"{panel.title}  \u00b7  {detail}", loc="left", fontsize=12.5, fontweight="bold",
                   pad=7, x=-(LEFT_PX - 12) / (WIDTH_PX - LEFT_PX - RIGHT_PX))
    if not members:
        axes.text(0.5, 0.5, "no members", transform=axes.transAxes, ha="center", va="center", fontsize=11)
        axes.set_yticks([])


def _legend(figure: Figure, height_px: int) -> None:
    handles = [Patch(color=RECEIVED_COLOUR, label="received"),
               Patch(color=OVER_COLOUR, label="a lead or more over"),
               Line2D([], [], color=FAIR_COLOUR, marker="|", linestyle="none", markersize=13,
                      markeredgewidth=2.5, label="fair share")]
    figure.legend(handles=handles, loc="upper left", ncols=3, frameon=False, fontsize=11.5,
                  bbox_to_anchor=(4 / WIDTH_PX, 1 - 34 / height_px), handlelength=1.4, columnspacing=1.4)


def _empty_page(report: PeriodReport) -> bytes:
    figure = Figure(figsize=(WIDTH_PX / DPI, 200 / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    figure.text(0.5, 0.5, f"No queues to report for {report.period}.", ha="center", va="center", fontsize=15)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _name(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "\u2026"


def page_file_names(stem: str, count: int) -> Iterator[str]:
    """report-2026-11.png, then report-2026-11-2.png… for the further pages."""
    for number in range(1, count + 1):
        yield f"{stem}.png" if number == 1 else f"{stem}-{number}.png"

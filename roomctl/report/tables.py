"""The report's two tables: a summary per phase, and the alarm list."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from roomctl.music.record import TrackPlayed
from roomctl.quantities import DESCRIPTIONS, REPORT_QUANTITIES
from roomctl.report.summary import AlarmSummary, Stats, Summary

if TYPE_CHECKING:
    from matplotlib.axes import Axes

MAX_ALARM_ROWS = 30
FONT_PT = 7.5
MIN_FONT_PT = 6.0
"""The tables' text: smaller (down to this) only when the columns would not fit the page's width otherwise."""


def duration(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h} h {m:02d} min" if h else (f"{m} min {s:02d} s" if m else f"{s} s")


def _cell(s: Stats | None) -> list[str]:
    if s is None or s.n == 0:
        return ["-", "-"]
    assert s.min is not None
    assert s.median is not None
    assert s.max is not None
    return [f"{s.min:.0f} / {s.median:.0f} / {s.max:.0f}", duration(s.outside_s) if s.outside_s else "0"]


def phase_table(ax: Axes, summary: Summary, tz: tzinfo) -> None:
    from matplotlib.transforms import Bbox

    ax.axis("off")
    quantities = [q for q in REPORT_QUANTITIES if q in summary.whole.stats]
    columns = ["phase", "from", "length"]
    for q in quantities:
        columns += [f"{DESCRIPTIONS[q].short}\nmin / median / max", f"{DESCRIPTIONS[q].short}\noutside limits"]
    rows = []
    phases = [p for p in summary.phases if p.phase.id != "session"]  # "session": no phases were recorded
    for p in [*phases, summary.whole]:
        start = datetime.fromtimestamp(p.phase.start, tz)
        row = [p.phase.label, f"{start:%H:%M}", duration(p.phase.end - p.phase.start)]
        for q in quantities:
            row += _cell(p.stats.get(q))
        rows.append(row)
    ax.set_title("Summary per phase", fontsize=10, loc="left", pad=6)  # the page's layout leaves room above
    table = ax.table(cellText=rows, colLabels=columns, cellLoc="left", bbox=Bbox.from_bounds(0, 0, 1, 1))
    _style(table, bold_last=True)
    _fit(ax, table, header_lines=2)


def alarm_table(ax: Axes, alarms: list[AlarmSummary], tz: tzinfo) -> None:
    from matplotlib.transforms import Bbox

    ax.axis("off")
    ax.set_title(f"Alarms ({len(alarms)})", fontsize=10, loc="left")
    if not alarms:
        ax.text(0, 0.8, "No alarms in this session.", fontsize=8)
        return
    rows = []
    for a in alarms[:MAX_ALARM_ROWS]:
        value = "-" if a.value is None else f"{a.value:.4g}" + ("" if a.limit is None else f" (limit {a.limit:g})")
        ack = "-" if a.acknowledged_after_s is None else duration(a.acknowledged_after_s)
        lasted = duration(a.duration_s) + (
            " (still active at end)" if a.active_at_end else " (latched, not acknowledged)" if a.latched_at_end else ""
        )
        rows.append(
            [
                f"{datetime.fromtimestamp(a.raised, tz):%H:%M:%S}",
                a.condition.replace("_", " "),
                a.priority,
                a.category,
                value,
                ack,
                lasted,
            ]
        )
    if len(alarms) > MAX_ALARM_ROWS:
        rows.append(["...", f"{len(alarms) - MAX_ALARM_ROWS} more in the export", "", "", "", "", ""])
    columns = ["raised", "condition", "priority", "kind", "value", "acknowledged after", "lasted"]
    table = ax.table(cellText=rows, colLabels=columns, cellLoc="left", bbox=Bbox.from_bounds(0, 0, 1, 1))
    _style(table, bold_last=False)
    _fit(ax, table, header_lines=1)


def _fit(ax: Axes, table: Any, *, header_lines: int) -> None:
    """Each column as wide as its widest text, measured as drawn (headers included; the rest of the width shared in
    proportion), the font made smaller only if the columns would not fit; the header row ``header_lines`` high."""
    from matplotlib.table import Cell

    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    cells = table.get_celld()
    columns = max(c for _, c in cells) + 1
    room = ax.get_window_extent(renderer).width
    size = FONT_PT
    while True:
        table.set_fontsize(size)
        need = [0.0] * columns
        for (_r, c), cell in cells.items():
            need[c] = max(need[c], cell.get_text().get_window_extent(renderer).width)
        widths = [n / (1 - 2.5 * Cell.PAD) for n in need]  # the text starts PAD of the cell's width in
        if sum(widths) <= room or size <= MIN_FONT_PT:
            break
        size = max(MIN_FONT_PT, size * room / sum(widths) * 0.97)
    total = sum(widths)
    for (r, c), cell in cells.items():
        cell.set_width(widths[c] / total)
        cell.set_height(header_lines if r == 0 else 1)


MAX_MUSIC_ROWS = 40


def music_table(ax: Axes, tracks: list[TrackPlayed], tz: tzinfo) -> None:
    """What played when: the time each track started, its phase and playlist, title and artist."""
    from matplotlib.transforms import Bbox

    ax.axis("off")
    ax.set_title(f"Music ({len(tracks)} track(s))", fontsize=10, loc="left")
    rows = [
        [f"{datetime.fromtimestamp(t.ts, tz):%H:%M:%S}", t.phase or "-", t.playlist or "-", t.name[:90]]
        for t in tracks[:MAX_MUSIC_ROWS]
    ]
    if len(tracks) > MAX_MUSIC_ROWS:
        rows.append(["...", "", "", f"{len(tracks) - MAX_MUSIC_ROWS} more in the export"])
    columns = ["started", "phase", "playlist", "title — artist"]
    widths = [0.08, 0.12, 0.16, 0.64]
    _style(
        ax.table(cellText=rows, colLabels=columns, cellLoc="left", colWidths=widths, bbox=Bbox.from_bounds(0, 0, 1, 1)),
        bold_last=False,
    )


def _style(table: Any, *, bold_last: bool) -> None:
    table.auto_set_font_size(False)
    table.set_fontsize(FONT_PT)
    cells = table.get_celld()
    last = max(r for r, _ in cells)
    for (r, _c), cell in cells.items():
        cell.set_edgecolor("#cccccc")
        if r == 0 or (bold_last and r == last):
            cell.set_text_props(weight="bold")
        if r == 0:
            cell.set_facecolor("#eeeeee")

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
        columns += [f"{DESCRIPTIONS[q].short} min/median/max", f"{DESCRIPTIONS[q].short} outside limits"]
    rows = []
    phases = [p for p in summary.phases if p.phase.id != "session"]  # "session": no phases were recorded
    for p in [*phases, summary.whole]:
        start = datetime.fromtimestamp(p.phase.start, tz)
        row = [p.phase.label, f"{start:%H:%M}", duration(p.phase.end - p.phase.start)]
        for q in quantities:
            row += _cell(p.stats.get(q))
        rows.append(row)
    ax.set_title("Summary per phase", fontsize=10, loc="left", pad=14)  # clear of the time axis above
    widths = [0.17, 0.06, 0.09] + [0.14, 0.11] * len(quantities)
    table = ax.table(
        cellText=rows, colLabels=columns, cellLoc="left", colWidths=widths, bbox=Bbox.from_bounds(0, 0, 1, 1)
    )
    _style(table, bold_last=True)


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
    widths = [0.08, 0.14, 0.07, 0.1, 0.14, 0.13, 0.2]
    _style(
        ax.table(cellText=rows, colLabels=columns, cellLoc="left", colWidths=widths, bbox=Bbox.from_bounds(0, 0, 1, 1)),
        bold_last=False,
    )


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
    table.set_fontsize(7.5)
    cells = table.get_celld()
    last = max(r for r, _ in cells)
    for (r, _c), cell in cells.items():
        cell.set_edgecolor("#cccccc")
        if r == 0 or (bold_last and r == last):
            cell.set_text_props(weight="bold")
        if r == 0:
            cell.set_facecolor("#eeeeee")

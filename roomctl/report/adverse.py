"""The adverse events in the report: a table (time, category, severity, action, emergency services, the team's words)
and a mark on the heart-rate chart at each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from roomctl.report.data import EventPoint, SessionRecord
from roomctl.report.tables import _style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

MAX_ADVERSE_ROWS = 20
TEXT_CHARS = 70


def adverse_events(rec: SessionRecord) -> list[EventPoint]:
    return [e for e in rec.events if e.event == "adverse_event"]


def _words(value: object) -> str:
    return str(value).replace("_", " ") if value else "-"


def adverse_table(ax: Axes, events: list[EventPoint], tz: tzinfo) -> None:
    from matplotlib.transforms import Bbox

    ax.axis("off")
    ax.set_title(f"Adverse events ({len(events)})", fontsize=10, loc="left")
    rows = []
    for e in events[:MAX_ADVERSE_ROWS]:
        text = (e.text or "-").replace("\n", " ")
        rows.append(
            [
                f"{datetime.fromtimestamp(e.ts, tz):%H:%M}",
                _words(e.data.get("category")),
                _words(e.data.get("severity")),
                _words(e.data.get("action")),
                "called" if e.data.get("emergency_services") else "no",
                text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…",
            ]
        )
    if len(events) > MAX_ADVERSE_ROWS:
        rows.append(["...", "", "", "", "", f"{len(events) - MAX_ADVERSE_ROWS} more in the export"])
    columns = ["time", "category", "severity", "action taken", "emergency services", "notes"]
    widths = [0.06, 0.16, 0.09, 0.14, 0.13, 0.42]
    table = ax.table(
        cellText=rows, colLabels=columns, cellLoc="left", colWidths=widths, bbox=Bbox.from_bounds(0, 0, 1, 1)
    )
    _style(table, bold_last=False)


SEVERITY_COLOURS = {"mild": "#fdae61", "moderate": "#f46d43", "severe": "#d73027", "serious": "#a50026"}


def mark_adverse_events(ax: Axes, rec: SessionRecord, x: Callable[[float], float]) -> None:
    """A diamond at the top of the chart at each adverse event, coloured by severity; "AE" beside it."""
    for e in adverse_events(rec):
        at = x(e.ts)
        colour = SEVERITY_COLOURS.get(str(e.data.get("severity")), "#a50026")
        ax.plot(at, 0.9, "D", color=colour, ms=6, transform=ax.get_xaxis_transform(), clip_on=False)
        ax.text(at, 0.9, " AE", color=colour, fontsize=7, va="center", transform=ax.get_xaxis_transform())

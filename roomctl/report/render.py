"""The session report as one page (PDF or PNG): charts across the session, then the summary tables.

matplotlib (Agg backend) is imported here only, when a report is made, so the rest of roomctl starts fast.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from roomctl import __version__
from roomctl.errors import RoomctlError
from roomctl.models import Quantity
from roomctl.report.adverse import MAX_ADVERSE_ROWS, adverse_events, adverse_table, mark_adverse_events
from roomctl.report.checks import check_records, checks_line
from roomctl.report.data import Series, SessionRecord
from roomctl.report.limits import first_baselines
from roomctl.report.protocol import checklist_words, supplemental_words
from roomctl.report.summary import MAX_SAMPLE_S, AlarmSummary, Summary, summarise
from roomctl.report.tables import MAX_ALARM_ROWS, MAX_MUSIC_ROWS, alarm_table, duration, music_table, phase_table

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PRIORITY_COLOURS = {"high": "#d62728", "medium": "#e6a700", "low": "#17becf"}
TREND_POINTS = 2000
MAX_LIMITS_LISTED = 4
"""Limits set for the session named in the header; the rest are counted (the events in the record list them all)."""
MIN_BAR_FRACTION = 0.003
"""An alarm bar is drawn at its true length, but at least this fraction of the chart's width (about 3 px of the page's
1000: a tick), so a 1 s alarm in an 8-hour session can be seen; never a fixed time, which would make a 3 s finger-off
look as long as a 20 s stretch without data in a 2-minute session."""
PAGE_WIDTH_IN = 11.69
"""A4 landscape."""


def _x(ts: float) -> float:
    """Unix seconds to matplotlib's date numbers (days since its 1970 epoch)."""
    return ts / 86400.0


def _xs(s: Series, *, gaps: bool = True) -> tuple[list[float], list[float]]:
    """Chart points; a missing or invalid value becomes NaN so the line shows a gap, never a made-up value. With
    ``gaps``, a NaN is also put between two readings further apart than ``MAX_SAMPLE_S`` (a wearable away, say):
    the line breaks there instead of running straight across time without data."""
    xs: list[float] = []
    ys: list[float] = []
    last: float | None = None
    for t, v, q in zip(s.ts, s.values, s.quality, strict=True):
        if gaps and last is not None and t - last > MAX_SAMPLE_S:
            xs.append(_x((t + last) / 2))
            ys.append(math.nan)
        xs.append(_x(t))
        ys.append(math.nan if v is None or q == "invalid" else v)
        last = t
    return xs, ys


def render(rec: SessionRecord, out: Path, *, tz: tzinfo | None = None, site: str | None = None) -> Summary:
    """Draw the report for ``rec`` into ``out`` (.pdf or .png); returns the summary it shows."""
    if out.suffix.lower() not in (".pdf", ".png"):
        raise RoomctlError(f"{out}: the report is written as .pdf or .png")
    import matplotlib.pyplot as plt

    fig, summary = figure(rec, tz=tz, site=site)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return summary


def figure(rec: SessionRecord, *, tz: tzinfo | None = None, site: str | None = None) -> tuple[Figure, Summary]:
    """The report's figure (the caller saves and closes it) and the summary it shows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tz = tz or datetime.now().astimezone().tzinfo or UTC
    summary = summarise(rec)
    alarm_rows = min(len(summary.alarms), MAX_ALARM_ROWS) + (1 if len(summary.alarms) > MAX_ALARM_ROWS else 0)
    conditions = sorted({a.condition for a in summary.alarms})
    # Heights in inches, with the gaps as rows of their own (the page is as long as they add up to): what lies in a
    # gap (the time axis's labels, a table's title) gets the same room whatever the session's length.
    layout: list[tuple[str | None, float]] = [
        ("header", 1.7),
        (None, 0.5),  # three rows of phase labels above the charts
        ("hr", 2.6),
        (None, 0.35),
        ("spo2", 1.7),
        (None, 0.35),
        ("bp", 1.8),
        (None, 0.35),
        ("alarms", 0.35 + 0.22 * max(1, len(conditions))),
        (None, 0.75),  # the time axis's labels, then "Summary per phase"
        ("phases", 0.24 * (len(summary.phases) + 3)),  # the header row is two lines
        (None, 0.5),  # "Alarms (n)"
        ("alarm_table", 0.24 * (max(1, alarm_rows) + 1)),
    ]
    adverse = adverse_events(rec)
    if adverse:  # the adverse events, right after the alarms
        rows_ae = min(len(adverse), MAX_ADVERSE_ROWS) + (1 if len(adverse) > MAX_ADVERSE_ROWS else 0)
        layout += [(None, 0.5), ("adverse", 0.24 * (rows_ae + 1))]
    music_rows = min(len(rec.music), MAX_MUSIC_ROWS) + (1 if len(rec.music) > MAX_MUSIC_ROWS else 0)
    if rec.music:  # a room with music: what played when, last
        layout += [(None, 0.5), ("music", 0.24 * (music_rows + 1))]
    margin = 0.3
    height = sum(h for _, h in layout) + 2 * margin
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, height))
    grid = fig.add_gridspec(
        len(layout),
        1,
        height_ratios=[h for _, h in layout],
        hspace=0,
        left=0.1,
        right=0.93,
        top=1 - margin / height,
        bottom=margin / height,
    )
    rows = {name: i for i, (name, _) in enumerate(layout) if name is not None}
    header = fig.add_subplot(grid[rows["header"]])
    hr_ax = fig.add_subplot(grid[rows["hr"]])
    spo2_ax = fig.add_subplot(grid[rows["spo2"]], sharex=hr_ax)
    bp_ax = fig.add_subplot(grid[rows["bp"]], sharex=hr_ax)
    alarm_ax = fig.add_subplot(grid[rows["alarms"]], sharex=hr_ax)
    charts = [hr_ax, spo2_ax, bp_ax, alarm_ax]

    _header(header, rec, tz, site)
    for ax in charts:
        _phases_and_events(ax, rec, label=ax is hr_ax)
    _heart(hr_ax, rec)
    mark_adverse_events(hr_ax, rec, _x)
    _spo2(spo2_ax, rec)
    _bp_temperature(bp_ax, rec)
    least_s = MIN_BAR_FRACTION * (rec.end - rec.start)
    _alarm_strip(alarm_ax, summary.alarms, conditions, least_s)
    _mark_alarms(hr_ax, summary.alarms, ("heart_rate", "pulse"), least_s)
    _mark_alarms(spo2_ax, summary.alarms, ("spo2",), least_s)
    hr_ax.set_xlim(_x(rec.start), _x(rec.end))
    _time_axis(alarm_ax, rec, tz)
    for ax in charts[:-1]:
        ax.tick_params(labelbottom=False)
    phase_table(fig.add_subplot(grid[rows["phases"]]), summary, tz)
    alarm_table(fig.add_subplot(grid[rows["alarm_table"]]), summary.alarms, tz)
    if adverse:
        adverse_table(fig.add_subplot(grid[rows["adverse"]]), adverse, tz)
    if rec.music:
        music_table(fig.add_subplot(grid[rows["music"]]), rec.music, tz)
    return fig, summary


def _time_axis(ax: Axes, rec: SessionRecord, tz: tzinfo) -> None:
    """Clock times without repeats: seconds shown when ticks are less than a minute apart (a short session)."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(tz=tz, minticks=3, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    begin, end = mdates.num2date(_x(rec.start)), mdates.num2date(_x(rec.end))  # type: ignore[no-untyped-call]
    ticks = list(locator.tick_values(begin, end))  # type: ignore[no-untyped-call]
    step_s = min((b - a for a, b in itertools.pairwise(ticks)), default=1.0) * 86400
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M" if step_s >= 60 else "%H:%M:%S", tz=tz))  # type: ignore[no-untyped-call]


def _header(ax: Axes, rec: SessionRecord, tz: tzinfo, site: str | None) -> None:
    ax.axis("off")
    start = datetime.fromtimestamp(rec.start, tz)
    end = datetime.fromtimestamp(rec.end, tz)
    kind = rec.state.session_kind.value if rec.state.session_kind else rec.row.session_kind
    doses = ", ".join(f"{d.astimezone(tz):%H:%M}" for d in rec.state.dose_times) or "none recorded"
    ax.text(0, 1, f"{kind.capitalize()} session {rec.row.id}", fontsize=15, weight="bold", va="top")
    lines = [
        f"{start:%Y-%m-%d %H:%M} - {end:%H:%M} ({duration(rec.end - rec.start)}), times in {start:%Z}"
        + (f"   room: {site}" if site else ""),
        f"doses at {doses}{f' ({supplemental})' if (supplemental := supplemental_words(rec)) else ''}   |   patient / chart no.: ______________________ (by hand: roomctl keeps no patient identifiers)",
        discharge_line(rec, tz),
        "   |   ".join(p for p in (limits_line(rec, tz), checklist_words(rec)) if p),
        checks_line(rec),
        f"roomctl {__version__}; not a certified medical device. Made {datetime.now(tz):%Y-%m-%d %H:%M}.",
    ]
    ax.text(0, 0.72, "\n".join(lines), fontsize=8.5, va="top", linespacing=1.5)


def discharge_line(rec: SessionRecord, tz: tzinfo) -> str:
    """The recorded discharge check in one line (what the room's data showed and the team's two ticks)."""
    checks = [e for e in rec.events if e.event == "discharge_check"]
    if not checks:
        return "discharge check: none recorded"
    e = checks[-1]
    findings = "; ".join(str(f).removeprefix("ok: ") for f in e.data.get("findings", []))
    ticks = [
        label
        for key, label in (
            ("oriented_and_grounded", "oriented and grounded"),
            ("support_person_present", "support person present"),
        )
        if e.data.get(key)
    ]
    return f"discharge check passed {datetime.fromtimestamp(e.ts, tz):%H:%M}: {findings}; team: {', '.join(ticks)}"


PHASE_LABEL_ROWS = 3
CHAR_FRACTION = 0.0052
"""Width of one 6.5 pt character as a fraction of the charts' width (A4 landscape): to keep phase labels apart."""


def phase_label_rows(rec: SessionRecord) -> list[tuple[str, float, int]]:
    """(label, x as a fraction of the time axis, row) for each phase label that fits: labels are stacked in up to
    three rows above the chart, each starting where its phase starts; one that would overlap in every row is left out
    (the phase table lists every phase)."""
    span = max(rec.end - rec.start, 1e-9)
    row_ends = [-1.0] * PHASE_LABEL_ROWS
    placed = []
    for p in rec.phases:
        x = (p.start - rec.start) / span
        width = (len(p.label) + 1) * CHAR_FRACTION
        row = next((r for r, end in enumerate(row_ends) if end <= x), None)
        if row is None or x + width > 1.08:
            continue
        row_ends[row] = x + width
        placed.append((p.label, x, row))
    return placed


def standby_spans(rec: SessionRecord) -> list[tuple[float, float]]:
    """(start, end) of each break's monitoring standby, from its start and end events (the session's end if open)."""
    spans, began = [], None
    for e in rec.events:
        if e.event == "standby_start":
            began = e.ts
        elif e.event == "standby_end" and began is not None:
            spans.append((began, e.ts))
            began = None
    if began is not None:
        spans.append((began, rec.end))
    return spans


def _phases_and_events(ax: Axes, rec: SessionRecord, *, label: bool) -> None:
    for i, p in enumerate(rec.phases):
        ax.axvspan(_x(p.start), _x(p.end), color="#000000", alpha=0.04 if i % 2 else 0.0, lw=0)
    if label:
        for text, x, row in phase_label_rows(rec):
            ax.text(x, 1.02 + 0.085 * row, text, transform=ax.transAxes, fontsize=6.5, va="bottom", clip_on=False)
    starts = [e.ts for e in rec.events if e.event == "break_start"]
    ends = [e.ts for e in rec.events if e.event == "break_end"]
    for i, began in enumerate(starts):
        stop = ends[i] if i < len(ends) else rec.end
        ax.axvspan(_x(began), _x(stop), facecolor="none", edgecolor="#2ca02c", hatch="///", lw=0, alpha=0.35)
    for began, stop in standby_spans(rec):  # monitoring standby: the wearables' technical alarms were held
        ax.axvspan(_x(began), _x(stop), ymin=0.0, ymax=0.06, color="#9467bd", alpha=0.55, lw=0)
        if label:
            ax.text(_x(began), 0.07, " standby", transform=ax.get_xaxis_transform(), fontsize=6, color="#9467bd")
    for e in rec.events:
        if e.event in ("dose", "supplemental_dose"):
            ax.axvline(_x(e.ts), color="black", lw=1.1, ls="-" if e.event == "dose" else "--")
            if label:
                mg = f" {e.data['amount_mg']:g} mg" if e.data.get("amount_mg") else ""
                text = ("Dose" if e.event == "dose" else "Supplemental") + mg
                ax.text(_x(e.ts), 0.97, f" {text}", transform=ax.get_xaxis_transform(), fontsize=7, va="top")
        elif e.event == "note" and label:
            ax.plot(_x(e.ts), 0.0, marker="^", color="#555555", ms=5, transform=ax.get_xaxis_transform(), clip_on=False)


def _limits(ax: Axes, rec: SessionRecord, quantity: Quantity, colour: str) -> None:
    """The limits in force, as they were at each moment: a step where a baseline became known or a limit was set."""
    over_time = rec.limits.get(quantity)
    if over_time is None:
        return
    steps = [s for s in over_time.steps if s.start < rec.end]
    starts = [max(s.start, rec.start) for s in steps]
    xs = [_x(t) for t in (*starts, rec.end)]
    for values in ([s.low for s in steps], [s.high for s in steps]):
        ys = [math.nan if v is None else v for v in values]
        if all(math.isnan(y) for y in ys):
            continue
        ax.step(xs, [*ys, ys[-1]], where="post", color=colour, lw=0.8, ls=":", alpha=0.8)


def limits_line(rec: SessionRecord, tz: tzinfo) -> str:
    """The baseline the limits used and the limits set for the session, in one line for the header."""
    from roomctl.alarms.texts import QUANTITY_NAMES, with_unit

    def name(q: Quantity) -> str:
        return QUANTITY_NAMES.get(q, q.value).lower().replace("spo2", "SpO2")

    how = {"confirmed": "confirmed by the team", "entered": "entered by hand"}
    used = [
        f"{name(b.quantity)} {with_unit(b.value, b.quantity)} ({how.get(b.source, b.source)}"
        + (f", {b.device}" if b.device else "")
        + f", from {b.taken_at.astimezone(tz):%H:%M})"
        for b in first_baselines(rec.baselines).values()
    ]
    none = "no confirmed baseline: the room's absolute limits (as configured or set)"
    text = "baseline used: " + ("; ".join(used) if used else none)
    if rec.limits_set:
        changes = [
            f"{name(s.quantity)} {s.direction} {s.limit:g} ({datetime.fromtimestamp(s.ts, tz):%H:%M})"
            for s in rec.limits_set[:MAX_LIMITS_LISTED]
        ]
        more = len(rec.limits_set) - MAX_LIMITS_LISTED
        text += "   |   limits set for this session: " + ", ".join(changes) + (f" and {more} more" if more > 0 else "")
    return text


def _trend(ax: Axes, s: Series, colour: str, label: str, *, lw: float = 0.8) -> None:
    """Many readings become a median line in a min-max band (bins of about 15 s over 8 h); gaps stay gaps."""
    import numpy as np

    xs, ys = _xs(s)
    x, y = np.asarray(xs), np.asarray(ys)
    if len(x) > TREND_POINTS:
        edges = np.linspace(x[0], x[-1], TREND_POINTS + 1)
        index = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, TREND_POINTS - 1)
        centres = (edges[:-1] + edges[1:]) / 2
        groups = np.split(y, np.flatnonzero(np.diff(index)) + 1)
        present = np.unique(index)
        stats = np.full((TREND_POINTS, 3), np.nan)
        for i, g in zip(present, groups, strict=True):
            g = g[~np.isnan(g)]
            if len(g):
                stats[i] = (g.min(), np.median(g), g.max())
        ts = np.asarray(s.ts)
        breaks = np.flatnonzero(np.diff(ts) > MAX_SAMPLE_S)  # a gap narrower than a bin still breaks the line
        if len(breaks):
            middles = _x(1.0) * (ts[breaks] + ts[breaks + 1]) / 2
            at = np.searchsorted(centres, middles)
            centres = np.insert(centres, at, middles)
            stats = np.insert(stats, at, np.nan, axis=0)
        ax.fill_between(centres, stats[:, 0], stats[:, 2], color=colour, alpha=0.25, lw=0)
        ax.plot(centres, stats[:, 1], color=colour, lw=lw, label=f"{label} (median, min-max band)")
    else:
        ax.plot(x, y, color=colour, lw=lw, label=label)


def _heart(ax: Axes, rec: SessionRecord) -> None:
    for q, colour, label in (
        (Quantity.PULSE_RATE, "#999999", "pulse (oximeter)"),
        (Quantity.HEART_RATE, "#b2182b", "heart rate"),
    ):
        s = rec.get(q)
        if s.ts:
            _trend(ax, s, colour, label)
    manual = rec.get(Quantity.PULSE_RATE, manual=True)
    if manual.ts:
        ax.plot(*_xs(manual), "o", color="#b2182b", ms=3, label="pulse (manual)")
    _limits(ax, rec, Quantity.HEART_RATE, "#b2182b")
    ax.set_ylabel("bpm")
    _legend(ax, "upper right")
    ax.grid(axis="y", alpha=0.3)


def _spo2(ax: Axes, rec: SessionRecord) -> None:
    s = rec.get(Quantity.SPO2)
    if s.ts:
        _trend(ax, s, "#2166ac", "SpO2")
        q = [
            (_x(t), v)
            for t, v, qual in zip(s.ts, s.values, s.quality, strict=True)
            if qual == "questionable" and v is not None
        ]
        if q:
            ax.plot(*zip(*q, strict=True), ".", color="#e08214", ms=3, label="questionable (artefact?)")
        valid = [v for v, qual in zip(s.values, s.quality, strict=True) if v is not None and qual != "invalid"]
        ax.set_ylim(min(85.0, *(valid or [85.0])) - 1, 100.5)
    _limits(ax, rec, Quantity.SPO2, "#2166ac")
    ax.set_ylabel("SpO2 %")
    _legend(ax, "lower right")
    ax.grid(axis="y", alpha=0.3)


def _legend(ax: Axes, loc: Literal["upper right", "lower right"]) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc=loc, fontsize=7, frameon=False)
    else:
        ax.text(0.5, 0.5, "no readings", transform=ax.transAxes, ha="center", va="center", fontsize=8, color="grey")


def _bp_temperature(ax: Axes, rec: SessionRecord) -> None:
    systolic, diastolic = (rec.get(q, manual=True) for q in (Quantity.SYSTOLIC, Quantity.DIASTOLIC))
    for manual in (True, False):
        sy, di = rec.get(Quantity.SYSTOLIC, manual), rec.get(Quantity.DIASTOLIC, manual)
        pairs = [
            (_x(t), a, b)
            for t, a, b in zip(sy.ts, sy.values, di.values, strict=False)
            if a is not None and b is not None
        ]
        if pairs:
            xs, hi, lo = zip(*pairs, strict=True)
            ax.vlines(xs, lo, hi, color="#542788", lw=1.2)
            ax.plot(xs, hi, "v", color="#542788", ms=4, label="systolic" if manual else None)
            ax.plot(xs, lo, "^", color="#542788", ms=4, label="diastolic" if manual else None)
    _limits(ax, rec, Quantity.SYSTOLIC, "#542788")
    _check_marks(ax, rec)
    ax.set_ylabel("BP mmHg")
    ax.grid(axis="y", alpha=0.3)
    temp = ax.twinx()
    for manual in (True, False):
        t = rec.get(Quantity.TEMPERATURE, manual)
        if t.ts:
            temp.plot(*_xs(t), "o", color="#c51b7d", ms=3.5, label="temperature" if manual else None)
    _limits(temp, rec, Quantity.TEMPERATURE, "#c51b7d")
    temp.set_ylim(35.5, 39.5)
    temp.set_ylabel("°C", color="#c51b7d")
    if systolic.ts or diastolic.ts:
        ax.set_ylim(40, max(180.0, *(v for v in systolic.values if v is not None)) + 10)
    handles = ax.get_legend_handles_labels()[0] + temp.get_legend_handles_labels()[0]
    if handles:
        ax.legend(handles=handles, loc="upper right", fontsize=7, frameon=False, ncols=3)
    if not (systolic.ts or diastolic.ts or rec.get(Quantity.SYSTOLIC).ts):
        ax.text(
            0.5,
            0.5,
            "no blood pressure entered",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=8,
            color="grey",
        )


CHECK_MARKS = {"on time": ("o", "#1a9641"), "late": ("s", "#fdae61"), "not done": ("x", "#d7191c")}


def _check_marks(ax: Axes, rec: SessionRecord) -> None:
    """Each vitals check at its time along the chart's foot: on time, late, or due and not done (at its due time)."""
    marks: dict[str, list[float]] = {k: [] for k in CHECK_MARKS}
    for e in check_records(rec):
        if not e.data.get("done"):
            due = e.data.get("due_at")
            at = datetime.fromisoformat(due).timestamp() if isinstance(due, str) else e.ts
            marks["not done"].append(_x(at))
        else:
            marks["on time" if e.data.get("on_time") else "late"].append(_x(e.ts))
    for name, xs in marks.items():
        if xs:
            marker, colour = CHECK_MARKS[name]
            label = f"check {name}"
            ax.plot(xs, [0.04] * len(xs), marker, color=colour, ms=4, transform=ax.get_xaxis_transform(), label=label)


def bar_s(alarm: AlarmSummary, least_s: float) -> float:
    """How long an alarm's bar is drawn: its true length, at least ``least_s`` (a fraction of the chart: a tick)."""
    return max(alarm.duration_s, least_s)


def _alarm_strip(ax: Axes, alarms: list[AlarmSummary], conditions: list[str], least_s: float) -> None:
    for row, condition in enumerate(conditions):
        for a in (a for a in alarms if a.condition == condition):
            ax.broken_barh(
                [(_x(a.raised), bar_s(a, least_s) / 86400)],
                (row + 0.15, 0.7),
                color=PRIORITY_COLOURS.get(a.priority, "grey"),
            )
    ax.set_yticks([r + 0.5 for r in range(len(conditions))], [c.replace("_", " ") for c in conditions], fontsize=7)
    ax.set_ylim(0, max(1, len(conditions)))
    ax.set_ylabel("alarms", fontsize=8)
    if not conditions:
        ax.text(0.5, 0.5, "no alarms", transform=ax.transAxes, ha="center", va="center", fontsize=8, color="grey")


def _mark_alarms(ax: Axes, alarms: list[AlarmSummary], prefixes: tuple[str, ...], least_s: float) -> None:
    for a in alarms:
        if a.condition.startswith(prefixes):
            end = a.raised + bar_s(a, least_s)
            ax.axvspan(_x(a.raised), _x(end), color=PRIORITY_COLOURS.get(a.priority, "grey"), alpha=0.25, lw=0)

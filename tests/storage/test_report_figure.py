"""The report reads right for a 2-minute, a 40-minute and an 8-hour session (synthetic, with the real alarm engine):
gaps in data are gaps in the line, the time axis has no repeated labels, phase labels do not overlap, no zero-length
phase rows, table headers fit their columns. Checked from the figure's own data; the PNGs are kept in
``tmp_path`` for a look."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.table import Table
from matplotlib.text import Text

from roomctl.models import Quantity
from roomctl.report.data import MIN_PHASE_S, Series, SessionRecord, load
from roomctl.report.render import MIN_BAR_FRACTION, figure, phase_label_rows, render
from roomctl.report.summary import summarise
from roomctl.report.synthetic import STRAP_OFF_S, fill_database
from roomctl.storage.database import Database
from tests import builders
from tests.storage.helpers import T0

LENGTHS = {"2 min": 2 / 60, "40 min": 40 / 60, "8 h": 8.0}


@pytest.fixture(scope="module", params=list(LENGTHS), ids=list(LENGTHS))
def record(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SessionRecord:
    db = Database(tmp_path_factory.mktemp("record") / "room.db")
    sid = fill_database(db, T0, hours=LENGTHS[request.param], rate_hz=1.0, seed=3)
    rec = load(db, sid)
    db.close()
    hr = rec.get(Quantity.HEART_RATE)  # the oximeter's pulse too: the summary table's widest (three vitals)
    pulse = [None if v is None else v + 1 for v in hr.values]
    rec.series[(Quantity.PULSE_RATE, False)] = Series(list(hr.ts), pulse, list(hr.quality))
    return rec


@pytest.fixture
def drawn(record: SessionRecord, tmp_path: Path) -> Iterator[Figure]:
    import matplotlib.pyplot as plt

    fig, _summary = figure(record, tz=UTC)
    fig.canvas.draw()  # lays out ticks, labels and tables as the saved page has them
    fig.savefig(tmp_path / "report.png", dpi=100)
    yield fig
    plt.close(fig)


def charts(fig: Figure) -> tuple[Axes, Axes, Axes, Axes]:
    _header, hr, spo2, bp, *rest = fig.axes
    return hr, spo2, bp, rest[0]


def heart_rate_line(fig: Figure) -> Line2D:
    hr = charts(fig)[0]
    return next(line for line in hr.get_lines() if str(line.get_label()).startswith("heart rate"))


def test_a_gap_in_data_is_a_gap_in_the_line(record: SessionRecord, drawn: Figure) -> None:
    line = heart_rate_line(drawn)
    xs = [float(x) * 86400 for x in np.asarray(line.get_xdata(), dtype=float)]
    ys = [float(y) for y in np.asarray(line.get_ydata(), dtype=float)]
    off_at, off_s = STRAP_OFF_S
    gaps = [record.start + h * 3600 + off_at for h in range(9) if record.start + h * 3600 + off_at + off_s < record.end]
    assert len(gaps) == {120: 0, 2400: 1, 28800: 8}[round(record.end - record.start)]
    for gap in gaps:
        before = max(i for i, x in enumerate(xs) if x < gap)
        after = min(i for i, x in enumerate(xs) if x > gap + off_s)
        between = ys[before + 1 : after]
        assert any(math.isnan(y) for y in between), f"the line runs across the strap's {off_s} s off at {gap}"
    finite = [y for y in ys if not math.isnan(y)]
    assert len(finite) > 0.9 * min(len(ys), 2000)  # and where there is data, there is a line


def test_time_axis_has_no_repeated_labels(record: SessionRecord, drawn: Figure) -> None:
    labels = [t.get_text() for t in charts(drawn)[3].get_xticklabels() if t.get_text()]
    assert len(labels) >= 3
    assert len(labels) == len(set(labels)), labels
    if record.end - record.start < 600:
        assert all(len(label) == 8 for label in labels)  # 19:09:30: seconds on a short session


def _extents(texts: list[Text], fig: Figure) -> list[tuple[float, float, float, float]]:
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    return [tuple(t.get_window_extent(renderer).extents) for t in texts]  # type: ignore[misc]


def test_phase_labels_do_not_overlap_and_no_zero_length_phases(record: SessionRecord, drawn: Figure) -> None:
    ids = [p.id for p in record.phases]
    assert all(a != b for a, b in itertools.pairwise(ids))  # no duplicate rows
    assert all(p.end - p.start >= MIN_PHASE_S for p in record.phases)
    assert record.phases[0].start == record.start
    assert record.phases[-1].end == record.end
    hr = charts(drawn)[0]
    labels = [t for t in hr.texts if t.get_text() in {p.label for p in record.phases}]
    assert len(labels) == len(phase_label_rows(record)) >= 1
    boxes = _extents(labels, drawn)
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        for u0, v0, u1, v1 in boxes[i + 1 :]:
            assert x1 <= u0 or u1 <= x0 or y1 <= v0 or v1 <= y0, "two phase labels overlap"


def test_table_headers_fit_their_columns(drawn: Figure) -> None:
    """Every cell's text (headers first: "HR min/median/max" ran into "HR outside limits") inside its cell, measured as
    drawn on the A4-wide page, with the oximeter's pulse making three vitals."""
    renderer = drawn.canvas.get_renderer()  # type: ignore[attr-defined]
    tables = [t for ax in drawn.axes for t in ax.tables]
    assert tables
    assert drawn.get_figwidth() == pytest.approx(11.69)
    for table in tables:
        assert isinstance(table, Table)
        for (_row, _col), cell in table.get_celld().items():
            text = cell.get_text().get_window_extent(renderer)
            box = cell.get_window_extent(renderer)
            what = cell.get_text().get_text()
            assert box.x0 <= text.x0, f"{what!r} overflows its column"
            assert text.x1 <= box.x1, f"{what!r} overflows its column"
            assert box.y0 <= text.y0, f"{what!r} overflows its row"
            assert text.y1 <= box.y1, f"{what!r} overflows its row"


def _titled(fig: Figure, title: str) -> tuple[Axes, Text]:
    """The axes with this (left) title, and the title's text."""
    ax = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith(title))
    text = next(t for t in ax.get_children() if isinstance(t, Text) and t.get_text() == ax.get_title(loc="left"))
    return ax, text


def test_the_tables_titles_clear_the_time_axis_and_the_table_above(drawn: Figure) -> None:
    """The summary's title below the time axis's labels (it overlapped them), the alarm list's below the summary."""
    renderer = drawn.canvas.get_renderer()  # type: ignore[attr-defined]
    alarm_axis = charts(drawn)[3]
    labels = [t.get_window_extent(renderer) for t in alarm_axis.get_xticklabels() if t.get_text()]
    assert labels
    summary, summary_title = _titled(drawn, "Summary per phase")
    title = summary_title.get_window_extent(renderer)
    assert title.y1 < min(b.y0 for b in labels), "the summary's title overlaps the time axis's labels"
    _alarms, alarms_title = _titled(drawn, "Alarms (")
    below = alarms_title.get_window_extent(renderer)
    table = summary.tables[0].get_window_extent(renderer)
    assert below.y1 < table.y0, "the alarm list's title overlaps the summary table"


def test_phase_labels_clear_the_header(record: SessionRecord, drawn: Figure) -> None:
    renderer = drawn.canvas.get_renderer()  # type: ignore[attr-defined]
    header = drawn.axes[0]
    lowest = min(t.get_window_extent(renderer).y0 for t in header.texts)
    hr = charts(drawn)[0]
    labels = [t.get_window_extent(renderer) for t in hr.texts if t.get_text() in {p.label for p in record.phases}]
    assert labels
    assert max(b.y1 for b in labels) < lowest, "a phase label runs into the header's lines"


def _bars(ax: Axes) -> list[tuple[float, float]]:
    """(start, length) in seconds of each alarm bar on the alarm strip."""
    out = []
    for collection in ax.collections:
        for path in collection.get_paths():
            xs = np.asarray(path.vertices, dtype=float)[:, 0] * 86400
            out.append((float(xs.min()), float(xs.max() - xs.min())))
    return sorted(out)


def _with_alarms(rec: SessionRecord, alarms: list[tuple[float, float, str]]) -> SessionRecord:
    """``rec`` with these (offset s, length s, condition) technical alarms, raised and cleared."""
    from dataclasses import replace
    from datetime import timedelta

    from roomctl.models import AlarmAction

    events = []
    for i, (at, length, condition) in enumerate(alarms):
        raised = datetime.fromtimestamp(rec.start, UTC) + timedelta(seconds=at)
        events.append(builders.alarm_event(alarm_id=f"t{i}", condition=condition, ts=raised))
        ended = raised + timedelta(seconds=length)
        events.append(builders.alarm_event(AlarmAction.CLEARED, alarm_id=f"t{i}", condition=condition, ts=ended))
    return replace(rec, alarms=sorted(events, key=lambda e: e.ts))


def test_alarm_bars_are_drawn_at_their_true_length(record: SessionRecord) -> None:
    """A 3 s finger-off, an 8 s disconnection and a 20 s stretch without data look as long as they were (they were all
    drawn 20 s wide: in a 2-minute session the same bar); a 50 ms alarm still shows, as a tick of the chart's width."""
    import matplotlib.pyplot as plt

    span = record.end - record.start
    rec = _with_alarms(
        record, [(10, 3, "finger_off"), (30, 8, "device_disconnected"), (60, 20, "data_stale"), (90, 0.05, "spo2_low")]
    )
    fig, _ = figure(rec, tz=UTC)
    try:
        bars = _bars(charts(fig)[3])
        tick = MIN_BAR_FRACTION * span
        expected = [(rec.start + at, max(length, tick)) for at, length in ((10, 3), (30, 8), (60, 20), (90, 0.05))]
        assert len(bars) == 4
        for (start, length), (want_start, want_length) in zip(bars, expected, strict=True):
            assert start == pytest.approx(want_start, abs=1e-3)
            assert length == pytest.approx(want_length, rel=1e-6)
        assert bars[0][1] < bars[1][1] < bars[2][1] or span > 3000  # a long session: a few seconds are all a tick
        assert bars[3][1] == pytest.approx(tick)  # never 0 wide, never a fixed time
    finally:
        plt.close(fig)


def test_the_three_reports_are_written(record: SessionRecord, tmp_path: Path) -> None:
    out = tmp_path / f"report-{round(record.end - record.start)}s.png"
    summary = render(record, out, tz=UTC)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert summary.phases


def test_a_manual_blood_pressure_alarm_lasts_until_the_next_entry_inside_the_limit(
    record: SessionRecord, drawn: Figure
) -> None:
    entered = record.get(Quantity.SYSTOLIC, manual=True)
    alarms = [a for a in summarise(record).alarms if a.condition == "systolic_high"]
    if record.end - record.start > 4 * 3600:
        assert alarms  # the 8-hour session's blood pressure peaks above 160 after the doses
    for a in alarms:
        assert a.limit is not None
        limit = a.limit
        ended = next(
            t for t, v in zip(entered.ts, entered.values, strict=True) if t > a.raised and v is not None and v <= limit
        )
        assert a.raised + a.duration_s == pytest.approx(ended)
        assert not a.active_at_end
        assert not a.latched_at_end
    cells = [c.get_text().get_text() for ax in drawn.axes for t in ax.tables for c in t.get_celld().values()]
    assert not [c for c in cells if "at end" in c or "latched" in c]


def test_an_empty_blood_pressure_panel_says_so(tmp_path: Path) -> None:
    from datetime import timedelta

    from roomctl.models import SessionState
    from roomctl.storage.database import SessionRow

    db = Database(tmp_path / "room.db")
    state = SessionState(id="p1", started_at=T0, ended_at=T0 + timedelta(minutes=50))
    db.save_session(SessionRow("p1", "preparation", T0.timestamp(), T0.timestamp() + 3000, state.model_dump_json(), {}))
    fig, _ = figure(load(db, "p1"), tz=UTC)
    db.close()
    bp = charts(fig)[2]
    assert "no blood pressure entered" in [t.get_text() for t in bp.texts]
    hr = charts(fig)[0]
    assert "no blood pressure entered" not in [t.get_text() for t in hr.texts]


def test_a_breaks_standby_is_drawn_on_the_timeline(record: SessionRecord, drawn: Figure) -> None:
    """Issue 23 §2: the stretch in which a wearable's technical alarms were held is on the report, labelled."""
    from roomctl.report.render import standby_spans

    spans = standby_spans(record)
    if record.end - record.start < 4 * 3600:  # the synthetic day's first break is at 3 h 15 min
        assert spans == []
        return
    ((began, ended),) = spans
    starts = [e.ts for e in record.events if e.event == "break_start"]
    assert began == starts[0]
    assert ended - began == pytest.approx(10.5 * 60, abs=2)  # the break, and half a minute to come back
    labels = [t for ax in charts(drawn) for t in ax.texts if t.get_text() == " standby"]
    assert labels

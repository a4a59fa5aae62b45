"""The report reads right for a 2-minute, a 40-minute and an 8-hour session (synthetic, with the real alarm engine):
gaps in data are gaps in the line, the time axis has no repeated labels, phase labels do not overlap, no zero-length
phase rows, table headers fit their columns. Checked from the figure's own data; the PNGs are kept in
``tmp_path`` for a look."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.table import Table
from matplotlib.text import Text

from roomctl.models import Quantity
from roomctl.report.data import MIN_PHASE_S, SessionRecord, load
from roomctl.report.render import figure, phase_label_rows, render
from roomctl.report.summary import summarise
from roomctl.report.synthetic import STRAP_OFF_S, fill_database
from roomctl.storage.database import Database
from tests.storage.helpers import T0

LENGTHS = {"2 min": 2 / 60, "40 min": 40 / 60, "8 h": 8.0}


@pytest.fixture(scope="module", params=list(LENGTHS), ids=list(LENGTHS))
def record(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SessionRecord:
    db = Database(tmp_path_factory.mktemp("record") / "room.db")
    sid = fill_database(db, T0, hours=LENGTHS[request.param], rate_hz=1.0, seed=3)
    rec = load(db, sid)
    db.close()
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
    renderer = drawn.canvas.get_renderer()  # type: ignore[attr-defined]
    tables = [t for ax in drawn.axes for t in ax.tables]
    assert tables
    for table in tables:
        assert isinstance(table, Table)
        for (row, _col), cell in table.get_celld().items():
            if row == 0:
                text = cell.get_text().get_window_extent(renderer)
                box = cell.get_window_extent(renderer)
                assert text.width <= box.width, f"header {cell.get_text().get_text()!r} overflows its column"


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

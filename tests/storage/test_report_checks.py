"""The vitals checks in the report: "checks on time: n of m" in the header, each check marked on the blood-pressure
chart (on time, late, not done), and the checks in the export. A synthetic 8-hour day (its checks follow the real
schedule; two are done late)."""

from __future__ import annotations

import io
import json
from datetime import UTC
from pathlib import Path

import numpy as np
import pytest
from matplotlib.lines import Line2D

from roomctl.report.checks import checks_line
from roomctl.report.data import SessionRecord, load
from roomctl.report.export import export
from roomctl.report.render import CHECK_MARKS, figure
from roomctl.report.synthetic import LATE_CHECKS, fill_database
from roomctl.storage.database import Database
from tests.storage.helpers import T0


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("day") / "room.db"
    db = Database(path)
    sid = fill_database(db, T0, hours=8.0, rate_hz=0.2, seed=5)
    db.close()
    return path, sid


@pytest.fixture
def record(day: tuple[Path, str]) -> SessionRecord:
    db = Database(day[0])
    try:
        return load(db, day[1])
    finally:
        db.close()


def test_the_header_says_how_many_checks_were_on_time(record: SessionRecord) -> None:
    checks = [e for e in record.events if e.event == "vitals_check"]
    # 2 h at 15 min after each of the two doses, 30 min otherwise: well over the 16 of a fixed half-hour interval
    assert len(checks) > 16
    late = [e for e in checks if not e.data["on_time"]]
    assert len(late) == len(LATE_CHECKS)
    assert all(e.data["late_min"] > 10 for e in late)
    line = checks_line(record)
    assert line.startswith(
        f"checks on time: {len(checks) - 2} of {len(checks)} (late: 2, not done: 0; on time = done within 10 min of due)"
    )
    ratings = sorted(e.data["rating"] for e in record.events if e.event == "distress")
    assert line.endswith(f"; distress {ratings[0]}-{ratings[-1]} of 10")


def test_each_check_is_marked_on_the_blood_pressure_chart(record: SessionRecord, tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, _ = figure(record, tz=UTC)
    fig.savefig(tmp_path / "report.png", dpi=100)
    bp = fig.axes[3]
    header = fig.axes[0]
    marks = {
        str(line.get_label()): np.asarray(line.get_xdata(), dtype=float).size
        for line in bp.get_lines()
        if isinstance(line, Line2D)
    }
    plt.close(fig)
    checks = [e for e in record.events if e.event == "vitals_check"]
    assert marks["check on time"] == len(checks) - 2
    assert marks["check late"] == 2
    assert "check not done" not in marks
    assert set(CHECK_MARKS) == {"on time", "late", "not done"}
    assert any("checks on time" in t.get_text() for t in header.texts)


def test_a_day_with_no_checks_says_so(record: SessionRecord) -> None:
    record.events = [e for e in record.events if e.event not in ("vitals_check", "distress")]
    assert checks_line(record) == "vitals checks: none recorded"


def test_the_export_has_the_checks_and_the_distress_ratings(day: tuple[Path, str]) -> None:
    db = Database(day[0])
    out = io.StringIO()
    try:
        export(db, day[1], "json", out)
    finally:
        db.close()
    events = json.loads(out.getvalue())["events"]
    checks = [e for e in events if e["event"] == "vitals_check"]
    assert checks
    assert {"due_at", "on_time", "late_min", "blood_pressure", "temperature", "distress"} <= set(checks[0]["data"])
    assert any(e["event"] == "distress" for e in events)

"""Export (CSV, JSON) and the report (PNG/PDF) of an emulated, time-accelerated 8-hour dosing session."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from roomctl.cli.main import main
from roomctl.models import AlarmAction, AlarmEvent, Quantity, SessionState
from roomctl.report.data import load
from roomctl.report.export import CSV_COLUMNS, export
from roomctl.report.summary import summarise
from roomctl.report.synthetic import fill_database
from roomctl.storage.database import Database, SessionRow
from roomctl.storage.rows import RowMaker
from tests.builders import alarm_event
from tests.storage.helpers import T0, reading


@pytest.fixture(scope="module")
def eight_hours(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("record") / "room.db"
    db = Database(path)
    session_id = fill_database(db, T0, hours=8.0, rate_hz=1.0, seed=7)
    db.close()
    return path, session_id


def test_csv_export_has_every_record_in_time_order(eight_hours: tuple[Path, str]) -> None:
    path, sid = eight_hours
    db = Database(path, readonly=True)
    out = io.StringIO()
    n = export(db, sid, "csv", out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == CSV_COLUMNS
    body = rows[1:]
    assert len(body) == n
    kinds = [r[1] for r in body]
    assert kinds.count("reading") == len(list(db.readings(sid)))
    assert kinds.count("event") == len(db.events(sid))
    assert kinds.count("alarm") == len(db.alarm_events(sid))
    stamps = [r[0] for r in body]
    assert stamps == sorted(stamps)
    missing = [r for r in body if r[1] == "reading" and r[2] == "spo2" and r[3] == ""]
    assert missing
    assert all(r[6] == "invalid" for r in missing)  # a missing value is empty, never a number
    assert any(r[2] == "dose" and "amount_mg=120" in r[7] for r in body)


def test_json_export_round_trips(eight_hours: tuple[Path, str], tmp_path: Path) -> None:
    path, sid = eight_hours
    out = tmp_path / "s.json"
    assert main(["session", "export", sid[:6], "--db", str(path), "--format", "json", "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    db = Database(path, readonly=True)
    assert data["format"] == "roomctl-session"
    assert data["session"]["id"] == sid
    assert len(data["readings"]) == len(list(db.readings(sid)))
    assert len(data["events"]) == len(db.events(sid))
    assert {a["action"] for a in data["alarms"]} >= {"raised", "cleared"}
    assert data["readings"][0]["ts"].endswith("Z")


def test_session_list_and_clear_errors(
    eight_hours: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, sid = eight_hours
    assert main(["session", "list", "--db", str(path)]) == 0
    listing = capsys.readouterr().out
    assert sid in listing
    assert "dosing" in listing
    assert main(["session", "list", "--db", str(tmp_path / "absent.db")]) == 1
    assert "no such database" in capsys.readouterr().err
    assert main(["session", "report", "ffffffff", "--db", str(path)]) == 1
    assert "no session 'ffffffff'" in capsys.readouterr().err


def test_report_png_and_pdf_are_made(eight_hours: tuple[Path, str], tmp_path: Path) -> None:
    path, sid = eight_hours
    png, pdf = tmp_path / "report.png", tmp_path / "report.pdf"
    assert main(["session", "report", sid, "--db", str(path), "-o", str(png), "--utc"]) == 0
    assert main(["session", "report", sid, "--db", str(path), "-o", str(pdf)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 100_000  # charts and tables, not an empty page
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 30_000


def test_summary_reflects_the_session(eight_hours: tuple[Path, str]) -> None:
    path, sid = eight_hours
    db = Database(path, readonly=True)
    record = load(db, sid)
    summary = summarise(record)
    by_phase = {p.phase.id: p.stats for p in summary.phases}
    assert list(by_phase)[:3] == ["arrival", "intentions", "dose"]
    arrival, active = by_phase["arrival"][Quantity.HEART_RATE], by_phase["active"][Quantity.HEART_RATE]
    assert arrival.median is not None
    assert active.median is not None
    assert active.median > arrival.median + 20  # heart rate rises after the dose
    raised = sum(1 for *_x, action, _p in db.alarm_events(sid) if action == "raised")
    assert len(summary.alarms) == raised
    assert all(a.duration_s > 0 for a in summary.alarms)
    whole = summary.whole.stats[Quantity.SPO2]
    assert whole.min is not None
    assert whole.min < 90  # the artefacts are in the numbers, flagged in the chart


def test_time_outside_limits_counts_seconds(tmp_path: Path) -> None:
    db = Database(tmp_path / "room.db")
    maker = RowMaker("s1")
    values = [80.0] * 10 + [130.0] * 15 + [80.0] * 10  # 15 s above the 120 bpm limit
    rows = [
        maker.make(reading(i, ts=T0 + timedelta(seconds=i)).model_copy(update={"value": v}), 0)
        for i, v in enumerate(values)
    ]
    db.write_batch([r for r in rows if r is not None], 0)
    db.save_session(
        SessionRow("s1", "dosing", T0.timestamp(), T0.timestamp() + 35, SessionState(id="s1").model_dump_json(), {})
    )
    stats = summarise(load(db, "s1")).whole.stats[Quantity.HEART_RATE]
    assert stats.outside_s == pytest.approx(15.0)
    assert (stats.min, stats.median, stats.max) == (80.0, 80.0, 130.0)


def test_a_session_without_readings_still_gets_a_report(tmp_path: Path) -> None:
    db = Database(tmp_path / "room.db")
    state = SessionState(id="p1", started_at=T0, ended_at=T0 + timedelta(minutes=50))
    db.save_session(SessionRow("p1", "preparation", T0.timestamp(), T0.timestamp() + 3000, state.model_dump_json(), {}))
    db.close()
    out = tmp_path / "p1.png"
    assert main(["session", "report", "p1", "--db", str(tmp_path / "room.db"), "-o", str(out)]) == 0
    assert out.stat().st_size > 20_000
    assert main(["session", "report", "p1", "--db", str(tmp_path / "room.db"), "-o", str(tmp_path / "p1.txt")]) == 1


def test_an_alarm_lasts_as_long_as_its_condition_and_one_latched_at_the_end_says_so(tmp_path: Path) -> None:
    db = Database(tmp_path / "room.db")
    maker = RowMaker("s1")

    def at(action: AlarmAction, alarm_id: str, s: float) -> AlarmEvent:
        return alarm_event(action, alarm_id=alarm_id, condition="systolic_high", ts=T0 + timedelta(seconds=s))

    events = [
        at(AlarmAction.RAISED, "a1", 0),
        at(AlarmAction.LATCHED, "a1", 1800),  # the next entry was inside the limit; nobody had acknowledged
        at(AlarmAction.CLEARED, "a1", 2000),  # acknowledged: only now off the screen
        at(AlarmAction.RAISED, "a2", 3600),
        at(AlarmAction.LATCHED, "a2", 5400),  # never acknowledged before the record ends
        at(AlarmAction.RAISED, "a3", 6000),  # still going at the end
    ]
    db.write_batch([r for e in events if (r := maker.make(e, 0)) is not None], 0)
    state = SessionState(id="s1").model_dump_json()
    db.save_session(SessionRow("s1", "dosing", T0.timestamp(), T0.timestamp() + 7200, state, {}))
    alarms = summarise(load(db, "s1")).alarms
    assert [(a.duration_s, a.active_at_end, a.latched_at_end) for a in alarms] == [
        (1800.0, False, False),
        (1800.0, False, True),
        (1200.0, True, False),
    ]

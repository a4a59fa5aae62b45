"""Report generation time for an emulated, time-accelerated 8-hour dosing session (1 Hz heart rate and SpO2).

Prints how long filling the database took, then loading, summarising and drawing the report (PNG and PDF), wall and
CPU time. Run: .venv/bin/python bench/bench_report.py [--keep DIR] (with --keep the database and reports stay in DIR).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from _budget import cpu_seconds

from roomctl.report.data import load
from roomctl.report.render import render
from roomctl.report.synthetic import fill_database
from roomctl.storage.database import Database

T = TypeVar("T")


def timed(label: str, fn: Callable[..., T], *args: object) -> T:
    w0, c0 = time.perf_counter(), cpu_seconds()
    result = fn(*args)
    print(f"{label}: {time.perf_counter() - w0:.2f} s wall, {cpu_seconds() - c0:.2f} s CPU")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", type=Path, help="write the database and reports here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        db_path = folder / "eight-hours.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        db = Database(db_path)
        sid = timed("fill 8 h session (1 Hz)", fill_database, db, datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
        print(
            f"  session {sid}: {db.count('readings')} readings, {db.count('events')} events, {db.count('alarms')} alarm events"
        )
        db.close()
        ro = Database(db_path, readonly=True)
        record = timed("load from database", load, ro, sid)
        for suffix in ("png", "pdf"):
            out = folder / f"report.{suffix}"
            timed(f"report {suffix} (load excluded)", render, record, out)
            print(f"  {out.name}: {out.stat().st_size / 1024:.0f} KiB")
        w0, c0 = time.perf_counter(), cpu_seconds()
        render(load(ro, sid), folder / "report-total.pdf")
        print(
            f"report end to end (load + summary + PDF): {time.perf_counter() - w0:.2f} s wall, {cpu_seconds() - c0:.2f} s CPU"
        )


if __name__ == "__main__":
    main()

"""SIGKILL mid-session: every reading accepted more than 1 s before the kill is on disk, the file is sound, and the
session resumes on restart. The child runs the real hub, storage writer and session manager (tests/storage/kill_child.py).
"""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

CHILD = Path(__file__).with_name("kill_child.py")
ROOT = Path(__file__).resolve().parents[2]


def readline(proc: subprocess.Popen[bytes], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, f"the child said nothing for {timeout} s"
    return proc.stdout.readline().decode()


def run_child(db: Path, run_s: float) -> tuple[str, list[tuple[float, float]], float]:
    """Start the child, let it run ``run_s`` after its session line, SIGKILL it; return its session line,
    the accepted readings (ts, monotonic) and the monotonic time of the kill."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(CHILD), str(db), "100"], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    try:
        first = readline(proc, 60)
        assert first.startswith("session "), first
        accepted: list[tuple[float, float]] = []
        deadline = time.monotonic() + run_s
        while time.monotonic() < deadline:
            _, ts, mono = readline(proc, 30).split()
            accepted.append((float(ts), float(mono)))
        killed_at = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        for line in proc.stdout.read().decode().splitlines():  # lines already in the pipe
            _, ts, mono = line.split()
            accepted.append((float(ts), float(mono)))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return first.strip(), accepted, killed_at


def on_disk(db: Path) -> tuple[set[float], str]:
    conn = sqlite3.connect(db)
    try:
        stored = {r[0] for r in conn.execute("SELECT ts FROM readings WHERE device = 'gen-strap'")}
        return stored, conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_sigkill_loses_nothing_older_than_one_second_and_session_resumes(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    first, accepted, killed_at = run_child(db, run_s=3.0)
    _, sid, phase, resumed, doses = first.split()
    assert (phase, resumed, doses) == ("onset", "False", "1")

    must_have = {ts for ts, mono in accepted if mono < killed_at - 1.0}
    assert len(must_have) > 100  # the test saw real traffic
    stored, integrity = on_disk(db)
    assert integrity == "ok"
    missing = must_have - stored
    assert not missing, f"{len(missing)} of {len(must_have)} readings accepted >1 s before the kill are not on disk"

    # restart: the session is taken up where it was, and the record goes on
    second, accepted2, killed_at2 = run_child(db, run_s=1.5)
    assert second == f"session {sid} onset True 1"
    stored2, integrity2 = on_disk(db)
    assert integrity2 == "ok"
    assert must_have <= stored2
    assert {ts for ts, mono in accepted2 if mono < killed_at2 - 1.0} <= stored2

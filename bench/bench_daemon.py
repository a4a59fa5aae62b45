"""The daemon's CPU and memory over a demo run: ``roomctl demo --headless`` with the real daemon and emulated wearables.

Samples the daemon process (the ``roomctl run`` child of the demo) from /proc every few seconds once it is monitoring:
CPU as a share of one core (and per stored reading), resident memory at start, peak and end (growth shows a leak).

    .venv/bin/python bench/bench_daemon.py                 # 60 s
    .venv/bin/python bench/bench_daemon.py --duration 600  # the 10-minute figure in docs/operations.md
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SETTLE_S = 10.0  # leave start-up (imports, connects) out of the steady-state figures


def daemon_pid(state_dir: Path, timeout_s: float = 60) -> int:
    needle = f"run --config {state_dir}".encode()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if needle in (entry / "cmdline").read_bytes().replace(b"\0", b" "):
                        return int(entry.name)
                except OSError:
                    continue
        time.sleep(0.2)
    raise SystemExit("the demo's daemon did not start")


def sample(pid: int) -> tuple[float, float, int]:
    """(monotonic time, CPU seconds, RSS bytes) of ``pid``."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    rss = int(fields[21]) * PAGE
    return time.monotonic(), cpu, rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of demo (default 60)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--mqtt", metavar="HOST[:PORT]", help="also publish to this broker (as `roomctl demo --mqtt`)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="roomctl-bench-") as tmp:
        state = Path(tmp) / "state"
        demo = subprocess.Popen(
            [sys.executable, "-m", "roomctl", "demo", "--headless", "--state-dir", str(state)]
            + (["--mqtt", args.mqtt] if args.mqtt else []),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            pid = daemon_pid(state)
            time.sleep(SETTLE_S)
            samples = [sample(pid)]
            end = samples[0][0] + args.duration
            while (now := time.monotonic()) < end:
                time.sleep(min(args.interval, end - now))
                samples.append(sample(pid))
        finally:
            demo.send_signal(2)  # Ctrl+C: the demo stops the daemon cleanly
            status = demo.wait(60)
        with sqlite3.connect(state / "roomctl.db") as db:
            (readings,) = db.execute("select count(*) from readings").fetchone()
    (t0, c0, r0), (t1, c1, r1) = samples[0], samples[-1]
    peak = max(r for _, _, r in samples)
    span = t1 - t0
    mqtt = f", MQTT to {args.mqtt}" if args.mqtt else ", MQTT off"
    print(
        f"daemon over {span:.0f} s of `roomctl demo --headless` (after {SETTLE_S:.0f} s start-up), 2 wearables{mqtt}:"
    )
    print(f"  CPU: {c1 - c0:.2f} s = {100 * (c1 - c0) / span:.1f} % of one core")
    print(f"  readings stored in the whole run: {readings} (~{readings / (span + SETTLE_S):.1f}/s)")
    print(f"  RSS: start {r0 / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB, end {r1 / 2**20:.1f} MiB")
    growth = [f"{(r - r0) / 2**10:+.0f}" for _, _, r in samples[:: max(1, len(samples) // 10)]]
    print(f"  RSS growth over time (KiB): {' '.join(growth)}")
    print(f"  demo exit status: {status}")
    return 0 if status == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

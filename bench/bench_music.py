"""The daemon's CPU with the room's music on: ``roomctl demo --headless`` (its private MPD playing the demo's library),
against the same demo with ``--no-music``. Budget: the daemon with music stays at or under 1 % of one core in the
steady state (after the first phase's 120 s fade-in, while the playlist plays and tracks change every minute).

    .venv/bin/python bench/bench_music.py                  # fade-in window, then 120 s of steady state, each way
    .venv/bin/python bench/bench_music.py --steady 300

The music player never polls MPD: it waits on MPD's ``idle`` (one ``ping`` every 30 s); during a fade it sends a
volume step when the whole percent changes, at most 4 a second.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_daemon import daemon_pid, sample

BUDGET_PERCENT = 1.0
FADE_S = 120.0  # the demo's lighting.phase_fade_s: the first phase's music fades in over it
SETTLE_S = 10.0


def run(music: bool, steady_s: float) -> tuple[float, float]:
    """(CPU % of one core during the fade-in window, CPU % in the steady state) of the demo's daemon."""
    with tempfile.TemporaryDirectory(prefix="roomctl-bench-music-") as tmp:
        state = Path(tmp) / "state"
        demo = subprocess.Popen(
            [sys.executable, "-m", "roomctl", "demo", "--headless", "--state-dir", str(state)]
            + ([] if music else ["--no-music"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            pid = daemon_pid(state)
            started = time.monotonic()
            time.sleep(SETTLE_S)
            t0, c0, _ = sample(pid)
            time.sleep(max(0.0, started + FADE_S + SETTLE_S - time.monotonic()))
            t1, c1, _ = sample(pid)
            time.sleep(steady_s)
            t2, c2, _ = sample(pid)
        finally:
            demo.send_signal(2)
            status = demo.wait(60)
        if status != 0:
            raise SystemExit(f"the demo exited with status {status}")
    return 100 * (c1 - c0) / (t1 - t0), 100 * (c2 - c1) / (t2 - t1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steady", type=float, default=120.0, help="seconds of steady state measured (default 120)")
    args = parser.parse_args()
    fade_on, steady_on = run(True, args.steady)
    fade_off, steady_off = run(False, args.steady)
    print(f"daemon CPU, `roomctl demo --headless`, {args.steady:.0f} s steady state after a {FADE_S:.0f} s fade-in:")
    print(f"  with music:    fade-in {fade_on:.2f} %, steady {steady_on:.2f} % of one core")
    print(f"  --no-music:    fade-in {fade_off:.2f} %, steady {steady_off:.2f} % of one core")
    print(f"  music's share: fade-in {fade_on - fade_off:+.2f} %, steady {steady_on - steady_off:+.2f} % points")
    ok = steady_on <= BUDGET_PERCENT
    print(
        f"  budget: daemon with music <= {BUDGET_PERCENT:.1f} % of one core in the steady state: {'ok' if ok else 'OVER'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

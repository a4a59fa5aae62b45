"""The screen's CPU beside the daemon's, in the same run: `roomctl demo --headless` (the real daemon, 2 emulated
wearables, about 4 readings/s) and `roomctl tui` attached in a real terminal (tmux, 80x24).

Two windows: calm (no alarm), then with an unacknowledged alarm flashing (heart-rate limits
session with `set_limit` (20-40 bpm), so a medium alarm is raised and stays). CPU is user+system time from /proc over each window,
for the screen process and the daemon process. The bar: the screen at or below the daemon in both windows.

    .venv/bin/python bench/bench_tui.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_daemon import daemon_pid, sample

from roomctl.api.client import send_once
from roomctl.commands import SetLimit
from roomctl.models import Quantity

SETTLE_S = 10.0


def window(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Share of one core per process over ``seconds``."""
    first = {name: sample(pid) for name, pid in pids.items()}
    time.sleep(seconds)
    last = {name: sample(pid) for name, pid in pids.items()}
    return {name: 100 * (last[name][1] - first[name][1]) / (last[name][0] - first[name][0]) for name in pids}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each window (default 60)")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("bench_tui needs tmux (apt install tmux)")
    tmux = ["tmux", "-L", f"bench-tui-{os.getpid()}"]
    roomctl = Path(sys.executable).parent / "roomctl"
    with tempfile.TemporaryDirectory(prefix="roomctl-bench-") as tmp:
        state = Path(tmp) / "state"
        demo = subprocess.Popen(
            [sys.executable, "-m", "roomctl", "demo", "--headless", "--state-dir", str(state)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            daemon = daemon_pid(state)
            subprocess.run(
                [*tmux, "new-session", "-d", "-x", "80", "-y", "24", f"exec {roomctl} tui --socket {state}/api.sock"],
                check=True,
            )
            screen = int(
                subprocess.run([*tmux, "list-panes", "-F", "#{pane_pid}"], capture_output=True, text=True).stdout
            )
            time.sleep(SETTLE_S)  # start-up (imports, connects, the demo's session and dose) is not steady state
            pids = {"screen": screen, "daemon": daemon}
            calm = window(pids, args.seconds)
            limit = SetLimit(quantity=Quantity.HEART_RATE, low=20, high=40)
            result = asyncio.run(send_once(state / "api.sock", limit))
            if not result.ok:
                sys.exit(f"could not set the limit: {result.message}")
            time.sleep(SETTLE_S + 5)  # the condition delay, then the alarm flashes
            flashing = window(pids, args.seconds)
            shown = subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout
        finally:
            subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)
            demo.send_signal(2)
            demo.wait(60)
    alarm = next((line.strip() for line in shown.splitlines() if "**" in line), "(no alarm on the screen!)")
    print(f"roomctl tui (80x24, tmux) beside the daemon of `roomctl demo --headless`, {args.seconds:.0f} s windows")
    for name, figures in (("calm, no alarm", calm), ("alarm flashing", flashing)):
        ratio = figures["screen"] / figures["daemon"] if figures["daemon"] else float("inf")
        print(
            f"  {name:<15} screen {figures['screen']:5.2f} %  daemon {figures['daemon']:5.2f} % of one core"
            f"  -> screen/daemon {ratio:.2f} {'(at or below the bar)' if ratio <= 1 else '(ABOVE the bar)'}"
        )
    print(f"  banner after the second window: {alarm}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

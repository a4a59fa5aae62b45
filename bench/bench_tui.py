"""TUI CPU at rest: `roomctl tui` in a real terminal (tmux, 80x24) against a sandbox API server.

Scenarios: the server pushes 1 Hz readings (HR, SpO2, PR, PI); nothing changes (only the 1 s clock tick);
no daemon at all (the screen retries). CPU is the TUI process's user+system time from /proc over the window.

    .venv/bin/python bench/bench_tui.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def measure(rate: float | None, seconds: float, tmp: Path) -> tuple[float, float]:
    sock = tmp / f"api-{rate}.sock"
    server = None
    if rate is not None:
        server = subprocess.Popen(
            [sys.executable, "-m", "roomctl.api.sandbox", str(sock), "--rate", str(rate)], cwd=ROOT
        )
    tmux = ["tmux", "-L", f"bench-tui-{os.getpid()}"]
    roomctl = Path(sys.executable).parent / "roomctl"
    try:
        subprocess.run(
            [*tmux, "new-session", "-d", "-x", "80", "-y", "24", f"exec {roomctl} tui --socket {sock}"], check=True
        )
        pid = int(subprocess.run([*tmux, "list-panes", "-F", "#{pane_pid}"], capture_output=True, text=True).stdout)
        time.sleep(5)  # start-up (imports, first layout) is not "at rest"
        start_cpu, start = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        used, elapsed = cpu_seconds(pid) - start_cpu, time.monotonic() - start
        return used, elapsed
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)
        if server is not None:
            server.terminate()
            server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("bench_tui needs tmux (apt install tmux)")
    print(f"roomctl tui, 80x24 in tmux, {args.seconds:.0f} s windows after a 5 s warm-up")
    with tempfile.TemporaryDirectory() as tmp:
        for name, rate in (("1 Hz readings", 1.0), ("nothing changing", 0.0), ("no daemon (retrying)", None)):
            used, elapsed = measure(rate, args.seconds, Path(tmp))
            print(f"  {name:<22} {used:6.2f} s CPU in {elapsed:4.1f} s = {100 * used / elapsed:5.2f} % of one core")


if __name__ == "__main__":
    main()

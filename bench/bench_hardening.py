"""Issue 11's figures: the configuration line locator and check on huge headers, and the daemon against a local API
client that floods bad lines and never reads.

    .venv/bin/python bench/bench_hardening.py                # both
    .venv/bin/python bench/bench_hardening.py --only config  # the locator and `config check` only

The locator used to be quadratic (a 50,000-part header: 103 s); the flood used to grow the daemon from 56 MB to 438 MB
in 10 s and log every rejected line whole.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from roomctl.config import demo_config_text  # noqa: E402
from roomctl.config.locate import key_lines  # noqa: E402

BAD_LINE = b'{"type": "command", "id": "x", "command": {"command": "set_level", "level": "' + b"9" * 8000 + b'"}}\n'


def bench_config() -> None:
    print("config: a header of N dotted parts")
    print(f"{'parts':>8} {'key_lines':>10} {'config check':>13}")
    for parts in (12_500, 25_000, 50_000, 200_000):
        text = '[room]\nsite = "a"\nroom = "b"\n[' + ".".join(["a"] * parts) + "]\nx = 1\n"
        start = time.perf_counter()
        key_lines(text)
        locate_s = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "room.toml"
            path.write_text(text)
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "roomctl", "config", "check", str(path)], capture_output=True, text=True
            )
            check_s = time.perf_counter() - start
        assert done.returncode == 2, done.stderr
        print(f"{parts:>8} {locate_s * 1000:>8.1f} ms {check_s:>11.2f} s  (exit 2; includes interpreter start)")


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


def bench_flood() -> None:
    with tempfile.TemporaryDirectory() as d:
        state = Path(d)
        config = state / "room.toml"
        config.write_text(re.sub(r"\[\[wearables\]\].*?(?=\n\[lighting\])", "", demo_config_text(), flags=re.S))
        log_path = state / "daemon.log"
        with log_path.open("wb") as log:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "roomctl", "run", "--config", str(config)], stdout=log, stderr=log
            )
        try:
            sock_path = state / "api.sock"
            deadline = time.monotonic() + 60
            while not sock_path.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)
            before = rss_kib(daemon.pid)
            peak = before
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(str(sock_path))
            sock.settimeout(0.5)
            sent = 0
            start = time.monotonic()
            cut_after = None
            while time.monotonic() - start < 60:
                try:
                    sock.sendall(BAD_LINE)
                    sent += 1
                except TimeoutError:
                    pass  # the daemon stopped reading us: it waits for us to read its answers
                except OSError:
                    cut_after = time.monotonic() - start
                    break
                peak = max(peak, rss_kib(daemon.pid)) if sent % 50 == 0 else peak
            sock.close()
            after = rss_kib(daemon.pid)
            log_bytes = len(log_path.read_bytes())
            rejected = log_path.read_text().count("rejected a message")
        finally:
            daemon.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                daemon.wait(30)
    print("local API: one client sends 8 KB bad lines and never reads (no wearables, the old worst case)")
    print(f"  lines taken before the daemon stopped reading: {sent}")
    print(f"  cut off after: {cut_after:.1f} s" if cut_after is not None else "  NOT cut off within 60 s")
    print(f"  daemon RSS: {before / 1024:.1f} MiB before, peak {peak / 1024:.1f} MiB, {after / 1024:.1f} MiB after")
    print(f"  daemon log: {log_bytes} bytes in all, {rejected} 'rejected a message' line(s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["config", "flood"])
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.only in (None, "config"):
        bench_config()
    if args.only in (None, "flood"):
        bench_flood()


if __name__ == "__main__":
    main()

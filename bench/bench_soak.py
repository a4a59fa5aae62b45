"""Soak: the real daemon for a long run at 10x the demo's reading rate; memory growth, CPU and database size.

Everything real, as in bench_pipeline.py: a private dbus-daemon with the BlueZ emulator in its own process (one strap
whose notifications carry heart rate and an RR interval), a mosquitto on a free loopback port, ``roomctl run`` with MQTT,
SQLite and the local API, one API client reading every event, and a dosing session running throughout. The demo's two
wearables give about 3.8 stored events a second; ``--events-per-s 38`` (the default) is ten times that, so 60 minutes
of soak hold the readings of a 10-hour session.

Prints the daemon's RSS every ``--sample-s`` seconds, its growth over the last half of the run (the bar: <= 2 MiB over
the last 30 minutes of a 60-minute soak), its CPU as a share of one core, and the database size per session-hour
(session-hours = real hours x the speed-up).

    .venv/bin/python bench/bench_soak.py                   # 60 minutes: the figure in docs/performance.md
    .venv/bin/python bench/bench_soak.py --minutes 10      # a shorter look
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _pipeline_parts import ROOMCTL_ROOT, Broker, Child, Counters, proc_cpu, proc_memory
from bench_pipeline import room_toml, roomctl_on_strap

DEMO_EVENTS_PER_S = 3.8  # bench_daemon.py: the demo's stored readings per second


async def roomctl(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "roomctl", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"roomctl {' '.join(args)}: {out.decode().strip()}")
    return out.decode()


def db_bytes(state: Path) -> int:
    return sum(p.stat().st_size for p in state.glob("roomctl.db*"))


async def soak(args: argparse.Namespace) -> None:
    from roomctl.emulator import PrivateBus

    rate = args.events_per_s / 2  # each notification: a heart rate and an RR interval
    count = round(rate * args.minutes * 60)
    speedup = args.events_per_s / DEMO_EVENTS_PER_S
    with tempfile.TemporaryDirectory(prefix="roomctl-soak-") as folder:
        state = Path(folder)
        with PrivateBus() as bus, Broker(state) as broker:
            counters = Counters(broker.port)
            env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus.address}
            (state / "room.toml").write_text(room_toml(broker.port, 200.0))
            emulator = await Child.start("emulator", "--emulator", bus.address, "--rate", str(rate), "--rr", env=env)
            try:
                async with roomctl_on_strap(emulator, state, env) as (daemon, api_counts):
                    await roomctl("session", "start", "dosing", "--socket", str(state / "api.sock"))
                    db0 = db_bytes(state)
                    print(f"{args.minutes:g} min at {args.events_per_s:g} events/s ({speedup:.0f}x the demo): "
                          f"{count} notifications", flush=True)  # fmt: skip
                    samples: list[tuple[float, float, int]] = []  # (elapsed s, CPU s, RSS KiB)
                    start = time.monotonic()
                    sending = asyncio.create_task(emulator.say(f"send {count}"))
                    sent_task = asyncio.create_task(emulator.expect("sent", timeout_s=args.minutes * 60 * 2 + 120))
                    while not sent_task.done():
                        cpu = sum(proc_cpu(daemon.pid))
                        rss, _ = proc_memory(daemon.pid)
                        samples.append((time.monotonic() - start, cpu, rss))
                        elapsed, _, _ = samples[-1]
                        print(f"  {elapsed / 60:5.1f} min  RSS {rss / 1024:6.1f} MiB  CPU {cpu:7.1f} s", flush=True)
                        await asyncio.wait({sent_task}, timeout=args.sample_s)
                    await sending
                    sent = int(sent_task.result()[1])
                    await asyncio.sleep(2.0)  # the last flush and acknowledgements
                    cpu = sum(proc_cpu(daemon.pid))
                    rss, hwm = proc_memory(daemon.pid)
                    samples.append((time.monotonic() - start, cpu, rss))
                    await roomctl("session", "end", "--socket", str(state / "api.sock"))
            finally:
                await emulator.stop()
                counters.stop()
            hr = counters.counts[f"{ROOMCTL_ROOT}/vitals/heart_rate"]
            size = db_bytes(state) - db0
    wall = samples[-1][0]
    half = [s for s in samples if s[0] >= wall / 2]
    growth = (half[-1][2] - half[0][2]) / 1024
    session_h = wall / 3600 * speedup
    print()
    print(
        f"sent {sent} notifications in {wall / 60:.1f} min; MQTT heart rates {hr}, API readings {api_counts['reading']}"
    )
    print(
        f"RSS: start {samples[0][2] / 1024:.1f} MiB, end {samples[-1][2] / 1024:.1f} MiB, peak (VmHWM) {hwm / 1024:.1f} MiB"
    )
    print(f"RSS growth over the last {(wall - half[0][0]) / 60:.0f} min: {growth:+.2f} MiB")
    print(f"CPU: {100 * (samples[-1][1] - samples[0][1]) / wall:.2f} % of one core")
    print(f"database: {size / 2**20:.1f} MiB for {session_h:.1f} session-hours = {size / 2**20 / session_h:.2f} MiB per "
          "session-hour (readings, RR intervals, outbox)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the soak (default 60)")
    parser.add_argument("--events-per-s", type=float, default=10 * DEMO_EVENTS_PER_S, help="default 38: 10x the demo")
    parser.add_argument("--sample-s", type=float, default=30.0, help="seconds between samples (default 30)")
    asyncio.run(soak(parser.parse_args()))


if __name__ == "__main__":
    main()

"""A flooding strap against the real daemon: its CPU and the record's growth, next to the same strap at its normal rate.

A private dbus-daemon with the BlueZ emulator in its own process (one heart-rate strap, every notification with heart
rate and energy), and ``roomctl run`` (storage, alarms, local API; no MQTT) with the strap at its profile's rate bound.
Two phases of ``--seconds`` each: the strap at 1 notification a second, then flooding at ``--flood-hz`` (1,760, as seen
in the field). For each: the daemon's CPU as a share of one core (from /proc), readings stored and database bytes per
second (extrapolated to an hour), notifications sent and delivered (the emulator cannot deliver while roomctl has
unsubscribed), and the flood's steady state after the first ``--detect-s`` seconds (the flood is found within a few
one-second windows, then paced). ``--max-notify-hz 2000`` shows the same flood without the bound.

    .venv/bin/python bench/bench_flood.py [--seconds 30] [--flood-hz 1760] [--max-notify-hz 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if TYPE_CHECKING:
    from roomctl.emulator import Emulator

from _pipeline_parts import ADDRESS, HRM, Child, proc_cpu, roomctl_subscribed, strap_child

from tests.builders import room_toml


def room(max_notify_hz: float | None) -> str:
    """The room: the strap (``max_notify_hz``: its profile's rate bound unless given), storage and API, no MQTT."""
    strap: dict[str, str | float] = {"id": "strap", "profile": "heart_rate", "address": ADDRESS}
    if max_notify_hz:
        strap["max_notify_hz"] = max_notify_hz
    return room_toml(site="bench", room="flood", name=None, wearables=[strap], extra="[mqtt]\nenabled = false")


async def child(bus: str) -> None:
    """The strap: ``send HZ SECONDS`` floods (or trickles) heart rate and energy at HZ for SECONDS."""
    from roomctl.sensors.vendors import sig_heart_rate

    async def send(emu: Emulator, words: list[str]) -> str:
        hz, seconds = float(words[0]), float(words[1])
        batch = max(1, round(hz / 100))  # 100 wake-ups a second at most
        sent = delivered = 0
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            for _ in range(batch):
                sent += 1
                payload = sig_heart_rate.encode_heart_rate(72, (), contact=True, energy_kj=sent % 65536)
                delivered += emu.send(ADDRESS, HRM, payload)
            delay = start + sent / hz - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        return f"sent {sent} {delivered} {time.monotonic() - start:.3f}"

    await strap_child(bus, send)


def record(db: Path) -> tuple[int, int]:
    """(the strap's readings stored, bytes of the database in use): the WAL checkpointed first (PASSIVE: beside the
    daemon's writes), so the size is the record's, not the write-ahead log's."""
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        n = int(conn.execute("SELECT COUNT(*) FROM readings WHERE device = 'strap'").fetchone()[0])
        pages = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
        return n, int(pages) * int(conn.execute("PRAGMA page_size").fetchone()[0])


async def phase(strap: Child, pid: int, state: Path, hz: float, seconds: float, detect_s: float) -> None:
    async def mark() -> tuple[float, float, int, int]:
        await asyncio.sleep(0.6)  # the storage writer's batch reaches the disk
        n, size = record(state / "roomctl.db")
        return time.monotonic(), sum(proc_cpu(pid)), n, size

    t0, cpu0, n0, b0 = await mark()
    await strap.say(f"send {hz:g} {seconds:g}")
    steady: tuple[float, float, int, int] | None = None
    if hz > 10 and detect_s < seconds:
        await asyncio.sleep(detect_s)
        steady = await mark()
    _, sent, delivered, _took = await strap.expect("sent", timeout_s=120)
    t1, cpu1, n1, b1 = await mark()
    window = t1 - t0

    def line(what: str, t: float, cpu: float, n: int, b: int) -> str:
        wall = t1 - t
        return (
            f"  {what}: CPU {100 * (cpu1 - cpu) / wall:.1f} % of a core; {(n1 - n) / wall:.2f} readings stored/s; "
            f"record +{(b1 - b) / wall / 1024:.1f} KiB/s ({(b1 - b) / wall * 3600 / 2**20:.1f} MiB/h)"
        )

    print(f"strap at {hz:g} notifications/s for {window:.0f} s: sent {sent}, delivered {delivered}")
    print(line("whole phase", t0, cpu0, n0, b0))
    if steady is not None:
        print(line(f"after the first {detect_s:g} s", *steady))


async def main(args: argparse.Namespace) -> None:
    from roomctl.emulator import PrivateBus

    with PrivateBus() as bus, tempfile.TemporaryDirectory(prefix="roomctl-flood-") as folder:
        state = Path(folder)
        (state / "room.toml").write_text(room(args.max_notify_hz))
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus.address}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--child", bus.address, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        strap = Child(proc, "the emulator")
        try:
            async with roomctl_subscribed(strap, state, env, within_s=120) as daemon:
                await asyncio.sleep(3.0)  # past the start-up
                await phase(strap, daemon.pid, state, 1.0, args.seconds, args.detect_s)
                await phase(strap, daemon.pid, state, args.flood_hz, args.seconds, args.detect_s)
                await phase(strap, daemon.pid, state, 1.0, args.seconds, args.detect_s)  # and back
        finally:
            await strap.stop()
        text = (state / "daemon.log").read_text()
        for line in text.splitlines():
            if "too fast" in line or "within its rate" in line or "coalesced" in line:
                print("  daemon:", line.split(": ", 1)[-1][:160])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--flood-hz", type=float, default=1760.0)
    parser.add_argument("--detect-s", type=float, default=8.0)
    parser.add_argument(
        "--max-notify-hz", type=float, help="the strap's bound in the room configuration (2000: as good as none)"
    )
    parser.add_argument("--child", metavar="BUS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.child))
    else:
        asyncio.run(main(args))

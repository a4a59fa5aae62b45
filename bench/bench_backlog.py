"""The storage backlog's bound: how many minutes of a normal room wait in memory while the disk is away, at what RSS.

A normal room is the demo's: a chest strap (heart rate and RR intervals, 1 Hz each) and an oximeter (SpO2 and pulse
rate, 1 Hz each) — 4 stored rows a second (the demo measures 3.8: bench_daemon.py) — with an alarm raised and cleared
every 5 minutes and a session note every 10. The events go through the real hub and storage writer into a real Store
whose disk is full: a 32 MiB tmpfs filled up after the record opened (root only, as the tests). Time is simulated.

Prints the real bytes a waiting row costs (tracemalloc) against the backlog's estimate, then the RSS and the backlog
every 10 simulated minutes of a 90-minute outage, when the bound first sheds readings (the minutes that fit), and the
wall time of one failing write attempt with the backlog full (the retry runs every RETRY_S), and of the catching up
once the space is back.

    .venv/bin/python bench/bench_backlog.py
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from roomctl.clock import FakeClock
from roomctl.errors import StorageError
from roomctl.hub import Hub
from roomctl.models import (
    UNITS,
    Alarm,
    AlarmAction,
    AlarmCategory,
    AlarmEvent,
    HubEvent,
    Priority,
    Quantity,
    Reading,
    RRIntervals,
    SessionEvent,
    SessionEventKind,
    SessionState,
)
from roomctl.storage import backlog as backlog_module
from roomctl.storage.store import RETRY_S, Store
from roomctl.storage.writer import StorageWriter
from tests.storage.disks import fill, free, tmpfs

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
ROWS_PER_S = 4


def second_of_room(t: int, clock: FakeClock) -> list[HubEvent]:
    now = clock.now()
    events: list[HubEvent] = [
        Reading(
            quantity=Quantity.HEART_RATE, value=70 + t % 9, unit=UNITS[Quantity.HEART_RATE], device="strap", ts=now
        ),
        RRIntervals(device="strap", ts=now, intervals=(0.8564453125,)),
        Reading(quantity=Quantity.SPO2, value=97 + t % 3, unit=UNITS[Quantity.SPO2], device="oximeter", ts=now),
        Reading(
            quantity=Quantity.PULSE_RATE, value=71 + t % 7, unit=UNITS[Quantity.PULSE_RATE], device="oximeter", ts=now
        ),
    ]
    if t % 300 in (0, 40):
        alarm = Alarm(
            id=f"a{t // 300}",
            condition="heart_rate_high",
            category=AlarmCategory.PHYSIOLOGICAL,
            priority=Priority.MEDIUM,
            message="Heart rate high: 121 bpm (limit 120)",
            raised_at=now,
            quantity=Quantity.HEART_RATE,
            value=121,
        )
        action = AlarmAction.RAISED if t % 300 == 0 else AlarmAction.CLEARED
        events.append(AlarmEvent(action=action, alarm=alarm, ts=now))
    if t % 600 == 0:
        events.append(
            SessionEvent(id=f"n{t}", session="s1", event=SessionEventKind.NOTE, ts=now, text="patient resting")
        )
    return events


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def outage(disk: Path, minutes: int) -> None:
    clock = FakeClock(T0)
    hub = Hub()
    store = Store(disk / "roomctl.db", clock=clock, retry_s=1e9)  # one failing attempt, then memory only
    await store.open()
    writer = StorageWriter(store, hub, clock=clock)
    hub.publish(SessionState(id="s1", started_at=T0))
    await writer.flush()
    fill(disk)

    # what one waiting row really costs: tracemalloc over 10 simulated minutes
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    t = 0
    for t in range(600):
        for event in second_of_room(t, clock):
            hub.publish(event)
        await writer.flush()
        clock.advance(1.0)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    rows = len(store.backlog)
    payload = sum(len(s.row.payload) for s in store.backlog) / rows
    print(
        f"a waiting row: {held / rows:.0f} bytes in memory (tracemalloc; payload {payload:.0f} + "
        f"{held / rows - payload:.0f}); the bound's estimate: {store.backlog.bytes / rows:.0f} "
        f"(payload + ROW_OVERHEAD {backlog_module.ROW_OVERHEAD})"
    )
    print(
        f"bound: {backlog_module.MAX_BYTES / 2**20:.0f} MiB estimated or {backlog_module.MAX_AGE_S / 60:.0f} min, "
        f"at {ROWS_PER_S} rows/s + events"
    )
    rss0 = rss_mib()
    first_shed: float | None = None
    print(f"{'minute':>6} {'waiting rows':>12} {'estimate MiB':>12} {'shed':>6} {'RSS MiB':>8}")
    print(f"{10:>6} {len(store.backlog):>12} {store.backlog.bytes / 2**20:>12.2f} {0:>6} {rss0:>8.1f}")
    for t in range(600, minutes * 60):
        for event in second_of_room(t, clock):
            hub.publish(event)
        await writer.flush()
        clock.advance(1.0)
        if first_shed is None and store.backlog.shed_total:
            first_shed = t / 60
        if (t + 1) % 600 == 0:
            line = f"{(t + 1) // 60:>6} {len(store.backlog):>12} {store.backlog.bytes / 2**20:>12.2f}"
            print(f"{line} {store.backlog.shed_total:>6} {rss_mib():>8.1f}")
    print(f"readings first shed at minute {first_shed:.1f}" if first_shed else "nothing shed")
    print(f"RSS growth over the outage: {rss_mib() - rss0:+.1f} MiB from the 10th minute")

    started = time.perf_counter()
    try:
        await store.write_pending(force=True)
    except StorageError as e:
        print(f"one failing write of {len(store.backlog)} rows: {(time.perf_counter() - started) * 1e3:.0f} ms ({e})")
    print(f"(tried every {RETRY_S:g} s while the disk refuses)")
    free(disk)
    started = time.perf_counter()
    n = len(store.backlog)
    await store.write_pending(force=True)
    print(f"the disk back: {n} rows written in {(time.perf_counter() - started) * 1e3:.0f} ms")
    await writer.stop()
    await store.close()


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("bench_backlog.py mounts a tmpfs to fill: run it as root")
    with tempfile.TemporaryDirectory() as tmp, tmpfs(Path(tmp) / "disk", "32m") as disk:
        asyncio.run(outage(disk, 90))


if __name__ == "__main__":
    main()

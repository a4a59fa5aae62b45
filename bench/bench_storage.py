"""Storage cost per reading: hub -> storage writer -> SQLite (WAL, synchronous=FULL), CPU time of this process.

Prints the CPU cost per reading for a realistic batch (what a 0.5 s flush holds in a busy room) and for a bulk batch,
the hub's own share, and the wall time of one commit (the fsync). Run: .venv/bin/python bench/bench_storage.py
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _budget import cpu_seconds, describe_us

from roomctl.clock import SystemClock
from roomctl.hub import Hub
from roomctl.models import Quantity, Reading
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def readings(n: int, start: int = 0) -> list[Reading]:
    quantities = (Quantity.HEART_RATE, Quantity.SPO2, Quantity.PULSE_RATE, Quantity.PERFUSION_INDEX)
    return [
        Reading(
            quantity=quantities[i % 4],
            value=70.0 + i % 30,
            unit="bpm",
            device="strap",
            ts=T0 + timedelta(seconds=i / 10),
        )
        for i in range(start, start + n)
    ]


async def run(path: Path, batch: int, rounds: int) -> tuple[float, float, list[float]]:
    """CPU per reading for the hub publish and for the writer, and wall time per commit."""
    hub = Hub()
    async with Store(path) as store:
        writer = StorageWriter(store, hub, clock=SystemClock())
        hub_cpu = write_cpu = 0.0
        commits: list[float] = []
        for r in range(rounds):
            items = readings(batch, r * batch)
            c0 = cpu_seconds()
            for item in items:
                hub.publish(item)
            c1 = cpu_seconds()
            w0 = time.perf_counter()
            await writer.flush()
            commits.append(time.perf_counter() - w0)
            write_cpu += cpu_seconds() - c1
            hub_cpu += c1 - c0
        await writer.stop()
    n = batch * rounds
    return hub_cpu / n, write_cpu / n, commits


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for label, batch, rounds in (
            ("realistic batch (20 readings per flush)", 20, 300),
            ("bulk batch (2000)", 2000, 25),
        ):
            hub_cpu, write_cpu, commits = asyncio.run(run(Path(tmp) / f"b{batch}.db", batch, rounds))
            print(f"{label}: writer {write_cpu * 1e6:.1f} µs CPU per reading, hub publish {hub_cpu * 1e6:.1f} µs")
            print("  " + describe_us("commit wall time (incl. fsync)", commits))
        size = sum(p.stat().st_size for p in Path(tmp).glob("b20.db*"))
        print(
            f"database size after 6000 readings: {size / 1024:.0f} KiB ({size / 6000:.0f} bytes per reading incl. outbox)"
        )


if __name__ == "__main__":
    main()

"""A stand-in for the daemon, for the SIGKILL test: hub + storage writer + session manager, fed by a reading generator.

Usage: python kill_child.py DB RATE_HZ. Prints ``session ID PHASE RESUMED DOSES`` once, then ``accepted TS MONO``
for every reading the hub accepted (TS: the reading's Unix time; MONO: time.monotonic() right after publish).
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

from roomctl.clock import SystemClock
from roomctl.config import parse_config
from roomctl.hub import Hub
from roomctl.models import Quantity, Reading, SessionKind
from roomctl.report.synthetic import Physiology
from roomctl.session import SessionManager
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter

CONFIG = '[room]\nsite = "clinic"\nroom = "willow"\n'


async def main(db: Path, rate_hz: float) -> None:
    clock = SystemClock()
    hub = Hub()
    async with Store(db, clock=clock) as store:
        writer = StorageWriter(store, hub, clock=clock, flush_interval_s=0.5)
        await writer.start()
        manager = SessionManager(parse_config(CONFIG), hub, store, clock=clock, writer=writer)
        resumed = await manager.resume()
        if not resumed:
            await manager.start(SessionKind.DOSING)
            await manager.mark("dose", None, 120)
            await manager.set_phase("onset")
        state = manager.state
        print(f"session {state.id} {state.phase} {resumed} {len(state.dose_times)}", flush=True)
        ticker = asyncio.create_task(manager.run())
        body = Physiology(random.Random())
        start = time.monotonic()
        while True:
            minute = 60 + (time.monotonic() - start) * 60  # time-accelerated: one second is a minute
            reading = Reading(
                quantity=Quantity.HEART_RATE, value=round(body.heart_rate(minute, False)), unit="bpm",
                device="gen-strap", ts=clock.now(),
            )  # fmt: skip
            hub.publish(reading)
            print(f"accepted {reading.ts.timestamp()!r} {time.monotonic()!r}", flush=True)
            await asyncio.sleep(1 / rate_hz)
        ticker.cancel()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), float(sys.argv[2])))

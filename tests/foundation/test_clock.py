from __future__ import annotations

import asyncio
from datetime import UTC

from roomctl.clock import FakeClock, SystemClock
from roomctl.models import iso_ms


async def test_fake_clock_wakes_sleepers_only_when_time_passes() -> None:
    clock = FakeClock()
    woke: list[float] = []

    async def sleeper(seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(seconds)

    tasks = [asyncio.create_task(sleeper(s)) for s in (5.0, 1.0, 3.0)]
    await asyncio.sleep(0)
    clock.advance(2.0)
    await asyncio.sleep(0)
    assert woke == [1.0]
    clock.advance(10.0)
    await asyncio.gather(*tasks)
    assert woke == [1.0, 3.0, 5.0]


async def test_wall_jump_does_not_move_monotonic_time() -> None:
    clock = FakeClock()
    mono, wall = clock.monotonic(), clock.now()
    clock.jump_wall(-3600)
    assert clock.monotonic() == mono
    assert (wall - clock.now()).total_seconds() == 3600


async def test_system_clock_is_utc_and_monotonic() -> None:
    clock = SystemClock()
    a = clock.monotonic()
    await clock.sleep(0.01)
    assert clock.monotonic() > a
    assert clock.now().tzinfo is UTC


def test_timestamps_are_iso_utc_with_milliseconds() -> None:
    from datetime import datetime, timedelta, timezone

    ts = datetime(2026, 3, 1, 10, 30, 5, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert iso_ms(ts) == "2026-03-01T08:30:05.123Z"

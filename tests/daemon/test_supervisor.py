from __future__ import annotations

import asyncio
import logging

import pytest

from roomctl.clock import FakeClock
from roomctl.daemon.supervisor import ServiceStatus, Supervisor


class Flaky:
    """Fails ``fail_times`` times (after running ``run_s`` seconds each), then runs until cancelled."""

    def __init__(self, clock: FakeClock, fail_times: int, run_s: float = 0.0) -> None:
        self.clock = clock
        self.fail_times = fail_times
        self.run_s = run_s
        self.starts: list[float] = []
        self.cancelled = False

    async def run(self) -> None:
        self.starts.append(self.clock.monotonic())
        if len(self.starts) <= self.fail_times:
            if self.run_s:
                await self.clock.sleep(self.run_s)
            raise RuntimeError(f"boom {len(self.starts)}")
        try:
            await asyncio.Event().wait()
        finally:
            self.cancelled = True


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_crash_is_logged_with_traceback_and_restarted_with_exponential_backoff(
    caplog: pytest.LogCaptureFixture,
    clock: FakeClock,
) -> None:
    health: list[tuple[str, bool, str]] = []
    sup = Supervisor(
        clock=clock, initial_backoff_s=1, max_backoff_s=4, on_health=lambda *a: health.append(a), crash_loop_after=99
    )
    svc = Flaky(clock, fail_times=5)
    sup.add("sensors", svc)
    with caplog.at_level(logging.INFO):
        sup.start()
        await clock.run_for(20, step=0.25)
    t0 = svc.starts[0]
    # delays 1, 2, 4, then capped at 4
    assert [s - t0 for s in svc.starts] == [0, 1, 3, 7, 11, 15]
    assert sup.services["sensors"].status is ServiceStatus.RUNNING
    failures = [r for r in caplog.records if r.levelno == logging.ERROR and "sensors failed" in r.getMessage()]
    assert len(failures) == 5
    assert all(r.exc_info is not None for r in failures)
    assert health[-1] == ("sensors", True, "restarted (start 6)")
    assert ("sensors", False, "RuntimeError: boom 1; restarting in 1 s") in health
    await sup.stop()
    assert svc.cancelled


async def test_backoff_resets_after_a_healthy_period(clock: FakeClock) -> None:
    sup = Supervisor(clock=clock, initial_backoff_s=1, max_backoff_s=30, healthy_after_s=10)
    svc = Flaky(clock, fail_times=4, run_s=0)
    sup.add("mqtt", svc)
    sup.start()
    await clock.run_for(4, step=0.25)  # failures at 0, 1, 3: next restart waits 4 s
    assert sup.services["mqtt"].failures == 3
    # now the service runs healthily for long before failing once more
    svc.run_s = 12
    await clock.run_for(20, step=0.25)
    t0 = svc.starts[0]
    assert [s - t0 for s in svc.starts] == [0, 1, 3, 7, 20]  # 7 + 12 s healthy run + 1 s (reset) backoff
    assert sup.services["mqtt"].failures == 1
    await sup.stop()


async def test_service_that_returns_is_restarted(clock: FakeClock) -> None:
    sup = Supervisor(clock=clock, initial_backoff_s=0.5, max_backoff_s=1)
    runs = 0

    async def once() -> None:
        nonlocal runs
        runs += 1

    sup.add("once", once)
    sup.start()
    await clock.run_for(2, step=0.1)
    assert runs >= 3
    assert sup.services["once"].last_error == "stopped by itself"
    await sup.stop()


async def test_stop_cancels_in_reverse_order_of_start(clock: FakeClock) -> None:
    sup = Supervisor(clock=clock)
    order: list[str] = []

    def service(name: str) -> object:
        async def run() -> None:
            try:
                await asyncio.Event().wait()
            finally:
                order.append(name)

        return run

    for name in ("storage", "alarms", "sensors"):
        sup.add(name, service(name))  # type: ignore[arg-type]
    sup.start()
    await settle()
    await sup.stop()
    assert order == ["sensors", "alarms", "storage"]
    assert all(r.status is ServiceStatus.STOPPED for r in sup.services.values())


async def test_crash_loop_makes_the_supervisor_unhealthy(clock: FakeClock) -> None:
    sup = Supervisor(clock=clock, initial_backoff_s=1, max_backoff_s=2, crash_loop_after=3)
    svc = Flaky(clock, fail_times=100)
    sup.add("sensors", svc)
    sup.start()
    await settle()
    assert sup.problems() == []  # one failure is no crash loop
    await clock.run_for(4, step=0.25)
    problems = sup.problems()
    assert len(problems) == 1
    assert "sensors failed 3 times in a row" in problems[0]
    await sup.stop()


async def test_service_added_while_running_starts_at_once(clock: FakeClock) -> None:
    sup = Supervisor(clock=clock)
    sup.start()
    started = asyncio.Event()

    async def late() -> None:
        started.set()
        await asyncio.Event().wait()

    sup.add("late", late)
    await asyncio.wait_for(started.wait(), 5)
    with pytest.raises(ValueError, match="already supervised"):
        sup.add("late", late)
    await sup.stop()


async def test_a_kept_service_outlives_stop_until_stopped_on_its_own(clock: FakeClock) -> None:
    """MQTT is kept past the services' stop, so it can publish the lights' safe level (daemon ``_stop_feed``)."""
    supervisor = Supervisor(clock=clock)
    first, kept = Flaky(clock, 0), Flaky(clock, 0)
    supervisor.add("first", first)
    supervisor.add("mqtt", kept)
    supervisor.start()
    await settle()
    await supervisor.stop(keep=("mqtt",))
    assert first.cancelled
    assert not kept.cancelled
    assert supervisor.services["mqtt"].status is ServiceStatus.RUNNING
    await supervisor.stop_one("mqtt")
    assert kept.cancelled
    assert supervisor.services["mqtt"].status is ServiceStatus.STOPPED

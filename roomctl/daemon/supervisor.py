"""Supervision: every daemon service runs as a task that is restarted, with capped exponential backoff, when it fails.

A service is an ``async def`` taking no arguments, or an object with ``async def run(self)``; it should run until
cancelled. When one raises (or returns), the supervisor logs it with its traceback — the one place in roomctl that
catches broadly — waits (1 s, 2 s, 4 s, ... up to a cap) and runs it again. A service that ran for a healthy period
before failing starts again from the shortest delay. On shutdown the services are cancelled in the reverse order of
their start, each awaited before the next, so consumers added first (storage) outlive the producers added after them.

A service that keeps failing (``crash_loop_after`` failures in a row without a healthy period) makes the supervisor
unhealthy; the daemon's watchdog then stops pinging and systemd restarts the whole daemon.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from roomctl.clock import Clock

log = logging.getLogger(__name__)


class Runnable(Protocol):
    async def run(self) -> None: ...


Service = Callable[[], Awaitable[None]] | Runnable
HealthCallback = Callable[[str, bool, str], None]
"""Told ``(service name, ok, detail)`` whenever a service starts or fails."""


class ServiceStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    BACKOFF = "backoff"
    STOPPED = "stopped"


@dataclass
class ServiceRecord:
    name: str
    run: Callable[[], Awaitable[None]]
    status: ServiceStatus = ServiceStatus.PENDING
    starts: int = 0
    failures: int = 0  # in a row, since the last healthy period
    last_error: str = ""
    task: asyncio.Task[None] | None = field(default=None, repr=False)


def _runner(service: Service) -> Callable[[], Awaitable[None]]:
    run = getattr(service, "run", None)
    if run is not None and callable(run):
        return run  # type: ignore[no-any-return]
    if callable(service):
        return service
    raise TypeError(f"{service!r} is neither a coroutine function nor an object with run()")


class Supervisor:
    def __init__(
        self,
        *,
        clock: Clock,
        initial_backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        healthy_after_s: float = 60.0,
        crash_loop_after: int = 5,
        stop_timeout_s: float = 10.0,
        on_health: HealthCallback | None = None,
    ) -> None:
        if not 0 < initial_backoff_s <= max_backoff_s:
            raise ValueError("backoff must satisfy 0 < initial <= max")
        self.clock = clock
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.healthy_after_s = healthy_after_s
        self.crash_loop_after = crash_loop_after
        self.stop_timeout_s = stop_timeout_s
        self.on_health = on_health
        self._services: dict[str, ServiceRecord] = {}
        self._started: list[str] = []
        self._running = False

    def add(self, name: str, service: Service) -> None:
        """Register a service; it starts with :meth:`start` (or at once, if the supervisor already runs)."""
        if name in self._services:
            raise ValueError(f"a service named {name!r} is already supervised")
        self._services[name] = ServiceRecord(name, _runner(service))
        if self._running:
            self._start_one(self._services[name])

    def start(self) -> None:
        """Start every registered service that has not started yet, in the order they were added."""
        self._running = True
        for record in self._services.values():
            if record.task is None:
                self._start_one(record)

    def _start_one(self, record: ServiceRecord) -> None:
        record.task = asyncio.get_running_loop().create_task(self._keep_running(record), name=f"service:{record.name}")
        self._started.append(record.name)

    @property
    def services(self) -> dict[str, ServiceRecord]:
        return dict(self._services)

    def backoff_for(self, failures: int) -> float:
        """Delay before the restart that follows ``failures`` failures in a row (1 -> initial)."""
        return float(min(self.max_backoff_s, self.initial_backoff_s * 2 ** max(0, failures - 1)))

    def problems(self, *, ignore: Collection[str] = ()) -> list[str]:
        """Why the services are not healthy, for the watchdog (leaving out those named in ``ignore``); empty when
        they are."""
        out = []
        for r in self._services.values():
            if r.name in ignore:
                continue
            if self._running and r.task is not None and r.task.done():
                out.append(f"service {r.name} is not running")
            elif r.failures >= self.crash_loop_after:
                out.append(f"service {r.name} failed {r.failures} times in a row: {r.last_error}")
        return out

    async def _keep_running(self, record: ServiceRecord) -> None:
        while True:
            record.status = ServiceStatus.RUNNING
            record.starts += 1
            started = self.clock.monotonic()
            self._tell(record.name, True, "running" if record.starts == 1 else f"restarted (start {record.starts})")
            try:
                await record.run()
            except asyncio.CancelledError:
                record.status = ServiceStatus.STOPPED
                raise
            except Exception as e:  # the one broad catch: any failure of a service is logged and it is restarted
                log.exception("service %s failed: %s", record.name, e)
                record.last_error = f"{type(e).__name__}: {e}"
            else:
                log.warning("service %s stopped by itself; restarting it", record.name)
                record.last_error = "stopped by itself"
            if self.clock.monotonic() - started >= self.healthy_after_s:
                record.failures = 0
            record.failures += 1
            delay = self.backoff_for(record.failures)
            record.status = ServiceStatus.BACKOFF
            self._tell(record.name, False, f"{record.last_error}; restarting in {delay:g} s")
            log.info("service %s restarts in %g s (failure %d in a row)", record.name, delay, record.failures)
            await self.clock.sleep(delay)

    def _tell(self, name: str, ok: bool, detail: str) -> None:
        if self.on_health is not None:
            self.on_health(name, ok, detail)

    async def stop(self, *, keep: Collection[str] = ()) -> None:
        """Cancel the services in the reverse order of their start, awaiting each (up to ``stop_timeout_s``); those
        named in ``keep`` stay running until :meth:`stop_one` (a consumer that must outlive later shutdown steps)."""
        self._running = False
        for name in reversed(self._started):
            if name not in keep:
                await self._stop(self._services[name])
        self._started = [name for name in self._started if name in keep]

    async def stop_one(self, name: str) -> None:
        """Cancel one service (kept by :meth:`stop`) and await it."""
        record = self._services.get(name)
        if record is not None:
            await self._stop(record)
        self._started = [n for n in self._started if n != name]

    async def _stop(self, record: ServiceRecord) -> None:
        task = record.task
        if task is None or task.done():
            return
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=self.stop_timeout_s)
        if not done:
            log.error("service %s did not stop within %g s; leaving it", record.name, self.stop_timeout_s)
        elif not task.cancelled() and task.exception() is not None:
            log.error("service %s failed while stopping: %s", record.name, task.exception())
        record.status = ServiceStatus.STOPPED

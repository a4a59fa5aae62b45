"""Talking to systemd: ``sd_notify`` by hand (one datagram on ``$NOTIFY_SOCKET``) and a watchdog that pings only when healthy.

``Type=notify`` units get ``NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract namespace); ``WatchdogSec=`` sets
``WATCHDOG_USEC`` (and ``WATCHDOG_PID``). Outside systemd both are absent and every call here does nothing.

The watchdog pings from the asyncio loop itself, every half interval, and only after the health checks pass. A loop that
is stuck, a monitoring service in a crash loop, a failed alarm engine or a wearable silent without an alarm saying so
all stop the pings, and systemd restarts the daemon. A pinger thread would hide exactly those failures. The record is
not among them: a full or failing disk is a technical alarm while monitoring goes on.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping

from roomctl.clock import Clock

log = logging.getLogger(__name__)

HealthCheck = Callable[[], list[str]]
"""Returns what is wrong, in words; an empty list means healthy."""


class Notifier:
    """Sends state lines to systemd. Does nothing when not started by systemd with ``Type=notify``."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = env.get("NOTIFY_SOCKET") or None
        self.sent = 0

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *lines: str) -> bool:
        """Send ``KEY=value`` lines in one datagram; True when systemd got it. Never raises: systemd is optional."""
        if self.address is None:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto("\n".join(lines).encode(), target)
        except OSError as e:
            log.warning("cannot notify systemd at %s: %s", self.address, e)
            return False
        self.sent += 1
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, status: str) -> bool:
        return self.notify(f"STATUS={status}")

    def stopping(self, status: str = "shutting down") -> bool:
        return self.notify("STOPPING=1", f"STATUS={status}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """The watchdog timeout systemd set for this process, in seconds; None when there is none (or it is another PID's)."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    if not usec:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        seconds = int(usec) / 1_000_000
    except ValueError:
        log.warning("ignoring WATCHDOG_USEC=%r: not a number", usec)
        return None
    return seconds if seconds > 0 else None


class Watchdog:
    """Pings systemd every ``timeout/2`` seconds from the loop, while every check passes and the loop is not lagging."""

    def __init__(
        self,
        notifier: Notifier,
        timeout_s: float,
        checks: Mapping[str, HealthCheck],
        *,
        clock: Clock,
        max_loop_lag_s: float | None = None,
        probe_s: float = 0.5,
    ) -> None:
        self.notifier = notifier
        self.interval_s = timeout_s / 2
        self.checks = dict(checks)
        self.clock = clock
        self.max_loop_lag_s = max_loop_lag_s if max_loop_lag_s is not None else min(2.0, timeout_s / 4)
        self.probe_s = probe_s
        self.pings = 0
        self.withheld = 0
        self.last_problems: list[str] = []

    def problems(self, loop_lag_s: float = 0.0) -> list[str]:
        out = []
        if loop_lag_s > self.max_loop_lag_s:
            out.append(f"event loop lagged {loop_lag_s:.2f} s (limit {self.max_loop_lag_s:g} s)")
        for name, check in self.checks.items():
            try:
                out.extend(check())
            except Exception as e:  # a broken check is a failed check, never a crashed watchdog
                log.exception("health check %s failed", name)
                out.append(f"health check {name} failed: {e}")
        return out

    async def run(self) -> None:
        next_ping = self.clock.monotonic()
        window_lag = 0.0  # the worst loop lag seen since the last decision
        while True:
            now = self.clock.monotonic()
            if now >= next_ping:
                self._decide(window_lag)
                window_lag = 0.0
                next_ping = now + self.interval_s
            step = min(self.probe_s, next_ping - now)
            before = self.clock.monotonic()
            await self.clock.sleep(step)
            window_lag = max(window_lag, self.clock.monotonic() - before - step)

    def _decide(self, loop_lag_s: float) -> None:
        problems = self.problems(loop_lag_s)
        if problems:
            self.withheld += 1
            if problems != self.last_problems:
                log.error("unhealthy, not pinging the watchdog: %s", "; ".join(problems))
                self.notifier.status("unhealthy: " + "; ".join(problems))
        else:
            if self.last_problems:
                log.info("healthy again; pinging the watchdog")
                self.notifier.status("running")
            self.notifier.watchdog()
            self.pings += 1
        self.last_problems = problems

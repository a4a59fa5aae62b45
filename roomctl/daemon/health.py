"""Health checks the watchdog runs: the alarm engine healthy, every wearable fresh or covered by an alarm.

A continuous wearable that sends nothing is healthy for the daemon only while an alarm says so on the screen: monitoring
that has silently stopped is the failure the watchdog exists for. Spot-check devices (a cuff, a thermometer) are silent
between measurements by design and are not counted. Freshness is measured on the monotonic clock (wall time jumps).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from roomctl.clock import Clock
from roomctl.config import WearableConfig
from roomctl.hub import Hub
from roomctl.sensors.profiles import PROFILES


class DataSource(Protocol):
    """Where a wearable's data arrives (its link): when it last did, on the monotonic clock."""

    @property
    def id(self) -> str: ...

    @property
    def last_data_at(self) -> float | None:
        """``clock.monotonic()`` of the last notification with data; None before the first."""
        ...


class WearableFreshness:
    """Asks each wearable's link when it last sent data; :meth:`problems` names those silent for too long without an
    alarm. (Asked when the watchdog checks, not told per reading: nothing on the readings' path.)"""

    def __init__(self, hub: Hub, wearables: Sequence[WearableConfig], *, clock: Clock, margin_s: float = 5.0) -> None:
        self.hub = hub
        self.wearables = [w for w in wearables if PROFILES[w.profile].continuous]
        self.clock = clock
        self.margin_s = margin_s
        self.started = clock.monotonic()
        self.sources: dict[str, DataSource] = {}

    def watch(self, sources: Iterable[DataSource]) -> None:
        """The links to ask (a wearable without one counts as silent since the start)."""
        self.sources.update((source.id, source) for source in sources)

    def problems(self) -> list[str]:
        now = self.clock.monotonic()
        alarmed = {a.device for a in self.hub.state.alarms.values() if a.device is not None}
        out = []
        for w in self.wearables:
            source = self.sources.get(w.id)
            last = source.last_data_at if source is not None else None
            silent_s = now - (self.started if last is None else last)
            # The alarm engine raises a technical alarm by lost_after_s at the latest; allow it a margin to do so.
            if silent_s > w.lost_after_s + self.margin_s and w.id not in alarmed:
                out.append(f"wearable {w.id} silent for {silent_s:.0f} s and no alarm raised for it")
        return out


def service_health_problems(hub: Hub, services: Iterable[str]) -> list[str]:
    """Problems that the named services reported about themselves as ``ServiceHealth`` (e.g. the alarm engine)."""
    out = []
    for name in services:
        health = hub.state.health.get(name)
        if health is not None and not health.ok:
            out.append(f"{name} unhealthy: {health.detail or 'no detail'}")
    return out

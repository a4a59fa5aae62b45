"""A plausible session's physiology for the emulated wearables, seeded and time-scalable.

Two clocks, on purpose:

* **physiology** runs on *scenario time* = real seconds × ``speed``: heart rate at rest (~70 bpm), a rise after the dose
  to ~105 bpm and a second peak after the supplemental dose (~112 bpm), RR variability consistent with the heart rate,
  SpO2 96–99 % with occasional artefacts, batteries running down over 8 scenario hours;
* **episodes** (finger off, a wearable dropping out and coming back) are scripted in *real* seconds, because radio and
  sensor trouble does not speed up with the story, and alarms need their real timeouts to play out.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from roomctl.clock import Clock, SystemClock


@dataclass(frozen=True)
class Episode:
    """``kind`` is ``finger_off`` or ``drop_out``; times in real seconds from the start; ``repeat_s`` 0 = once."""

    kind: str
    device: str
    start_s: float
    duration_s: float
    repeat_s: float = 0.0

    def active(self, t: float) -> bool:
        if t < self.start_s:
            return False
        since = t - self.start_s
        if self.repeat_s > 0:
            since %= self.repeat_s
        return since < self.duration_s


def _bateman(t_min: float, absorb_min: float = 30.0, eliminate_min: float = 240.0) -> float:
    """A one-compartment drug effect curve normalised to peak 1 (peak about 70 min after the dose)."""
    if t_min <= 0:
        return 0.0
    peak = math.log(eliminate_min / absorb_min) * absorb_min * eliminate_min / (eliminate_min - absorb_min)

    def raw(t: float) -> float:
        return math.exp(-t / eliminate_min) - math.exp(-t / absorb_min)

    return raw(t_min) / raw(peak)


@dataclass
class Scenario:
    """The patient and the wearables' misfortunes. All randomness comes from ``seed``."""

    seed: int = 1
    speed: float = 1.0
    clock: Clock = field(default_factory=SystemClock)
    rest_hr: float = 70.0
    dose_min: float = 10.0
    dose_rise_bpm: float = 36.0
    supplemental_min: float = 100.0
    supplemental_rise_bpm: float = 16.0
    artefact_chance: float = 0.02
    episodes: list[Episode] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._start = self.clock.monotonic()
        self._forced: dict[tuple[str, str], float] = {}  # (kind, device) -> real-time end
        self._battery_override: dict[str, float] = {}

    # -- time
    def real_s(self) -> float:
        return self.clock.monotonic() - self._start

    def minutes(self) -> float:
        """Scenario minutes since the start (the story's clock)."""
        return self.real_s() * self.speed / 60.0

    # -- physiology
    def heart_rate(self) -> float:
        t = self.minutes()
        drug = self.dose_rise_bpm * _bateman(t - self.dose_min) + self.supplemental_rise_bpm * _bateman(
            t - self.supplemental_min
        )
        drift = 2.0 * math.sin(2 * math.pi * t / 23.0)
        return self.rest_hr + drug + drift + self.rng.gauss(0.0, 0.8)

    def rr_intervals(self, seconds: float) -> list[float]:
        """Beat-to-beat intervals covering about ``seconds``: mean 60/HR, respiratory sinus arrhythmia, less HRV at high HR."""
        hr = self.heart_rate()
        mean = 60.0 / hr
        hrv = 0.05 * (self.rest_hr / hr) ** 2
        out: list[float] = []
        t = self.real_s()
        while sum(out) < seconds:
            breath = math.sin(2 * math.pi * (t + sum(out)) / 4.5)
            rr = mean * (1.0 + hrv * breath + self.rng.gauss(0.0, hrv / 3))
            out.append(round(min(2.0, max(0.3, rr)), 3))
        return out

    def spo2(self) -> tuple[int, bool]:
        """SpO2 and whether this reading is an artefact (a brief implausible dip with poor signal)."""
        if self.rng.random() < self.artefact_chance:
            return self.rng.randint(84, 91), True
        return max(96, min(99, round(97.6 + self.rng.gauss(0.0, 0.8)))), False

    def perfusion_index(self) -> float:
        return round(max(0.3, 3.5 + self.rng.gauss(0.0, 0.6)), 1)

    def temperature(self) -> float:
        return round(36.8 + 0.6 * _bateman(self.minutes() - self.dose_min) + self.rng.gauss(0.0, 0.05), 2)

    def blood_pressure(self) -> tuple[int, int]:
        rise = _bateman(self.minutes() - self.dose_min)
        return round(118 + 30 * rise + self.rng.gauss(0, 3)), round(76 + 14 * rise + self.rng.gauss(0, 2))

    def battery(self, device: str, start_percent: float = 100.0) -> int:
        if device in self._battery_override:
            return round(self._battery_override[device])
        return max(5, round(start_percent - 85.0 * self.minutes() / 480.0))

    def rssi(self) -> int:
        return self.rng.randint(-78, -52)

    # -- episodes, scripted or forced by a test
    def force(self, kind: str, device: str, seconds: float) -> None:
        self._forced[(kind, device)] = self.real_s() + seconds

    def set_battery(self, device: str, percent: float | None) -> None:
        if percent is None:
            self._battery_override.pop(device, None)
        else:
            self._battery_override[device] = percent

    def active(self, kind: str, device: str) -> bool:
        t = self.real_s()
        end = self._forced.get((kind, device))
        if end is not None:
            if t < end:
                return True
            del self._forced[(kind, device)]
        return any(e.kind == kind and e.device == device and e.active(t) for e in self.episodes)

    def finger_off(self, device: str) -> bool:
        return self.active("finger_off", device)

    def dropped_out(self, device: str) -> bool:
        return self.active("drop_out", device)


def demo_scenario(speed: float = 60.0, seed: int = 1, clock: Clock | None = None) -> Scenario:
    """The demo's story: finger off on the oximeter now and then, the chest strap dropping out for 20 s every 3 minutes."""
    return Scenario(
        seed=seed,
        speed=speed,
        clock=clock or SystemClock(),
        episodes=[
            Episode("finger_off", "C0:FF:EE:00:00:02", start_s=40.0, duration_s=8.0, repeat_s=150.0),
            Episode("drop_out", "C0:FF:EE:00:00:01", start_s=70.0, duration_s=20.0, repeat_s=180.0),
        ],
    )

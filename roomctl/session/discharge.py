"""The discharge check's data side: vitals near the patient's own baseline for long enough, and no active alarm.

Pure and clock-free: the session manager feeds it the latest heart rate once a second (monotonic time) and asks for a
:class:`~roomctl.models.DischargeStatus`. The heart-rate baseline is the median over the first minutes of the session
(the alarm engine's ``baseline_window_s``); the blood-pressure and temperature baselines are the first entered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from roomctl.alarms.baseline import Baseline
from roomctl.config.session import DischargeConfig
from roomctl.models import Alarm, DischargeStatus, Quality, Reading

CURRENT_S = 30.0
"""A heart rate older than this is not a current reading."""


class DischargeWatch:
    def __init__(self, config: DischargeConfig, baseline_window_s: float) -> None:
        self.config = config
        self.baseline = Baseline(baseline_window_s)
        self._near_since: float | None = None
        self._last_ts: datetime | None = None

    def start(self, mono: float, baseline: float | None = None) -> None:
        """A session starts (or resumes with its saved ``baseline``): collect or take the baseline, forget the rest."""
        self.baseline.start(mono)
        if baseline is not None:
            self.baseline.stop()
            self.baseline.value = baseline
        self._near_since = None
        self._last_ts = None

    def observe(self, reading: Reading | None, mono: float) -> bool:
        """Offer the latest heart rate (the same reading twice counts once); True when this completed the baseline."""
        if (
            reading is None
            or reading.value is None
            or reading.quality is Quality.INVALID
            or reading.ts == self._last_ts
        ):
            return False
        self._last_ts = reading.ts
        completed = self.baseline.add(reading.value, mono)
        base = self.baseline.value
        if base is not None:
            if abs(reading.value - base) > self.config.heart_rate_within_bpm:
                self._near_since = None
            elif self._near_since is None:
                self._near_since = mono
        return completed

    def status(
        self,
        mono: float,
        heart_rate: Reading | None,
        now: datetime,
        manual: dict[str, list[list[float]]],
        alarms: Sequence[Alarm],
        checked_at: datetime | None = None,
    ) -> DischargeStatus:
        """Every criterion in words; ``manual`` holds the entered blood pressures and temperatures, first one first."""
        cfg = self.config
        findings: list[tuple[bool, str]] = [self._heart_rate(mono, heart_rate, now)]
        pressures = manual.get("blood_pressure", [])
        if pressures:
            (s0, d0), (s1, d1) = pressures[0], pressures[-1]
            text = f"blood pressure {s1:g}/{d1:g}, baseline {s0:g}/{d0:g}"
            if len(pressures) == 1:
                findings.append((False, f"{text}: measure it again before discharge"))
            else:
                near = abs(s1 - s0) <= cfg.systolic_within_mmhg and abs(d1 - d0) <= cfg.diastolic_within_mmhg
                findings.append((near, f"{text}: {'near' if near else 'not near'} baseline"))
        temperatures = manual.get("temperature", [])
        if temperatures:
            (t0,), (t1,) = temperatures[0], temperatures[-1]
            text = f"temperature {t1:.1f} °C, baseline {t0:.1f} °C"
            if len(temperatures) == 1:
                findings.append((False, f"{text}: measure it again before discharge"))
            else:
                near = abs(t1 - t0) <= cfg.temperature_within_c
                findings.append((near, f"{text}: {'near' if near else 'not near'} baseline"))
        active = [a for a in alarms if a.active]
        findings.append(
            (not active, "no active alarm" if not active else f"active alarm: {'; '.join(a.message for a in active)}")
        )
        return DischargeStatus(
            vitals_ready=all(ok for ok, _ in findings),
            findings=tuple(("ok: " if ok else "not yet: ") + text for ok, text in findings),
            checked_at=checked_at,
        )

    def _heart_rate(self, mono: float, reading: Reading | None, now: datetime) -> tuple[bool, str]:
        cfg, base = self.config, self.baseline.value
        if base is None:
            return False, "heart rate: no baseline (it is taken in the first minutes of the session)"
        if reading is None or reading.value is None or (now - reading.ts).total_seconds() > CURRENT_S:
            return False, f"heart rate: no current reading (baseline {base:.0f})"
        # No current value in the text: the status is republished only when a criterion or the minute count changes.
        text = f"heart rate vs baseline {base:.0f} (within {cfg.heart_rate_within_bpm:g} bpm)"
        if self._near_since is None:
            return False, f"{text}: not near"
        minutes = int((mono - self._near_since) // 60)
        if minutes >= cfg.steady_min:
            return True, f"{text}: near for {minutes} min"
        return False, f"{text}: near for {minutes} of {cfg.steady_min:g} min"

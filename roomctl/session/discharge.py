"""The discharge check's data side: vitals near the patient's own baseline for long enough, with data all along, long
enough after the last dose, a recent blood pressure, and no alarm active or waiting to be acknowledged.

Pure and clock-free: the session manager feeds it the latest heart rate once a second (monotonic time) and asks for a
:class:`~roomctl.models.DischargeStatus`. The heart-rate baseline is the one the team confirmed or entered
(roomctl/session/baseline.py): without it, the heart rate is "not yet" (no confirmed baseline). In a room without a
heart-rate strap the oximeter's pulse rate stands in for the heart rate (baseline, steady count and the words shown).
The blood-pressure and temperature baselines are the confirmed ones, or else the first entered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from roomctl.config.session import DischargeConfig
from roomctl.models import Alarm, DischargeStatus, Quality, Quantity, Reading

CURRENT_S = 30.0
"""A heart rate older than this is not a current reading; a stretch this long without one restarts the steady count."""

SOURCE_WORDS = {Quantity.HEART_RATE: "heart rate", Quantity.PULSE_RATE: "pulse rate (oximeter)"}


@dataclass(frozen=True)
class Timing:
    """When things happened, as the session manager knows it on the monotonic clock (seconds ago; None: never)."""

    since_last_dose_s: float | None = None
    supplemental: bool = False
    """The last dose was a supplemental one."""
    since_blood_pressure_s: float | None = None
    """The last blood pressure entered."""
    blood_pressure_after_dose: bool = True
    """The last blood pressure was taken after the last dose (True when there was no dose)."""


def _minutes(seconds: float) -> str:
    """``45 min``, ``3 h``, ``1 h 32 min``: whole minutes."""
    m = int(max(0.0, seconds)) // 60
    h, m = divmod(m, 60)
    return " ".join(part for part in (f"{h} h" if h else "", f"{m} min" if m or not h else "") if part)


class DischargeWatch:
    def __init__(self, config: DischargeConfig) -> None:
        self.config = config
        self._baselines: dict[Quantity, float] = {}
        self._entered = False
        self.source: Quantity | None = None
        """What stands for the heart rate this session: a strap's heart rate, or else the oximeter's pulse rate."""
        self._near_since: float | None = None
        self._last_ts: datetime | None = None
        self._last_data: float | None = None  # monotonic time of the last valid reading of the source

    @property
    def baseline(self) -> float | None:
        """The heart-rate (or pulse-rate) baseline the check compares with."""
        return self._baselines.get(self.source) if self.source is not None else None

    def start(self) -> None:
        """A session starts (or resumes): no baseline until the team's is given, forget the rest."""
        self.source = None
        self.use_baselines({})
        self._last_ts = None
        self._last_data = None

    def use_baselines(self, baselines: Mapping[Quantity, float], entered: bool = False) -> None:
        """The baseline the team confirmed or ``entered`` by hand: the steady count starts again against it. A confirmed
        blood pressure or temperature is one of those entered (it takes the first one's place as the baseline); one
        entered with the baseline comes before them."""
        self._baselines = dict(baselines)
        self._entered = entered
        self._near_since = None

    def choose(self, heart_rate: Reading | None, pulse_rate: Reading | None) -> Reading | None:
        """The reading that stands for the heart rate now: once chosen, the source stays for the session (a baseline
        of one is never compared with the other); a strap's heart rate is preferred while none is chosen."""
        if self.source is None:
            if heart_rate is not None:
                return heart_rate
            return pulse_rate
        return heart_rate if self.source is Quantity.HEART_RATE else pulse_rate

    def observe(self, reading: Reading | None, mono: float, now: datetime) -> None:
        """Offer the latest heart rate (or pulse rate, see :meth:`choose`; the same reading twice counts once).
        ``now`` (wall) only dates a reading that arrived since the last tick."""
        if (
            reading is None
            or reading.value is None
            or reading.quality is Quality.INVALID
            or reading.ts == self._last_ts
            or reading.quantity not in SOURCE_WORDS
        ):
            return
        if self.source is None:
            self.source = reading.quantity
        elif reading.quantity is not self.source:
            return
        self._last_ts = reading.ts
        came = mono - min(CURRENT_S, max(0.0, (now - reading.ts).total_seconds()))  # it arrived since the last tick
        if self._last_data is not None and came - self._last_data > CURRENT_S:
            self._near_since = None  # a stretch without data: the steady count starts again
        self._last_data = max(came, self._last_data or came)
        base = self.baseline
        if base is not None:
            if abs(reading.value - base) > self.config.heart_rate_within_bpm:
                self._near_since = None
            elif self._near_since is None:
                self._near_since = came

    def status(
        self,
        mono: float,
        manual: dict[str, list[list[float]]],
        alarms: Sequence[Alarm],
        timing: Timing,
        checked_at: datetime | None = None,
    ) -> DischargeStatus:
        """Every criterion in words; ``manual`` holds the entered blood pressures and temperatures, first one first."""
        cfg = self.config
        findings: list[tuple[bool, str]] = [self._heart_rate(mono), self._dose(timing)]
        pressures = manual.get("blood_pressure", [])
        given = self._baselines
        keep = 0 if self._entered else 1
        if Quantity.SYSTOLIC in given and Quantity.DIASTOLIC in given and (pressures or self._entered):
            pressures = [[given[Quantity.SYSTOLIC], given[Quantity.DIASTOLIC]], *pressures[keep:]]
        if pressures:
            findings.append(self._blood_pressure(pressures, timing))
        temperatures = manual.get("temperature", [])
        if Quantity.TEMPERATURE in given and (temperatures or self._entered):
            temperatures = [[given[Quantity.TEMPERATURE]], *temperatures[keep:]]
        if temperatures:
            (t0,), (t1,) = temperatures[0], temperatures[-1]
            text = f"temperature {t1:.1f} °C, baseline {t0:.1f} °C"
            if len(temperatures) == 1:
                findings.append((False, f"{text}: measure it again before discharge"))
            else:
                near = abs(t1 - t0) <= cfg.temperature_within_c
                findings.append((near, f"{text}: {'near' if near else 'not near'} baseline"))
        active = [a for a in alarms if a.active]
        waiting = [a for a in alarms if not a.active and a.acknowledged_at is None]  # latched, not yet acknowledged
        if active:
            findings.append((False, f"active alarm: {'; '.join(a.message for a in active)}"))
        if waiting:
            findings.append((False, f"alarm to acknowledge: {'; '.join(a.message for a in waiting)}"))
        if not (active or waiting):
            findings.append((True, "no active alarm"))
        return DischargeStatus(
            vitals_ready=all(ok for ok, _ in findings),
            findings=tuple(("ok: " if ok else "not yet: ") + text for ok, text in findings),
            checked_at=checked_at,
        )

    def _heart_rate(self, mono: float) -> tuple[bool, str]:
        cfg, base = self.config, self.baseline
        what = SOURCE_WORDS[self.source or Quantity.HEART_RATE]
        if base is None:
            return False, f"{what}: no confirmed baseline (B: confirm one before the dose, or enter it by hand)"
        if self._last_data is None or mono - self._last_data > CURRENT_S:
            return False, f"{what}: no current reading (baseline {base:.0f})"
        # No current value in the text: the status is republished only when a criterion or the minute count changes.
        text = f"{what} vs baseline {base:.0f} (within {cfg.heart_rate_within_bpm:g} bpm)"
        if self._near_since is None:
            return False, f"{text}: not near"
        minutes = int((mono - self._near_since) // 60)
        if minutes >= cfg.steady_min:
            return True, f"{text}: near for {minutes} min"
        return False, f"{text}: near for {minutes} of {cfg.steady_min:g} min"

    def _dose(self, timing: Timing) -> tuple[bool, str]:
        since = timing.since_last_dose_s
        if since is None:
            return True, "no dose recorded"
        least = self.config.min_since_last_dose_min * 60
        which = "supplemental dose" if timing.supplemental else "dose"
        ago = f"last {which} {_minutes(since)} ago"
        if since >= least:
            return True, f"{ago} (at least {_minutes(least)})"
        return False, f"{ago}: at least {_minutes(least)} after the last dose (effects peak 1-2 h after a dose)"

    def _blood_pressure(self, pressures: list[list[float]], timing: Timing) -> tuple[bool, str]:
        (s0, d0), (s1, d1) = pressures[0][:2], pressures[-1][:2]
        text = f"blood pressure {s1:g}/{d1:g}, baseline {s0:g}/{d0:g}"
        if len(pressures) == 1:
            return False, f"{text}: measure it again before discharge"
        if not timing.blood_pressure_after_dose:
            return False, f"{text}: taken before the last dose; measure it again before discharge"
        within = self.config.blood_pressure_within_min * 60
        since = timing.since_blood_pressure_s
        if since is None or since > within:
            ago = f"taken {_minutes(since)} ago" if since is not None else "when is not known"
            return False, f"{text}: {ago}; measure it again (within {_minutes(within)} of discharge)"
        cfg = self.config
        near = abs(s1 - s0) <= cfg.systolic_within_mmhg and abs(d1 - d0) <= cfg.diastolic_within_mmhg
        return near, f"{text}: {'near' if near else 'not near'} baseline"

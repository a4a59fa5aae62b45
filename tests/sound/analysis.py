"""Measure a played burst with numpy: pulses (start, length), gaps, fundamental, harmonics, level; and what each
priority's burst is expected to measure."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from roomctl.models import Priority
from roomctl.sound.synth import RATE

FRAME_S = 0.001
ENVELOPE_S = 0.003

# What reference/alarm-signals.md asks, and what each burst is expected to measure.
EXPECTED = {
    # priority: (pulses, pulse length, gaps between pulses, f0)
    Priority.HIGH: (10, 0.150, [0.10, 0.10, 0.35, 0.10, 0.50, 0.10, 0.10, 0.35, 0.10], 660.0),
    Priority.MEDIUM: (3, 0.200, [0.20, 0.20], 523.0),
    Priority.LOW: (2, 0.200, [0.20], 440.0),
}


@dataclass
class Measured:
    pulses: list[tuple[float, float]]  # (start, length) in seconds
    f0: list[float]  # the strongest frequency in each pulse
    harmonics_db: list[list[float]]  # per pulse: level of 2 f0 .. 5 f0 relative to f0
    peak: float  # fraction of full scale

    @property
    def gaps(self) -> list[float]:
        return [round(b[0] - (a[0] + a[1]), 4) for a, b in zip(self.pulses, self.pulses[1:], strict=False)]


def measure(raw: bytes, rate: int = RATE) -> Measured:
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32767
    frame, half = round(FRAME_S * rate), round(ENVELOPE_S * rate / 2)
    padded = np.concatenate([np.zeros(half), np.abs(x), np.zeros(half)])
    # the envelope: the peak within +-1.5 ms of each millisecond (longer than a period, so no dips at zero crossings)
    level = sliding_window_view(padded, 2 * half)[::frame].max(axis=1)
    on = level > 0.05 * level.max()
    pulses: list[tuple[float, float]] = []
    start: int | None = None
    for i, v in enumerate([*on, False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            pulses.append((start * FRAME_S, (i - start) * FRAME_S))
            start = None
    f0s, harmonics = [], []
    for s, length in pulses:
        seg = x[round(s * rate) : round((s + length) * rate)]
        f, db = _spectrum(seg, rate)
        f0s.append(f)
        harmonics.append(db)
    return Measured(pulses, f0s, harmonics, float(np.abs(x).max()))


def _spectrum(seg: npt.NDArray[np.float64], rate: int) -> tuple[float, list[float]]:
    n = 1 << 16  # zero padding: 0.25 Hz bins at 16 kHz
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), n))
    freqs = np.fft.rfftfreq(n, 1 / rate)
    k0 = int(np.argmax(spec))
    f0 = float(freqs[k0])

    def level_at(f: float) -> float:
        window = (freqs > f - 15) & (freqs < f + 15)
        return float(spec[window].max())

    return f0, [20 * np.log10(level_at(k * f0) / spec[k0]) for k in (2, 3, 4, 5)]

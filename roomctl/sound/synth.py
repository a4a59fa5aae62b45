"""Bursts as PCM: a fundamental with four harmonics (300-4000 Hz, within 15 dB of f0), shaped pulses. Cached per volume."""

from __future__ import annotations

import io
import wave
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from roomctl.sound.bursts import RISE_FRACTION, Burst

RATE = 16_000
"""Samples per second: plenty for a 5th harmonic of 660 Hz (3.3 kHz)."""
HARMONICS = ((1, 1.0), (2, 0.5), (3, 0.35), (4, 0.25), (5, 0.2))
"""(multiple of f0, amplitude): -6, -9, -12 and -14 dB; a speaker then sounds like a monitor, not a sine."""


def pulse(f0: float, duration_s: float, rate: int = RATE) -> npt.NDArray[np.float64]:
    """One pulse, peak 1.0, rising and falling linearly over RISE_FRACTION of its length."""
    n = round(duration_s * rate)
    t = np.arange(n) / rate
    wave_ = sum(a * np.sin(2 * np.pi * k * f0 * t) for k, a in HARMONICS)
    wave_ = np.asarray(wave_, dtype=np.float64)
    wave_ /= np.max(np.abs(wave_))
    ramp = max(1, round(n * RISE_FRACTION))
    envelope = np.ones(n)
    envelope[:ramp] = np.linspace(0.0, 1.0, ramp)
    envelope[-ramp:] = np.linspace(1.0, 0.0, ramp)
    return wave_ * envelope


def samples(burst: Burst, volume: float, rate: int = RATE) -> npt.NDArray[np.int16]:
    """The whole burst (silence between pulses) at ``volume`` (fraction of full scale), 16-bit mono."""
    out = np.zeros(round(burst.duration_s * rate))
    for start, length in burst.pulses:
        p = pulse(burst.f0, length, rate)
        i = round(start * rate)
        out[i : i + len(p)] = p
    return np.round(out * (0.9 * volume * 32767)).astype(np.int16)


@lru_cache(maxsize=64)
def wav_bytes(burst: Burst, volume: float) -> bytes:
    """The burst as a WAV file (what ``aplay`` plays); synthesised once per burst and volume."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples(burst, volume).tobytes())
    return buf.getvalue()

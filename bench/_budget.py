"""Shared helpers for the benchmarks: CPU time of the process and percentiles, printed the same way everywhere."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The ``fraction`` (0..1) percentile by nearest rank."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def describe_us(name: str, samples_s: Sequence[float]) -> str:
    """One line: median, p99 and max of samples given in seconds, printed in microseconds."""
    us = [s * 1e6 for s in samples_s]
    return (
        f"{name}: n={len(us)} median={statistics.median(us):.1f} µs "
        f"p99={percentile(us, 0.99):.1f} µs max={max(us):.1f} µs"
    )


def cpu_seconds() -> float:
    """CPU time (user + system) of this process."""
    return time.process_time()

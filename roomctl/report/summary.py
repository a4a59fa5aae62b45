"""The report's numbers: min / median / max per phase, time outside limits, alarms and how long they lasted."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from roomctl.models import AlarmAction, Quantity
from roomctl.quantities import REPORT_QUANTITIES
from roomctl.report.data import PhaseSpan, Series, SessionRecord
from roomctl.report.limits import LimitsOverTime

MAX_SAMPLE_S = 5.0
"""A reading stands for the time until the next one, at most this long (a gap is not time outside limits)."""


@dataclass(frozen=True)
class Stats:
    n: int
    min: float | None
    median: float | None
    max: float | None
    outside_s: float


@dataclass(frozen=True)
class PhaseSummary:
    phase: PhaseSpan
    stats: dict[Quantity, Stats]


@dataclass(frozen=True)
class AlarmSummary:
    raised: float
    condition: str
    priority: str
    category: str  # physiological / technical
    value: float | None
    limit: float | None
    acknowledged_after_s: float | None
    duration_s: float
    """How long its condition lasted: from the raise until it latched or cleared (or the session's end)."""
    active_at_end: bool
    """Its condition still existed when the session's record ends."""
    latched_at_end: bool = False
    """Its condition had ended, but nobody had acknowledged it (latched) when the record ends."""


@dataclass(frozen=True)
class Summary:
    phases: list[PhaseSummary]
    whole: PhaseSummary
    alarms: list[AlarmSummary]


def _arrays(s: Series) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Timestamps, values (NaN where missing or invalid) and how long each reading stands for."""
    ts = np.asarray(s.ts, dtype=np.float64)
    values = np.asarray([np.nan if v is None else v for v in s.values], dtype=np.float64)
    values[np.asarray(s.quality) == "invalid"] = np.nan
    weight = np.minimum(np.diff(ts, append=ts[-1] + 1.0) if len(ts) else ts, MAX_SAMPLE_S)
    return ts, values, weight


def _stats(
    ts: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    span: tuple[float, float],
    limits: LimitsOverTime | None,
) -> Stats:
    inside_span = (ts >= span[0]) & (ts < span[1]) & ~np.isnan(values)
    v, w = values[inside_span], weight[inside_span]
    if not len(v):
        return Stats(0, None, None, None, 0.0)
    outside = np.zeros(len(v), dtype=bool)
    if limits is not None:  # each reading against the limits in force when it was taken (NaN compares False: none)
        low, high = limits.at(ts[inside_span])
        outside = (v < low) | (v > high)
    return Stats(len(v), float(v.min()), float(np.median(v)), float(v.max()), float(w[outside].sum()))


def summarise(rec: SessionRecord) -> Summary:
    arrays = {q: _arrays(rec.get(q)) for q in REPORT_QUANTITIES if rec.get(q).ts}

    def phase_summary(span: PhaseSpan) -> PhaseSummary:
        return PhaseSummary(
            span,
            {q: _stats(*a, (span.start, span.end), rec.limits.get(q)) for q, a in arrays.items()},
        )

    whole = PhaseSpan("session", "Whole session", rec.start, rec.end + 1e-3)
    return Summary([phase_summary(p) for p in rec.phases], phase_summary(whole), _alarms(rec))


def _alarms(rec: SessionRecord) -> list[AlarmSummary]:
    """Pair each alarm's raise with its first acknowledgement and the end of its condition (by alarm id).

    The condition ends when the alarm latches or clears, whichever comes first: a latched alarm's time waiting for an
    acknowledgement is not time the condition lasted."""
    raised: dict[str, AlarmSummary] = {}
    acked: dict[str, float] = {}
    ended: dict[str, float] = {}
    done: list[AlarmSummary] = []
    for ev in rec.alarms:
        a, ts = ev.alarm, ev.ts.timestamp()
        if ev.action is AlarmAction.RAISED:
            raised[a.id] = AlarmSummary(
                ts, a.condition, a.priority.value, a.category.value, a.value, a.limit, None, 0.0, active_at_end=True
            )
        elif a.id not in raised:
            continue
        elif ev.action is AlarmAction.ACKNOWLEDGED:
            acked.setdefault(a.id, ts)
        elif ev.action is AlarmAction.LATCHED:
            ended.setdefault(a.id, ts)
        elif ev.action is AlarmAction.CLEARED:
            first = raised.pop(a.id)
            done.append(_closed(first, acked.get(a.id), ended.pop(a.id, ts), active=False))
    for i, s in raised.items():
        latched = i in ended
        done.append(_closed(s, acked.get(i), ended.get(i, rec.end), active=not latched, latched=latched))
    return sorted(done, key=lambda s: s.raised)


def _closed(s: AlarmSummary, ack: float | None, end: float, *, active: bool, latched: bool = False) -> AlarmSummary:
    return AlarmSummary(
        s.raised,
        s.condition,
        s.priority,
        s.category,
        s.value,
        s.limit,
        None if ack is None else ack - s.raised,
        max(0.0, end - s.raised),
        active_at_end=active,
        latched_at_end=latched,
    )

"""One session's record, loaded from the database into plain arrays: the input of the report and its summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from roomctl.alarms.baseline import BaselineRecord
from roomctl.config.session import default_phases
from roomctl.errors import StorageError
from roomctl.models import MANUAL_DEVICE, AlarmEvent, Quantity, SessionState
from roomctl.music.record import TrackPlayed, tracks_played
from roomctl.report.clean import clean_json, clean_text
from roomctl.report.limits import (
    LimitsOverTime,
    SessionLimitSet,
    baselines_of,
    limits_over_time,
    limits_set_of,
    rules_of,
)
from roomctl.storage.database import Database, SessionRow

MIN_PHASE_S = 1.0
"""A phase shorter than this is not a row in the report (nor a label on its charts)."""


@dataclass
class Series:
    ts: list[float] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)
    quality: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PhaseSpan:
    id: str
    label: str
    start: float
    end: float


@dataclass(frozen=True)
class EventPoint:
    ts: float
    event: str
    text: str | None
    data: dict[str, Any]


@dataclass
class SessionRecord:
    row: SessionRow
    state: SessionState
    start: float
    end: float
    series: dict[tuple[Quantity, bool], Series]  # (quantity, manual?) -> readings
    events: list[EventPoint]
    alarms: list[AlarmEvent]
    phases: list[PhaseSpan]
    limits: dict[Quantity, LimitsOverTime]
    """The limits in force at each moment (configured, set for the session, derived from the baseline)."""
    baselines: list[BaselineRecord] = field(default_factory=list)
    """The patient's baselines the session recorded, oldest first."""
    limits_set: list[SessionLimitSet] = field(default_factory=list)
    """The limits set for the session (set_limit), oldest first."""
    music: list[TrackPlayed] = field(default_factory=list)
    """What played when (the room's music), one entry per track started."""

    def get(self, quantity: Quantity, manual: bool = False) -> Series:
        return self.series.get((quantity, manual), Series())


def load(db: Database, session_id: str) -> SessionRecord:
    row = db.session(session_id)
    if row is None:
        raise StorageError(f"no session '{session_id}' in {db.path} (roomctl session list shows them)")
    state = SessionState.model_validate_json(row.state)
    series: dict[tuple[Quantity, bool], Series] = {}
    last_ts = row.started_at
    for _seq, ts, device, quantity, value, _unit, quality in db.readings(session_id):
        s = series.setdefault((Quantity(quantity), device == MANUAL_DEVICE), Series())
        s.ts.append(ts)
        s.values.append(value)
        s.quality.append(quality)
        last_ts = max(last_ts, ts)
    events = [
        EventPoint(ts, ev, None if text is None else clean_text(text), clean_json(json.loads(data)))
        for _seq, _id, ts, ev, text, data in db.events(session_id)
    ]
    alarms = [
        AlarmEvent.model_validate(clean_json(json.loads(payload))) for *_x, payload in db.session_alarms(session_id)
    ]
    end = row.ended_at or max([last_ts, *(e.ts for e in events)])
    labels = {p["id"]: clean_text(p["label"]) for p in row.meta.get("phases", [])} or {
        p.id: p.label for p in default_phases()
    }
    marks = [(e.ts, e.event, e.data) for e in events]
    baselines, limits_set = baselines_of(marks), limits_set_of(marks)
    return SessionRecord(
        row=row,
        state=state,
        start=row.started_at,
        end=end,
        series=series,
        events=events,
        alarms=alarms,
        phases=_phases(events, row.started_at, end, labels),
        limits=limits_over_time(rules_of(row.meta), baselines, limits_set),
        baselines=baselines,
        limits_set=limits_set,
        music=[
            TrackPlayed(
                t.seq,
                t.ts,
                t.phase,
                t.playlist,
                clean_text(t.title) if t.title else None,
                clean_text(t.artist) if t.artist else None,
                t.file,
            )
            for t in tracks_played(db.music(session_id))
        ],
    )


def _phases(events: list[EventPoint], start: float, end: float, labels: dict[str, str]) -> list[PhaseSpan]:
    """Phase spans from the session start and phase changes; a session without phases is one span."""
    marks: list[tuple[float, str]] = []
    for e in events:
        if e.event == "session_start" and e.data.get("phase"):
            marks.append((e.ts, str(e.data["phase"])))
        elif e.event == "phase_change":
            marks.append((e.ts, str(e.data.get("to"))))
    if not marks:
        return [PhaseSpan("session", "Whole session", start, end)]
    if marks[0][0] > start:
        marks.insert(0, (start, marks[0][1]))
    spans: list[PhaseSpan] = []
    for i, (ts, pid) in enumerate(marks):
        stop = marks[i + 1][0] if i + 1 < len(marks) else end
        if stop - ts < MIN_PHASE_S:
            continue  # a phase passed through at once ("]" pressed twice, the session ending as it began): no row
        if spans and spans[-1].id == pid:  # the same phase again after one that was skipped: one span
            spans[-1] = PhaseSpan(pid, spans[-1].label, spans[-1].start, stop)
        else:
            spans.append(PhaseSpan(pid, labels.get(pid, pid), ts, stop))
    if spans:  # the spans cover the session without holes: a skipped phase's time goes to the one before it
        spans[0] = PhaseSpan(spans[0].id, spans[0].label, start, spans[0].end)
        spans = [
            PhaseSpan(p.id, p.label, p.start, spans[i + 1].start if i + 1 < len(spans) else end)
            for i, p in enumerate(spans)
        ]
    return spans or [PhaseSpan("session", "Whole session", start, end)]

"""An emulated, time-accelerated dosing session written straight into a database, for tests and benchmarks.

The physiology is plausible, not a model of anyone: heart rate rises 30-90 min after the dose and again after the
supplemental half dose, taking breaks lifts it a little; SpO2 stays 96-99 % with a few artefacts (dips flagged
questionable, and gaps where the finger is off). The vitals checks (blood pressure, temperature, a distress rating) follow the default schedule
(:mod:`roomctl.session.checks`), each a few minutes after it is due and two of them late (:data:`LATE_CHECKS`); the chest strap is taken off for 20 s once an hour (a gap).
Alarms come from the real alarm engine (:class:`~roomctl.alarms.AlarmEngine` with the default limits) run over the
readings on a fake clock; the team acknowledges each alarm 20 s after it sounds (raised, escalated or announced again).
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from roomctl.alarms.engine import AlarmEngine
from roomctl.clock import FakeClock
from roomctl.config.alarms import AlarmsConfig
from roomctl.config.session import SessionConfig, default_phases
from roomctl.models import (
    MANUAL_DEVICE,
    UNITS,
    AlarmAction,
    AlarmEvent,
    HubEvent,
    Quality,
    Quantity,
    Reading,
    SessionEvent,
    SessionEventKind,
    SessionKind,
    SessionState,
)
from roomctl.session.checks import Checks, Part, check_text
from roomctl.session.timeline import Moment
from roomctl.storage.database import Database, Row, SessionRow
from roomctl.storage.rows import RowMaker

# The timeline, in minutes from the session start: (minute, phase) and (minute, event, text).
PHASES = [
    (0, "arrival"),
    (20, "intentions"),
    (40, "dose"),
    (55, "onset"),
    (100, "active"),
    (130, "supplemental"),
    (280, "taper"),
    (370, "closing"),
    (460, "discharge"),
]
DOSE_MIN, SUPPLEMENTAL_MIN = 40, 150
ACK_AFTER_S = 20.0
STRAP_OFF_S = (30 * 60, 20)
"""(seconds into each hour, how long): the chest strap is off, no heart-rate readings (a gap in the record)."""
BREAKS = [(195, 205), (330, 342)]
LATE_CHECKS = {4: 14.0, 11: 21.0}
"""Check number -> minutes after it was due that the team does it (the others: within 4 minutes)."""
ADVERSE_MIN = 215
ADVERSE = {"category": "anxiety_or_panic", "severity": "moderate", "action": "grounding", "emergency_services": False}
"""The day's one adverse event (at ADVERSE_MIN minutes), as the screen's A records it."""
NOTES = [(70, "patient reports warmth, calm"), (240, "long stretch of quiet introspection"), (400, "reflection")]


def _effect(minutes_since: float, amplitude: float) -> float:
    """A dose's effect: none before 10 min, peak about 80 min after, then a slow decline."""
    x = minutes_since - 10
    if x <= 0:
        return 0.0
    return amplitude * (x / 70) * math.exp(1 - x / 70)


@dataclass
class Physiology:
    rng: random.Random
    baseline_hr: float = 70.0
    doses_min: list[tuple[float, float]] = field(default_factory=list)  # (minute, relative strength)
    _drift: float = 0.0

    def heart_rate(self, minute: float, on_break: bool) -> float:
        self._drift = 0.995 * self._drift + self.rng.gauss(0, 0.35)
        effect = sum(_effect(minute - m, 44 * s) for m, s in self.doses_min)
        return self.baseline_hr + effect + self._drift + (9 if on_break else 0) + self.rng.gauss(0, 1.5)

    def spo2(self) -> float:
        return min(100.0, max(95.5, self.rng.gauss(97.6, 0.6)))


def emulated_events(start: datetime, hours: float = 8.0, rate_hz: float = 1.0, seed: int = 1) -> Iterator[HubEvent]:
    """Every hub event of the session, in time order (the session id is random)."""
    rng = random.Random(seed)
    sid = secrets.token_hex(6)
    phys = Physiology(rng)
    team = _Team(start)
    artefacts = sorted(rng.uniform(30, hours * 60 - 30) for _ in range(4))
    timeline: list[tuple[float, SessionEventKind, str | None, dict[str, Any]]] = [
        (0, SessionEventKind.SESSION_START, None, {"session_kind": "dosing", "phase": "arrival"}),
        (DOSE_MIN, SessionEventKind.DOSE, None, {"amount_mg": 120}),
        (SUPPLEMENTAL_MIN, SessionEventKind.SUPPLEMENTAL_DOSE, None, {"amount_mg": 60}),
        *((m, SessionEventKind.NOTE, t, {}) for m, t in NOTES),
        (ADVERSE_MIN, SessionEventKind.ADVERSE_EVENT, "panic wave at the peak, settled with breathing", ADVERSE),
        *((a, SessionEventKind.BREAK_START, None, {}) for a, _ in BREAKS),
        *((b, SessionEventKind.BREAK_END, None, {}) for _, b in BREAKS),
        # the first break with the oximeter off in standby, back half a minute after the break
        (
            BREAKS[0][0],
            SessionEventKind.STANDBY_START,
            "monitoring standby for the break: oximeter",
            {"devices": ["oximeter"], "minutes": 10.0},
        ),
        (
            BREAKS[0][1] + 0.5,
            SessionEventKind.STANDBY_END,
            "standby over for oximeter",
            {"devices": ["oximeter"], "reason": "wearables back", "not_back": []},
        ),
        *(
            (float(m), SessionEventKind.PHASE_CHANGE, None, dict[str, Any](**{"from": PHASES[i - 1][1], "to": p}))
            for i, (m, p) in enumerate(PHASES)
            if i
        ),
    ]
    if hours * 60 > PHASES[-1][0] + 10:  # the day ends with the discharge check
        findings = ["ok: heart rate vs baseline 70 (within 15 bpm): near for 34 min", "ok: no active alarm"]
        data = {"findings": findings, "oriented_and_grounded": True, "support_person_present": True}
        timeline.append((hours * 60 - 5, SessionEventKind.DISCHARGE_CHECK, None, data))
    timeline.sort(key=lambda t: t[0])
    state = SessionState(id=sid, session_kind=SessionKind.DOSING, phase="arrival", started_at=start)
    yield from team.run(state, 0.0)
    step = 1.0 / rate_hz
    n = int(hours * 3600 * rate_hz)
    checks = Checks(SessionConfig())
    checks.start(Moment(start, 0.0))
    done = 0
    delay_s = rng.uniform(0, 240)
    for i in range(n + 1):
        t = i * step
        minute = t / 60
        ts = start + timedelta(seconds=t)
        while timeline and timeline[0][0] <= minute:
            _, kind, text, data = timeline.pop(0)
            if kind is SessionEventKind.DOSE or kind is SessionEventKind.SUPPLEMENTAL_DOSE:
                phys.doses_min.append((minute, 1.0 if kind is SessionEventKind.DOSE else 0.5))
                checks.dosed(Moment(ts, t))
                state = state.model_copy(update={"dose_times": (*state.dose_times, ts)})
            if kind is SessionEventKind.PHASE_CHANGE:
                state = state.model_copy(update={"phase": data["to"]})
            if kind in (SessionEventKind.BREAK_START, SessionEventKind.BREAK_END):
                state = state.model_copy(update={"on_break": kind is SessionEventKind.BREAK_START})
            yield SessionEvent(id=secrets.token_hex(8), session=sid, event=kind, ts=ts, text=text, data=data)
            yield from team.run(state, t)
        hr = phys.heart_rate(minute, state.on_break)
        off_at, off_s = STRAP_OFF_S
        if not off_at <= t % 3600 < off_at + off_s:
            reading = Reading(quantity=Quantity.HEART_RATE, value=round(hr), unit="bpm", device="chest-strap", ts=ts)
            yield from team.run(reading, t)
        spo2: float | None = round(phys.spo2())
        quality = Quality.OK
        for a in artefacts:
            if a <= minute < a + 0.6:  # a 36 s artefact: a dip, then the finger slips off
                spo2, quality = (
                    (None, Quality.INVALID) if minute > a + 0.45 else (82 + rng.random() * 4, Quality.QUESTIONABLE)
                )
        spo2_reading = Reading(quantity=Quantity.SPO2, value=spo2, unit="%", device="oximeter", ts=ts, quality=quality)
        yield from team.run(spo2_reading, t)
        yield from team.tick(t)
        if checks.due is not None and t >= checks.due.mono + delay_s:
            since_dose = t - (DOSE_MIN * 60 if minute < SUPPLEMENTAL_MIN else SUPPLEMENTAL_MIN * 60)
            for event in _manual_vitals(
                sid, ts, hr, phys.baseline_hr, rng, checks, Moment(ts, t), since_dose if minute >= DOSE_MIN else None
            ):
                yield from team.run(event, t)
            done += 1
            delay_s = LATE_CHECKS.get(done, rng.uniform(0, 4)) * 60
    end = start + timedelta(seconds=n * step)
    yield SessionEvent(id=secrets.token_hex(8), session=sid, event=SessionEventKind.SESSION_END, ts=end)
    yield from team.run(state.model_copy(update={"ended_at": end}), n * step)


def _manual_vitals(
    sid: str,
    ts: datetime,
    hr: float,
    base: float,
    rng: random.Random,
    checks: Checks,
    now: Moment,
    since_dose_s: float | None,
) -> Iterator[HubEvent]:
    """One vitals check: blood pressure, a distress rating and the temperature, and the check's record."""
    rise = max(0.0, hr - base)
    sys_ = round(118 + 1.1 * rise + rng.gauss(0, 4))
    dia = round(76 + 0.6 * rise + rng.gauss(0, 3))
    temp = round(36.6 + 0.02 * rise + rng.gauss(0, 0.1), 1)
    yield SessionEvent(
        id=secrets.token_hex(8),
        session=sid,
        event=SessionEventKind.BLOOD_PRESSURE,
        ts=ts,
        data={"systolic": sys_, "diastolic": dia},
    )
    for q, v in ((Quantity.SYSTOLIC, sys_), (Quantity.DIASTOLIC, dia), (Quantity.TEMPERATURE, temp)):
        yield Reading(quantity=q, value=v, unit=UNITS[q], device=MANUAL_DEVICE, ts=ts)
    distress = min(10, max(0, round(1 + rise / 12 + rng.gauss(0, 1))))
    yield SessionEvent(
        id=secrets.token_hex(8), session=sid, event=SessionEventKind.DISTRESS, ts=ts, data={"rating": distress}
    )
    yield SessionEvent(
        id=secrets.token_hex(8), session=sid, event=SessionEventKind.TEMPERATURE, ts=ts, data={"celsius": temp}
    )
    checks.take(Part.BLOOD_PRESSURE, [sys_, dia], now, since_dose_s)
    checks.take(Part.DISTRESS, distress, now, since_dose_s)
    record = checks.take(Part.TEMPERATURE, temp, now, since_dose_s)
    if record is not None:
        yield SessionEvent(
            id=secrets.token_hex(8),
            session=sid,
            event=SessionEventKind.VITALS_CHECK,
            ts=ts,
            text=check_text(record),
            data=record,
        )


_SOUNDS = (AlarmAction.RAISED, AlarmAction.ESCALATED, AlarmAction.REANNUNCIATED)


class _Team:
    """The real alarm engine on a fake clock that follows the session's time, and a team that acknowledges each alarm
    ``ACK_AFTER_S`` after it starts sounding (raised, escalated, or announced again)."""

    def __init__(self, start: datetime) -> None:
        self.clock = FakeClock(start=start, monotonic_start=0.0)
        self.engine = AlarmEngine(AlarmsConfig(), [], clock=self.clock)
        self.sounding: dict[str, float] = {}
        """Alarm id -> when it started sounding (unacknowledged)."""

    def _at(self, t: float) -> None:
        if t > self.clock.monotonic():
            self.clock.advance(t - self.clock.monotonic())

    def _note(self, events: list[HubEvent], t: float) -> list[HubEvent]:
        for e in events:
            if isinstance(e, AlarmEvent) and e.action in _SOUNDS:
                self.sounding.setdefault(e.alarm.id, t)
        return events

    def run(self, event: HubEvent, t: float) -> Iterator[HubEvent]:
        """``event`` at ``t`` seconds into the session, then what the engine makes of it."""
        self._at(t)
        yield event
        yield from self._note(self.engine(event), t)

    def tick(self, t: float) -> Iterator[HubEvent]:
        self._at(t)
        yield from self._note(self.engine.tick(), t)
        for alarm_id, since in list(self.sounding.items()):
            if t - since >= ACK_AFTER_S:
                del self.sounding[alarm_id]
                if alarm_id in self.engine.alarms:
                    yield from self.engine.acknowledge(alarm_id)


def fill_database(db: Database, start: datetime, hours: float = 8.0, rate_hz: float = 1.0, seed: int = 1) -> str:
    """Write an emulated session into ``db``; returns its id."""
    maker = RowMaker(None)
    rows: list[Row] = []
    last: SessionState | None = None
    now = start.timestamp()
    for event in emulated_events(start, hours, rate_hz, seed):
        if isinstance(event, SessionState):
            last = event
        row = maker.make(event, now)
        if row is not None:
            rows.append(row)
        if len(rows) >= 5000:
            db.write_batch(rows, now)
            rows = []
    db.write_batch(rows, now)
    assert last is not None
    assert last.id is not None
    assert last.started_at is not None
    ended = last.ended_at.timestamp() if last.ended_at else None
    meta = {
        "phases": [{"id": p.id, "label": p.label} for p in default_phases()],
        "checks": SessionConfig().checks.model_dump(mode="json"),
    }
    db.save_session(SessionRow(last.id, "dosing", last.started_at.timestamp(), ended, last.model_dump_json(), meta))
    return last.id

"""The session manager: starts and ends sessions, follows the dosing timeline, takes manual vitals, reminds.

Every change is saved to the store (the ``sessions`` row, synchronously) before it is announced on the hub, and
events reach the disk through the storage writer; a command's result is returned only after both. After a
restart, :meth:`SessionManager.resume` picks the open session up where it was. Session ids are random: no
patient identifier is ever part of a session.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from roomctl.alarms.baseline import BaselineRecord
from roomctl.alarms.texts import baseline_words, duration_words
from roomctl.clock import Clock, SystemClock
from roomctl.commands import (
    Command,
    CommandResult,
    DischargeCheck,
    EndSession,
    EnterBloodPressure,
    EnterDistress,
    EnterTemperature,
    MarkEvent,
    RecordAdverseEvent,
    SetBaseline,
    SetPhase,
    StartSession,
    TickChecklist,
)
from roomctl.config import RoomConfig
from roomctl.config.session import BASELINE_ITEM
from roomctl.errors import RoomctlError, StorageError
from roomctl.hub import Hub
from roomctl.models import (
    MANUAL_DEVICE,
    UNITS,
    DischargeStatus,
    LinkState,
    Quality,
    Quantity,
    Reading,
    SessionEvent,
    SessionEventKind,
    SessionKind,
    SessionState,
    iso_ms,
)
from roomctl.plausible import check_blood_pressure, check_temperature
from roomctl.session import baseline as proposal
from roomctl.session import checklist
from roomctl.session.checks import Checks, Part, Reminder, check_text
from roomctl.session.discharge import DischargeWatch, Timing
from roomctl.session.standby import BreakStandby
from roomctl.session.timeline import Moment, suggest
from roomctl.storage.database import SessionRow
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter

log = logging.getLogger(__name__)

NO_SESSION = "no session is running; start one first"
ALARMS_AT_START = "alarms_at_start"
"""The session's meta key: ids of the alarms shown when it started. Their raise is stored before the session (without
it); the record of the session includes them (:meth:`~roomctl.storage.database.Database.session_alarms`)."""
WALL_STEP_S = 2.0
"""A change of the wall clock against the monotonic clock between two ticks by at least this much is a step (NTP, or a
clock set by hand), not a tick running late: both clocks move together then."""


def _ok(message: str) -> CommandResult:
    return CommandResult(ok=True, message=message)


def _refused(message: str) -> CommandResult:
    return CommandResult(ok=False, message=message)


class SessionManager:
    def __init__(
        self,
        config: RoomConfig,
        hub: Hub,
        store: Store,
        *,
        clock: Clock | None = None,
        writer: StorageWriter | None = None,
    ) -> None:
        self.config = config
        self.hub = hub
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.writer = writer
        self.state = SessionState(id=None)
        self._phases = config.session.phases
        # The running timeline follows the monotonic clock (Moment: what this run stamped moves with a corrected wall
        # clock; what a resumed session brought is taken as right, a Pi without a real-time clock comes back slow).
        self._started: Moment | None = None
        self._doses: list[Moment] = []
        self._checks = Checks(config.session)  # the vitals checks' schedule (roomctl.session.checks)
        self._last_bp: Moment | None = None  # the last blood pressure entered (the discharge check asks when)
        self._standby: BreakStandby | None = None  # a break's monitoring standby (session/standby.py)
        self._wearables = tuple(w.id for w in config.wearables)
        self._wall_offset: float | None = None  # wall - monotonic at the last tick
        self._meta: dict[str, Any] = {}
        self._lock = asyncio.Lock()  # commands, the tick and the resume change the session one at a time
        self._discharge = DischargeWatch(config.session.discharge)
        self._proposal = proposal.ProposalWindow(config.alarms.baseline_window_s)
        self._sampled: dict[Quantity, datetime] = {}  # the reading last put in the proposal's window, per vital
        self._discharge_from = [p.id for p in self._phases].index(config.session.discharge_phase)

    @property
    def active(self) -> bool:
        return self.state.id is not None and self.state.ended_at is None

    # ---------------------------------------------------------------- lifecycle

    async def resume(self) -> bool:
        """Take up the session that was open when the daemon stopped; True if there was one.

        Any older session still open (an earlier run stopped without closing it) is closed here, at its last record,
        and its record says so: only one session is ever open."""
        async with self._lock:
            rows = await self.store.call(lambda db: db.open_sessions())
            for orphan in rows[1:]:
                await self._close_orphan(orphan)
            return await self._resume(rows[0] if rows else None)

    async def _close_orphan(self, row: SessionRow) -> None:
        last = await self.store.call(lambda db: db.last_activity(row.id))
        ended_at = datetime.fromtimestamp(last, UTC)
        state = SessionState.model_validate_json(row.state).model_copy(
            update={"ended_at": ended_at, "next_vitals_check": None}
        )
        await self.store.save_session(
            SessionRow(row.id, row.session_kind, row.started_at, last, state.model_dump_json(), row.meta)
        )
        text = "closed when roomctl started: it was left open, and a later session was open too"
        closed = {"closed_by": "roomctl", "closed_at": iso_ms(self.clock.now()), "reason": "left open"}
        self.hub.publish(
            SessionEvent(
                id=secrets.token_hex(8),
                session=row.id,
                event=SessionEventKind.SESSION_END,
                ts=ended_at,
                text=text,
                data=closed,
            )
        )
        log.warning("session %s was left open; closed at its last record (%s)", row.id, iso_ms(ended_at))

    async def _resume(self, row: SessionRow | None) -> bool:
        if row is None:
            self.hub.publish(self.state)
            return False
        state = SessionState.model_validate_json(row.state)
        mono, now = self.clock.monotonic(), self.clock.now()
        self._meta = row.meta
        self._started = Moment.at(state.started_at, now, mono) if state.started_at else None
        self._doses = [Moment.at(t, now, mono) for t in state.dose_times]
        next_check = state.next_vitals_check
        self._checks.stop()
        self._checks.due = Moment.at(next_check, now, mono) if next_check else None
        self._checks.taken = dict(self._meta.get("check_taken") or {})
        bp_at = self._meta.get("last_blood_pressure_at")
        self._last_bp = Moment.at(datetime.fromtimestamp(bp_at, UTC), now, mono) if bp_at is not None else None
        self._standby = BreakStandby.from_meta(self._meta.get("standby"), now, mono) if state.standby else None
        self.state = state.model_copy(update={"standby": self._standby.state(mono) if self._standby else None})
        self._show_checks()
        self._wall_offset = now.timestamp() - mono
        confirmed = self.baselines()
        self._discharge.start()
        self._discharge.use_baselines(
            {b.quantity: b.value for b in confirmed}, entered=any(b.source == "entered" for b in confirmed)
        )
        if state.session_kind is SessionKind.DOSING and not state.dose_times and not confirmed:
            self._proposal.restart(mono)  # the window starts again: what it had before the restart is not kept
        else:
            self._proposal.stop()
        self._refresh_baseline()
        log.info("resumed session %s in phase %s", state.id, state.phase)
        await self._commit([self._event(SessionEventKind.NOTE, "roomctl restarted; session resumed", source="roomctl")])
        return True

    async def handle(self, command: Command, source: str = "local") -> CommandResult:
        """Act on a session command; anything else is not this manager's. One command at a time: each sees the
        session as the one before it left it (an end and a start from two screens never interleave)."""
        async with self._lock:
            return await self._handle(command, source)

    async def _handle(self, command: Command, source: str) -> CommandResult:
        try:
            match command:
                case StartSession():
                    return await self.start(command.session_kind)
                case EndSession():
                    return await self.end()
                case SetPhase():
                    return await self.set_phase(command.phase)
                case MarkEvent():
                    result = await self.mark(command.event, command.text, command.amount_mg, command.standby)
                    return result if not result.ok else self._dose_warning(command, result)
                case TickChecklist():
                    return await self.tick_checklist(command.ticked)
                case SetBaseline():
                    return await self.set_baseline(command)
                case EnterBloodPressure():
                    return await self.enter_blood_pressure(command.systolic, command.diastolic, command.pulse_rate)
                case EnterTemperature():
                    return await self.enter_temperature(command.celsius)
                case EnterDistress():
                    return await self.enter_distress(command.rating)
                case RecordAdverseEvent():
                    return await self.adverse_event(command)
                case DischargeCheck():
                    return await self.discharge_check(command.oriented_and_grounded, command.support_person_present)
                case _:
                    return _refused(f"'{command.command}' is not a session command")
        except StorageError as e:
            log.error("session command %s from %s not recorded: %s", command.command, source, e)
            return _refused(f"not recorded: {e}")

    async def start(self, session_kind: SessionKind) -> CommandResult:
        if self.active:
            return _refused(f"session {self.state.id} is still running; end it first")
        now = self.clock.now()
        dosing = session_kind is SessionKind.DOSING
        mono = self.clock.monotonic()
        self._started, self._doses, self._last_bp = Moment(now, mono), [], None
        self._standby = None
        self._checks.stop()
        if dosing:
            self._checks.start(self._started)
        self._meta = {
            "phases": [{"id": p.id, "label": p.label} for p in self._phases],
            "alarm_rules": [r.model_dump(mode="json") for r in self.config.alarms.rules],
            "vitals_check_interval_min": self.config.session.vitals_check_interval_min,
            "checks": self.config.session.checks.model_dump(mode="json"),
            "manual": {},
            ALARMS_AT_START: list(self.hub.state.alarms),
        }
        self._discharge.start()
        if dosing:
            self._proposal.restart(mono)
        self._wall_offset = now.timestamp() - mono
        self.state = SessionState(
            id=secrets.token_hex(6),
            session_kind=session_kind,
            phase=self._phases[0].id if dosing else None,
            started_at=now,
            checklist=checklist.initial(self.config.session.checklist) if dosing else (),
            supplemental_window_min=(
                (self.config.session.supplemental_from_min, self.config.session.supplemental_to_min) if dosing else None
            ),
        )
        self._show_checks()
        self._refresh_baseline()
        data = {"session_kind": session_kind.value, "phase": self.state.phase}
        await self._commit([self._event(SessionEventKind.SESSION_START, None, **data)])
        shown = list(dict.fromkeys([*self._meta[ALARMS_AT_START], *self.hub.state.alarms]))
        if shown != self._meta[ALARMS_AT_START]:  # raised while the start was being saved: stored without the session
            self._meta[ALARMS_AT_START] = shown
            await self.store.save_session(self._row())
        return _ok(f"{session_kind.value} session {self.state.id} started")

    async def end(self) -> CommandResult:
        if not self.active:
            return _refused(NO_SESSION)
        events: list[SessionEvent | Reading] = []
        if (missed := self._checks.missed(Moment(self.clock.now(), self.clock.monotonic()))) is not None:
            events.append(self._event(SessionEventKind.VITALS_CHECK, check_text(missed), **missed))
        self._checks.stop()
        self._show_checks()
        ended = self.state.model_copy(update={"ended_at": self.clock.now(), "standby": None})
        events.append(self._event(SessionEventKind.SESSION_END, None))
        self.state = ended
        await self._commit(events)
        self.state = SessionState(id=None)
        self.hub.publish(self.state)
        self._started, self._doses, self._last_bp = None, [], None
        self._standby = None
        self._proposal.stop()
        return _ok(f"session {ended.id} ended")

    # ---------------------------------------------------------------- the timeline

    async def record_limit(
        self, data: dict[str, Any], text: str, in_force: Callable[[], list[dict[str, object]]]
    ) -> None:
        """A limit set for this session (``set_limit``) goes on the session's record; ``in_force()``, every limit set
        for this session with this one, is kept with the session so that a restarted daemon applies them again. It is
        asked once this change has its turn, so a change that was recorded (and applied) just before is in it too."""
        async with self._lock:
            if not self.active:  # ended while the change waited its turn
                raise RoomctlError(NO_SESSION)
            before = self._meta.get("limits")
            self._meta["limits"] = in_force()
            try:
                await self._commit([self._event(SessionEventKind.LIMIT_SET, text, **data)])
            except StorageError:
                self._meta["limits"] = before
                raise

    @property
    def meta(self) -> dict[str, Any]:
        """What the session's record keeps besides its state (rules, limits set, baselines); read it, don't change it."""
        return self._meta

    async def set_phase(self, phase: str) -> CommandResult:
        if not self.active:
            return _refused(NO_SESSION)
        if self.state.session_kind is not SessionKind.DOSING:
            return _refused("phases belong to dosing sessions")
        ids = [p.id for p in self._phases]
        if phase not in ids:
            return _refused(f"unknown phase '{phase}'; the phases are: {', '.join(ids)}")
        if phase == self.state.phase:
            return _ok(f"already in phase {phase}")
        event = self._event(SessionEventKind.PHASE_CHANGE, None, **{"from": self.state.phase, "to": phase})
        self.state = self.state.model_copy(update={"phase": phase})
        self.state = self.state.model_copy(update={"suggested_phase": self._suggestion()})
        await self._commit([event])
        return _ok(f"phase: {self._label(phase)}")

    async def mark(
        self, event: str, text: str | None, amount_mg: float | None, standby: tuple[str, ...] = ()
    ) -> CommandResult:
        if not self.active:
            return _refused(NO_SESSION)
        kind = SessionEventKind(event)
        now = self.clock.now()
        update: dict[str, Any] = {}
        data: dict[str, Any] = {"amount_mg": amount_mg} if amount_mg is not None else {}
        also: list[SessionEvent] = []
        if kind in (SessionEventKind.DOSE, SessionEventKind.SUPPLEMENTAL_DOSE):
            if self.state.session_kind is not SessionKind.DOSING:
                return _refused("doses are recorded in dosing sessions only")
            first = self.state.dose_times[0] if self.state.dose_times else None
            if kind is SessionEventKind.DOSE and first is not None:
                return _refused(f"the dose was already recorded at {first:%H:%M} UTC; mark a supplemental dose instead")
            if kind is SessionEventKind.SUPPLEMENTAL_DOSE and first is None:
                return _refused("record the initial dose first")
            self._doses.append(Moment(now, self.clock.monotonic()))
            left = checklist.open_items(self.state.checklist)
            if kind is SessionEventKind.DOSE and left:
                data["open_items"] = left
                text = "; ".join(t for t in (f"dose with open items: {', '.join(left)}", text) if t)
            if kind is SessionEventKind.SUPPLEMENTAL_DOSE:
                data["minutes_after_dose"] = round((self._doses[-1].mono - self._doses[0].mono) / 60, 1)
                warning = self._supplemental_warning()
                data["outside_window"] = warning is not None
                if warning is not None:
                    text = "; ".join(t for t in (f"supplemental dose {warning}", text) if t)
            self._checks.dosed(self._doses[-1])  # denser checks after a dose
            update["dose_times"] = (*self.state.dose_times, now)
            self._proposal.stop()  # the proposal is of the time before the dose
        elif kind is SessionEventKind.BREAK_START:
            if self.state.on_break:
                return _refused("a break is already running")
            unknown = [d for d in standby if d not in self._wearables]
            if unknown:
                return _refused(
                    f"no wearable {', '.join(unknown)} in this room; its wearables: {', '.join(self._wearables)}"
                )
            update["on_break"] = True
            if standby:
                minutes = self.config.session.break_standby_min
                self._standby = BreakStandby.begin(tuple(dict.fromkeys(standby)), minutes, now, self.clock.monotonic())
                data["standby"] = list(self._standby.devices)
                also.append(self._standby_event(SessionEventKind.STANDBY_START, minutes=minutes))
        elif kind is SessionEventKind.BREAK_END:
            if not self.state.on_break:
                return _refused("no break is running")
            update["on_break"] = False
            if self._standby is not None:
                self._standby = self._standby.after_break(now, self.clock.monotonic())
        if self._standby is not None and kind in (SessionEventKind.BREAK_START, SessionEventKind.BREAK_END):
            self._meta["standby"] = self._standby.meta()
            update["standby"] = self._standby.state(self.clock.monotonic())
        elif kind is SessionEventKind.NOTE and not (text and text.strip()):
            return _refused("a note needs some text")
        self.state = self.state.model_copy(update=update)
        self.state = self.state.model_copy(update={"suggested_phase": self._suggestion()})
        self._show_checks()
        self._refresh_baseline()
        await self._commit([self._event(kind, text, **data), *also])
        if also:
            minutes = self.config.session.break_standby_min
            return _ok(f"break started; standby for {', '.join(standby)} (at most {minutes:g} min)")
        return _ok(f"{kind.value.replace('_', ' ')} marked at {now:%H:%M:%S} UTC")

    # ---------------------------------------------------------------- the checklist (roomctl/session/checklist.py)

    def _tick(self, ticked: list[str], now: datetime) -> list[SessionEvent | Reading]:
        """Set the checklist to ``ticked``; the events of the items that changed."""
        state, changed = checklist.tick(self.state.checklist, ticked, now)
        self.state = self.state.model_copy(update={"checklist": state})
        return [
            self._event(
                SessionEventKind.CHECKLIST,
                checklist.change_text(i),
                item=i.id,
                label=i.label,
                ticked=i.ticked_at is not None,
            )
            for i in changed
        ]

    async def tick_checklist(self, ticked: list[str]) -> CommandResult:
        if not self.active:
            return _refused(NO_SESSION)
        if not self.state.checklist:
            return _refused("this session has no checklist (dosing sessions, [session] checklist)")
        unknown = checklist.unknown(self.state.checklist, ticked)
        if unknown:
            ids = ", ".join(i.id for i in self.state.checklist)
            return _refused(f"no checklist item {', '.join(unknown)}; the items are: {ids}")
        events = self._tick(ticked, self.clock.now())
        if events:
            await self._commit(events)
        left = checklist.open_items(self.state.checklist)
        return _ok(f"checklist: {len(self.state.checklist) - len(left)} of {len(self.state.checklist)} ticked")

    def _dose_warning(self, command: MarkEvent, result: CommandResult) -> CommandResult:
        if command.event == "supplemental_dose" and (warning := self._supplemental_warning()):
            return _ok(f"{result.message}; WARNING: {warning}")
        return result

    def _supplemental_warning(self) -> str | None:
        if len(self._doses) < 2:
            return None
        minutes = (self._doses[-1].mono - self._doses[0].mono) / 60
        return checklist.supplemental(minutes, self.config.session)

    # ---------------------------------------------------------------- standby

    def _standby_event(self, kind: SessionEventKind, **data: Any) -> SessionEvent:
        assert self._standby is not None
        devices = ", ".join(self._standby.devices)
        text = {
            SessionEventKind.STANDBY_START: f"monitoring standby for the break: {devices}",
            SessionEventKind.STANDBY_END: f"standby over for {devices}",
        }[kind]
        return self._event(kind, text, devices=list(self._standby.devices), **data)

    def _back(self, device: str) -> bool:
        state = self.hub.state.devices.get(device)
        return state is not None and state.state is LinkState.CONNECTED

    async def _keep_standby(self) -> None:
        """Standby ends when it runs out, or once the break is over and its wearables are back (at most a minute)."""
        standby, mono = self._standby, self.clock.monotonic()
        if standby is None:
            return
        missing = [d for d in standby.devices if not self._back(d)]
        if not standby.over(mono) and not (standby.break_over and not missing):
            return
        reason = "ran out" if not standby.break_over else "break over" if missing else "wearables back"
        event = self._standby_event(SessionEventKind.STANDBY_END, reason=reason, not_back=missing)
        if missing:
            event = event.model_copy(update={"text": f"{event.text}: reattach the wearables ({', '.join(missing)})"})
        self._standby = None
        self._meta.pop("standby", None)
        self.state = self.state.model_copy(update={"standby": None})
        await self._commit([event])

    # ---------------------------------------------------------------- discharge

    def _discharge_offered(self) -> bool:
        """A dosing session whose phase (or the phase time suggests) has reached the one the check is offered from."""
        if not self.active or self.state.session_kind is not SessionKind.DOSING:
            return False
        ids = [p.id for p in self._phases]
        reached = [ids.index(p) for p in (self.state.phase, self.state.suggested_phase) if p in ids]
        return bool(reached) and max(reached) >= self._discharge_from

    def _discharge_status(self) -> DischargeStatus:
        checked = self.state.discharge.checked_at if self.state.discharge else None
        manual = self._meta.get("manual", {})
        alarms = list(self.hub.state.alarms.values())
        return self._discharge.status(self.clock.monotonic(), manual, alarms, self._timing(), checked)

    def _timing(self) -> Timing:
        """How long ago the last dose and the last blood pressure were, on the monotonic clock."""
        mono = self.clock.monotonic()
        dose, bp = (self._doses[-1] if self._doses else None), self._last_bp
        return Timing(
            since_last_dose_s=mono - dose.mono if dose else None,
            supplemental=len(self._doses) > 1,
            since_blood_pressure_s=mono - bp.mono if bp else None,
            blood_pressure_after_dose=dose is None or (bp is not None and bp.mono >= dose.mono),
        )

    def _worn(self, quantity: Quantity) -> Reading | None:
        """The newest reading of ``quantity`` from a wearable (not entered by hand)."""
        found = [r for (device, q), r in self.hub.state.readings.items() if q is quantity and device != MANUAL_DEVICE]
        return max(found, key=lambda r: r.ts, default=None)

    def _refresh_discharge(self) -> bool:
        """Bring ``state.discharge`` up to date; True when it changed."""
        discharge = self._discharge_status() if self._discharge_offered() else None
        if discharge == self.state.discharge:
            return False
        self.state = self.state.model_copy(update={"discharge": discharge})
        return True

    async def discharge_check(self, oriented_and_grounded: bool, support_person_present: bool) -> CommandResult:
        if not self.active:
            return _refused(NO_SESSION)
        if self.state.session_kind is not SessionKind.DOSING:
            return _refused("the discharge check belongs to dosing sessions")
        if not self._discharge_offered():
            phase = self._label(self._phases[self._discharge_from].id)
            return _refused(f"the discharge check is offered from the phase '{phase}' on")
        status = self._discharge_status()
        if not status.vitals_ready:
            return _refused("; ".join(f for f in status.findings if f.startswith("not yet")))
        if not (oriented_and_grounded and support_person_present):
            return _refused("the team confirms both: oriented and grounded, and a support person present")
        now = self.clock.now()
        data = {
            "findings": list(status.findings),
            "oriented_and_grounded": True,
            "support_person_present": True,
        }
        event = self._event(SessionEventKind.DISCHARGE_CHECK, None, **data)
        self.state = self.state.model_copy(update={"discharge": status.model_copy(update={"checked_at": now})})
        await self._commit([event])
        return _ok(f"discharge check passed and recorded at {now:%H:%M:%S} UTC")

    # ---------------------------------------------------------------- manual vitals

    async def enter_blood_pressure(self, systolic: float, diastolic: float, pulse_rate: float | None) -> CommandResult:
        problem = check_blood_pressure(systolic, diastolic, pulse_rate)
        if problem:
            return _refused(problem)
        if not self.active:
            return _refused(NO_SESSION)
        values = {Quantity.SYSTOLIC: systolic, Quantity.DIASTOLIC: diastolic, Quantity.PULSE_RATE: pulse_rate}
        data = {"systolic": systolic, "diastolic": diastolic, "pulse_rate": pulse_rate}
        self._meta.setdefault("manual", {}).setdefault("blood_pressure", []).append([systolic, diastolic])
        self._last_bp = Moment(self.clock.now(), self.clock.monotonic())
        self._meta["last_blood_pressure_at"] = self._last_bp.stamp.timestamp()  # kept across a restart
        await self._manual_vitals(
            SessionEventKind.BLOOD_PRESSURE, values, data, (Part.BLOOD_PRESSURE, [systolic, diastolic])
        )
        pulse = f", pulse {pulse_rate:g} bpm" if pulse_rate is not None else ""
        return _ok(f"blood pressure {systolic:g}/{diastolic:g} mmHg{pulse} recorded")

    async def enter_temperature(self, celsius: float) -> CommandResult:
        problem = check_temperature(celsius)
        if problem:
            return _refused(problem)
        if not self.active:
            return _refused(NO_SESSION)
        self._meta.setdefault("manual", {}).setdefault("temperature", []).append([celsius])
        values: dict[Quantity, float | None] = {Quantity.TEMPERATURE: celsius}
        await self._manual_vitals(
            SessionEventKind.TEMPERATURE, values, {"celsius": celsius}, (Part.TEMPERATURE, celsius)
        )
        return _ok(f"temperature {celsius:.1f} °C recorded")

    async def enter_distress(self, rating: int) -> CommandResult:
        if not self.active:
            return _refused(NO_SESSION)
        await self._manual_vitals(SessionEventKind.DISTRESS, {}, {"rating": rating}, (Part.DISTRESS, rating))
        return _ok(f"distress {rating} of 10 recorded")

    async def adverse_event(self, command: RecordAdverseEvent) -> CommandResult:
        if not self.active:
            return _refused(NO_SESSION)
        lists = self.config.session.adverse_events
        for what, given, known in (
            ("category", command.category, lists.categories),
            ("action", command.action, lists.actions),
        ):
            if given is not None and given not in known:
                return _refused(f"unknown {what} '{given}'; this room's are: {', '.join(known)}")
        text = command.text.strip() if command.text and command.text.strip() else None
        data = {
            "category": command.category,
            "severity": command.severity.value,
            "action": command.action,
            "emergency_services": command.emergency_services,
        }
        await self._commit([self._event(SessionEventKind.ADVERSE_EVENT, text, **data)])
        called = ", emergency services called" if command.emergency_services else ""
        return _ok(f"adverse event recorded: {command.category.replace('_', ' ')}, {command.severity.value}{called}")

    async def _manual_vitals(
        self,
        kind: SessionEventKind,
        values: dict[Quantity, float | None],
        data: dict[str, Any],
        part: tuple[Part, Any],
    ) -> None:
        now, mono = self.clock.now(), self.clock.monotonic()
        readings = [
            Reading(quantity=q, value=v, unit=UNITS[q], device=MANUAL_DEVICE, ts=now)
            for q, v in values.items()
            if v is not None
        ]
        events: list[SessionEvent | Reading] = [self._event(kind, None, **data), *readings]
        dose = self._doses[-1] if self._doses else None
        done = self._checks.take(part[0], part[1], Moment(now, mono), mono - dose.mono if dose else None)
        if done is not None:  # this part completed the check: the next one is scheduled from now
            events.append(self._event(SessionEventKind.VITALS_CHECK, check_text(done), **done))
        self._show_checks()
        await self._commit(events)

    def _show_checks(self) -> None:
        """The check's schedule into the state (the screen and MQTT) and the record (what it has so far, for a restart)."""
        c = self._checks
        overdue = c.overdue_at()
        self._meta["check_taken"] = dict(c.taken)
        self.state = self.state.model_copy(
            update={
                "next_vitals_check": c.due.stamp if c.due else None,
                "vitals_check_overdue_at": overdue.stamp if overdue else None,
                "vitals_check_missing": tuple(p.value for p in c.missing()),
            }
        )

    # ---------------------------------------------------------------- time

    async def tick(self) -> None:
        """Call about once a second: follows a corrected wall clock, updates the phase suggestion and announces a
        vitals check when due."""
        step = self._wall_step()
        if not self.active:
            return
        if step:
            await self._wall_corrected(step)
        await self._keep_audio_pause()
        await self._keep_standby()
        suggestion = self._suggestion()
        changed = suggestion != self.state.suggested_phase
        if changed:
            self.state = self.state.model_copy(update={"suggested_phase": suggestion})
        if self.state.session_kind is SessionKind.DOSING:
            watch = self._discharge
            reading = watch.choose(self._worn(Quantity.HEART_RATE), self._worn(Quantity.PULSE_RATE))
            watch.observe(reading, self.clock.monotonic(), self.clock.now())
            self._sample_proposal()
            changed = self._refresh_discharge() or changed
            changed = self._refresh_baseline() or changed
        if changed:
            self.hub.publish(self.state)
        reminder = self._checks.reminder(self.clock.monotonic())
        if reminder is not None and self._checks.due is not None:
            due_at, needs = iso_ms(self._checks.due.stamp), self._checks.words()
            missing = [p.value for p in self._checks.missing()]
            if reminder is Reminder.DUE:
                kind, text = SessionEventKind.VITALS_CHECK_DUE, f"vitals check due: {needs}"
            else:
                kind, text = SessionEventKind.VITALS_CHECK_OVERDUE, f"vitals check overdue: {needs}"
            self.hub.publish(self._event(kind, text, due_at=due_at, missing=missing))

    def baselines(self) -> list[BaselineRecord]:
        """The baselines the team confirmed or entered for this session, one per quantity (a ``measured`` one, kept by
        a version that took the first minutes without the team, is not used: absolute limits)."""
        return [b for b in BaselineRecord.parse_all(self._meta.get("baselines")) if b.source != "measured"]

    # ---------------------------------------------------------------- the baseline (roomctl/session/baseline.py)

    def _sample_proposal(self) -> None:
        """Each new valid wearable reading of a proposed vital goes into the proposal's window (once a tick)."""
        if not self._proposal.running:
            return
        mono = self.clock.monotonic()
        for quantity in proposal.PROPOSED:
            r = self._worn(quantity)
            if r is None or r.value is None or r.quality is not Quality.OK or self._sampled.get(quantity) == r.ts:
                continue
            self._sampled[quantity] = r.ts
            self._proposal.add(quantity, r.value, mono)

    def _refresh_baseline(self) -> bool:
        """Bring ``state.baseline`` up to date (dosing sessions); True when it changed."""
        if self.state.session_kind is not SessionKind.DOSING or not self.active:
            return False
        shown = proposal.status(
            self._proposal,
            self.baselines(),
            self._meta.get("manual", {}),
            self.clock.monotonic(),
            self.clock.now(),
            dosed=bool(self.state.dose_times),
        )
        if shown == self.state.baseline:
            return False
        self.state = self.state.model_copy(update={"baseline": shown})
        return True

    async def set_baseline(self, command: SetBaseline) -> CommandResult:
        """Confirm the proposed baseline, re-take it, or enter one by hand; a confirmed one applies from now."""
        if not self.active:
            return _refused(NO_SESSION)
        if self.state.session_kind is not SessionKind.DOSING:
            return _refused("the baseline belongs to dosing sessions")
        mono, now = self.clock.monotonic(), self.clock.now()
        if command.action == "enter":
            values = proposal.entered(command)
        else:
            refusal = proposal.refusal(
                command.action, self._proposal, mono, bool(self.state.dose_times), self.baselines()
            )
            if refusal is not None:
                return _refused(refusal)
            if command.action == "retake":
                self._proposal.restart(mono)
                self._refresh_baseline()
                text = f"baseline re-taken: a new window of {duration_words(self._proposal.window_s)} starts now"
                await self._commit([self._event(SessionEventKind.BASELINE_RETAKE, text)])
                return _ok(text)
            values = {**self._proposal.proposal(mono), **proposal.entered_before_dose(self._meta.get("manual", {}))}
        source = "entered" if command.action == "enter" else "confirmed"
        window = self._proposal.window_s if source == "confirmed" else None
        records = [
            BaselineRecord(quantity=q, value=v, device=None, source=source, taken_at=now, window_s=window)
            for q, v in values.items()
        ]
        kept = [b for b in self.baselines() if b.quantity not in values]
        self._meta["baselines"] = [b.model_dump(mode="json") for b in (*kept, *records)]
        self._discharge.use_baselines({b.quantity: b.value for b in (*kept, *records)}, entered=source == "entered")
        self._proposal.stop()
        self._refresh_baseline()
        events: list[SessionEvent | Reading] = [
            self._event(SessionEventKind.BASELINE, proposal.record_text(b), **b.model_dump(mode="json"))
            for b in records
        ]
        ticked = [i.id for i in self.state.checklist if i.ticked_at is not None]
        events += self._tick([*ticked, BASELINE_ITEM], now)  # "baseline confirmed" ticks itself
        await self._commit(events)
        how = "entered by hand" if source == "entered" else "confirmed"
        return _ok(f"baseline {how}: {baseline_words(values)}; the limits follow it")

    async def _keep_audio_pause(self) -> None:
        """The room's audio pause (acknowledge all) is kept with the session: a restart goes on with what is left of it."""
        pause = self.hub.state.audio_pause
        until = pause.until.isoformat() if pause is not None and pause.until is not None else None
        if self._meta.get("audio_pause_until") != until:
            self._meta["audio_pause_until"] = until
            await self.store.save_session(self._row())

    def audio_pause_until(self) -> datetime | None:
        """When the room's audio pause kept with this session ends (wall time), or None."""
        until = self._meta.get("audio_pause_until")
        try:
            return datetime.fromisoformat(until) if isinstance(until, str) else None
        except ValueError:
            return None

    async def run(self, period_s: float = 1.0) -> None:
        """Tick forever (the daemon runs this as a task)."""
        while True:
            await self.clock.sleep(period_s)
            async with self._lock:
                await self.tick()

    def _wall_step(self) -> float:
        """Seconds the wall clock stepped since the last tick (0.0 when it did not)."""
        offset = self.clock.now().timestamp() - self.clock.monotonic()
        last, self._wall_offset = self._wall_offset, offset
        step = offset - last if last is not None else 0.0
        return step if abs(step) >= WALL_STEP_S else 0.0

    async def _wall_corrected(self, step: float) -> None:
        """The wall clock moved by ``step`` seconds: the session's running timeline (since start, since dose, next
        vitals check) is set to the time that really passed; the record keeps every stamp as it was taken, and says so."""
        state, now, mono = self.state, self.clock.now(), self.clock.monotonic()
        self._doses = [d.corrected(step, now, mono) for d in self._doses]
        if self._checks.due is not None:
            self._checks.due = self._checks.due.corrected(step, now, mono)
        if self._last_bp is not None:
            self._last_bp = self._last_bp.corrected(step, now, mono)
            self._meta["last_blood_pressure_at"] = self._last_bp.stamp.timestamp()
        if self._standby is not None:
            self._standby = self._standby.corrected(step, now, mono)
            self._meta["standby"] = self._standby.meta()
        update: dict[str, Any] = {"dose_times": tuple(d.stamp for d in self._doses)}
        if self._started is not None:
            self._started = self._started.corrected(step, now, mono)
            update["started_at"] = self._started.stamp
        self.state = state.model_copy(update=update)
        self._show_checks()
        sign = "+" if step > 0 else "-"
        text = (
            f"the wall clock was corrected by {sign}{duration_words(abs(step))}; the session's timeline follows the time"
            " that really passed (times recorded before stay as they were stamped)"
        )
        log.warning("session %s: %s", state.id, text)
        await self._commit([self._event(SessionEventKind.NOTE, text, source="roomctl", wall_step_s=round(step, 3))])

    def _suggestion(self) -> str | None:
        if not self._doses or self.state.session_kind is not SessionKind.DOSING:
            return None
        minutes = (self.clock.monotonic() - self._doses[0].mono) / 60
        return suggest(self._phases, self.state.phase, minutes)

    # ---------------------------------------------------------------- plumbing

    def _label(self, phase: str) -> str:
        return next((p.label for p in self._phases if p.id == phase), phase)

    def _event(self, kind: SessionEventKind, text: str | None, **data: Any) -> SessionEvent:
        assert self.state.id is not None
        return SessionEvent(
            id=secrets.token_hex(8), session=self.state.id, event=kind, ts=self.clock.now(), text=text, data=data
        )

    def _row(self) -> SessionRow:
        state = self.state
        assert state.id is not None
        assert state.session_kind is not None
        assert state.started_at is not None
        ended = state.ended_at.timestamp() if state.ended_at else None
        return SessionRow(
            state.id, state.session_kind.value, state.started_at.timestamp(), ended, state.model_dump_json(), self._meta
        )

    async def _commit(self, events: list[SessionEvent | Reading]) -> None:
        """Save the session row, announce the state and events, and wait until the writer has them on disk."""
        self._refresh_discharge()  # a phase change may offer the check
        state = self.state
        await self.store.save_session(self._row())
        for event in events:
            self.hub.publish(event)
        self.hub.publish(state)
        if self.writer is not None:
            await self.writer.flush()

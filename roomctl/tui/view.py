"""What the screen knows: the room's state as the API reports it, and how each part reads in words. No Textual here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from roomctl.api.client import Disconnected, Update
from roomctl.api.protocol import (
    HEARTBEAT_TIMEOUT_S,
    EventMessage,
    Hello,
    History,
    RoomInfo,
    Snapshot,
    load_into,
)
from roomctl.hub import LiveState
from roomctl.models import (
    PRIORITY_RANK,
    Alarm,
    LinkState,
    Priority,
    Quality,
    Quantity,
    Reading,
)
from roomctl.quantities import VitalDescription
from roomctl.terminal.looks import PREFIX

DEFAULT_STALE_S = 10.0


@dataclass(frozen=True)
class VitalReading:
    text: str  # the number, or "--"
    status: str  # "" when fine, otherwise why there is no (trustworthy) number


@dataclass
class RoomView(LiveState):
    """The hub's latest-state model (``LiveState``, trends included), fed from the API, plus the link."""

    info: RoomInfo | None = None
    connected: bool = False
    link_problem: str = ""  # why the link is down, in words; "" before the first attempt ends
    pause_seen: float = (
        0.0  # monotonic time the audio pause (and its remaining_s) arrived: the countdown ignores wall time
    )

    heard_at: float = 0.0  # monotonic time of the last message from the daemon (a heartbeat at least once a second)
    hung: bool = False  # connected, but the daemon has said nothing for HEARTBEAT_TIMEOUT_S: treated as link lost
    received: dict[tuple[str, Quantity], float] = field(default_factory=dict)
    """(device, quantity) -> the screen's monotonic time its latest reading came: a reading's age never follows the
    wall clock, which NTP steps (a step back made a silent wearable's last number look fresh)."""

    standby_seen: float = 0.0
    """Monotonic time the session's standby (and its remaining_s) arrived."""

    def apply_update(self, update: Update, monotonic: float = 0.0) -> None:
        """Apply one update from the link, received at ``monotonic`` (the screen's clock)."""
        pause, standby = self.audio_pause, self.session.standby
        self._apply_update(update)
        if self.audio_pause is not pause:
            self.pause_seen = monotonic
        if self.session.standby != standby:
            self.standby_seen = monotonic
        if isinstance(update, EventMessage):
            event = update.event
            if event.kind == "reading":
                self.received[(event.device, event.quantity)] = monotonic
        elif isinstance(update, Snapshot):  # each reading as old as the daemon's clock says it was when it sent them
            self.received = {
                key: monotonic - max(0.0, (update.ts - r.ts).total_seconds()) for key, r in self.readings.items()
            }

    def heard(self, monotonic: float) -> None:
        """A message came from the daemon at ``monotonic`` (on the link clock); a silent daemon that speaks again is
        back on the same connection, with nothing lost (the socket kept what it sent)."""
        self.heard_at = monotonic
        if self.hung:
            self.hung, self.connected, self.link_problem = False, True, ""

    def check_heartbeat(self, monotonic: float) -> None:
        """A daemon that stopped talking (hung, SIGSTOP) cannot raise alarms: show the link as lost, as when it is gone."""
        silent = monotonic - self.heard_at
        if (self.connected or self.hung) and silent > HEARTBEAT_TIMEOUT_S:
            self.hung, self.connected = True, False
            self.link_problem = f"daemon not answering (nothing for {int(silent)} s)"

    def _apply_update(self, update: Update) -> None:
        match update:
            case Hello():
                self.info = update.room
            case Snapshot():
                self.connected, self.link_problem = True, ""
                update.load_into(self)
            case History():
                load_into(update, self.trends)  # the daemon's trends replace what this screen had
            case EventMessage():
                self.apply(update.event)
            case Disconnected():
                self.connected, self.link_problem = False, update.reason

    # --- how things read ---------------------------------------------------------------------------------------

    def stale_after(self, device: str) -> float:
        for w in self.info.wearables if self.info else ():
            if w.id == device:
                return w.stale_after_s
        return DEFAULT_STALE_S

    def label(self, device: str) -> str:
        for w in self.info.wearables if self.info else ():
            if w.id == device:
                return w.label
        return device

    def vital(self, spec: VitalDescription, now: datetime, monotonic: float) -> VitalReading:
        """The number to show, or "--" and why: a frozen old number is never shown. With two wearables for one
        quantity (two oximeters), a valid fresh value is shown, naming its wearable, whatever the other sends; the
        other's trouble is said beside it."""
        if not self.connected:
            return VitalReading("--", "no data: daemon not reachable")
        judged = [(self._problem(r, now, monotonic), r) for r in self.readings_of(spec.quantity, monotonic)]
        if not judged:
            return VitalReading("--", "no data")
        valid = [r for problem, r in judged if not problem]
        if not valid:
            return VitalReading("--", judged[0][0])
        reading = valid[0]
        notes = ["questionable signal"] if reading.quality is Quality.QUESTIONABLE else []
        configured = {w.id for w in self.info.wearables} if self.info else set()
        others = [(problem, r) for problem, r in judged if r.device != reading.device and r.device in configured]
        if others:
            notes.insert(0, self.label(reading.device))
            for problem, r in others:
                said = "invalid" if problem.endswith("invalid reading") else "no data" if problem else None
                notes.append(f"{self.label(r.device)}: {said or f'{r.value:.{spec.decimals}f}'}")
        text = f"{reading.value:.{spec.decimals}f}"
        return VitalReading(text, "\n".join(notes))

    def readings_of(self, quantity: Quantity, monotonic: float) -> list[Reading]:
        """Each wearable's latest reading of ``quantity``, the most recently received first."""
        found = [r for (_, q), r in self.readings.items() if q is quantity]
        return sorted(found, key=lambda r: -self.received.get((r.device, quantity), -math.inf))

    def shown_reading(self, quantity: Quantity, now: datetime, monotonic: float) -> Reading | None:
        """The reading whose number :meth:`vital` shows (or the newest, when none is fit to show)."""
        readings = self.readings_of(quantity, monotonic)
        valid = [r for r in readings if not self._problem(r, now, monotonic)]
        return (valid or readings)[0] if readings else None

    def _problem(self, reading: Reading, now: datetime, monotonic: float) -> str:
        """Why ``reading`` is not a number to show now ("" when it is): its wearable's link, its age on the monotonic
        clock (or the wearable's own "stale"), a missing or invalid value."""
        device = self.devices.get(reading.device)
        if device is not None and device.state in (LinkState.DISCONNECTED, LinkState.CONNECTING):
            return f"no data: {device.state.value}"
        came = self.received.get((reading.device, reading.quantity))
        age = monotonic - came if came is not None else (now - reading.ts).total_seconds()
        if age > self.stale_after(reading.device) or (device is not None and device.state is LinkState.STALE):
            return f"no data for {format_duration(age)}"
        if reading.value is None or reading.quality is Quality.INVALID:
            return "no data: invalid reading"
        return ""

    def limits_text(self, quantity: Quantity, device: str | None = None) -> str:
        """The first alarm limits in force for ``quantity`` (of ``device``, the wearable shown; default: the newest
        reading's): set for this session or baseline-derived when they are. A limit set for this session
        (``set_limit``, the screen's L key) is marked ``*``."""
        lows, highs = self._limits_in_force(quantity, device)
        if self.limits is None:
            rules = [lim for lim in (self.info.limits if self.info else ()) if lim.quantity is quantity]
            lows = [(lim.low, "configured") for lim in rules if lim.low is not None]
            highs = [(lim.high, "configured") for lim in rules if lim.high is not None]
        low, high = max(lows, default=None), min(highs, default=None)
        star = "*" if any(x is not None and x[1] == "session" for x in (low, high)) else ""
        if low is not None and high is not None:
            return f"{low[0]:g}-{high[0]:g}{star}"
        if low is not None:
            return f"low {low[0]:g}{star}"
        return f"high {high[0]:g}{star}" if high is not None else ""

    def _limits_in_force(
        self, quantity: Quantity, device: str | None
    ) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
        """From the engine's announcement, (limit, source) pairs: baseline-derived limits of the wearable shown replace
        the general ones."""
        if self.limits is None:
            return [], []
        if device is None:
            latest = self.latest.get(quantity)
            device = latest.device if latest is not None else None
        chosen: dict[tuple[str, str], tuple[float, str]] = {}
        for lim in self.limits.limits:
            if lim.quantity is quantity and lim.device in (None, device):
                key = (lim.direction, lim.priority.value)
                if lim.device is not None or key not in chosen:
                    chosen[key] = (lim.limit, lim.source)
        lows = [v for (d, _), v in chosen.items() if d == "low"]
        highs = [v for (d, _), v in chosen.items() if d == "high"]
        return lows, highs

    def alarms_in_order(self) -> list[Alarm]:
        """Highest priority first; unacknowledged before acknowledged; newest first."""
        return sorted(
            self.alarms.values(),
            key=lambda a: (-PRIORITY_RANK[a.priority], a.acknowledged_at is not None, -a.raised_at.timestamp()),
        )

    def flashing(self) -> Priority | None:
        """The priority whose flash rate the banner uses: only unacknowledged high and medium alarms flash."""
        waiting = [a.priority for a in self.alarms.values() if a.acknowledged_at is None]
        for priority in (Priority.HIGH, Priority.MEDIUM):
            if priority in waiting:
                return priority
        return None

    def pause_remaining(self, monotonic: float) -> float:
        """Seconds of audio pause left at the screen's monotonic time (the daemon's ``remaining_s`` counted down)."""
        if self.audio_pause is None or self.audio_pause.until is None:
            return 0.0
        return max(0.0, self.audio_pause.remaining_s - (monotonic - self.pause_seen))

    def standby_text(self, monotonic: float) -> str:
        """A break's monitoring standby in words, counted down on the screen's monotonic clock; "" when there is none."""
        standby = self.session.standby
        if standby is None:
            return ""
        left = max(0.0, standby.remaining_s - (monotonic - self.standby_seen))
        labels = {w.id: w.label for w in self.info.wearables} if self.info else {}
        off = ", ".join(labels.get(d, d) for d in standby.devices)
        if standby.break_over:
            return f"standby ends in {format_duration(left)}: reattach {off}"
        return f"standby: {off} off for the break, {max(1, math.ceil(left / 60))} min left"

    def phase_label(self, phase: str | None) -> str:
        for p in self.info.phases if self.info else ():
            if p.id == phase:
                return p.label
        return phase or "-"

    def phase_step(self, step: int) -> str | None:
        """The phase ``step`` places after (or before) the current one, or None at either end."""
        phases = [p.id for p in self.info.phases] if self.info else []
        if not phases:
            return None
        if self.session.phase not in phases:
            return phases[0] if step > 0 else None
        i = phases.index(self.session.phase) + step
        return phases[i] if 0 <= i < len(phases) else None

    def light_level(self) -> float:
        levels = list(self.lighting.levels.values()) if self.lighting else []
        return sum(levels) / len(levels) if levels else 0.0


def alarm_line(alarm: Alarm) -> str:
    """The priority prefix and the alarm engine's message, which already names the value and the limit."""
    text = f"{PREFIX[alarm.priority]} {alarm.message}"
    if alarm.acknowledged_at is not None:
        text += " [acknowledged]"
    elif alarm.latched or not alarm.active:
        text += " [ended - acknowledge to clear]"
    return text


def format_duration(seconds: float) -> str:
    s = int(max(0, seconds))
    if s < 60:
        return f"{s} s"
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def format_hours(seconds: float) -> str:
    """``1:05 h``: hours and minutes, for clocks that change once a minute (a redraw a minute, not a second)."""
    m = int(max(0, seconds)) // 60
    return f"{m // 60}:{m % 60:02d} h"

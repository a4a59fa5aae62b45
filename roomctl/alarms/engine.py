"""The alarm engine: a hub processor, pure and inline, driven by hub events and an injected clock.

``engine(event)`` runs for every hub event and returns the alarm events it causes; ``engine.tick()`` (about once a second)
covers what happens between events: condition delays that elapse, wearables lost, the audio pause running out;
``engine.acknowledge(id)`` is the therapist's key. The engine does no I/O and starts no tasks.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from roomctl.alarms.baseline import BaselineRecord
from roomctl.alarms.book import AlarmBook, Condition, Key
from roomctl.alarms.pause import AudioPauseTimer
from roomctl.alarms.rules import HIGH, LOW, LimitGroup, QuantityWatch
from roomctl.alarms.session_limits import LimitChange, SessionLimits, parse_record
from roomctl.alarms.technical import (
    DEVICE_CONDITIONS,
    DeviceWatch,
    service_condition,
    service_condition_name,
    technical_priorities,
)
from roomctl.alarms.texts import duration_words, limit_message, technical_message
from roomctl.clock import Clock
from roomctl.commands import Acknowledge, CommandResult, SetLimit
from roomctl.config.alarms import AlarmsConfig
from roomctl.config.wearables import WearableConfig
from roomctl.models import (
    MANUAL_DEVICE,
    PRIORITY_RANK,
    Alarm,
    AlarmAction,
    AlarmCategory,
    AlarmEvent,
    AlarmLimits,
    DeviceState,
    HubEvent,
    LimitInForce,
    LinkState,
    Quality,
    Quantity,
    Reading,
    ServiceHealth,
    SessionEvent,
    SessionEventKind,
    SessionState,
)

_BREAKS_THROUGH = (AlarmAction.RAISED, AlarmAction.ESCALATED)
HELD_IN_STANDBY = frozenset(
    {"data_stale", "device_disconnected", "no_valid_data", "finger_off", "sensor_displaced", "no_contact"}
)
"""A wearable taken off for a break: the technical conditions standby holds (low battery, sending too fast are not)."""


def _reattach(condition: Condition) -> Condition:
    return replace(condition, message=f"{condition.message}: reattach the wearables after the break")


_INTERRUPTED: Key = ("service:roomctl", "monitoring_interrupted")
_UNCONFIGURED = WearableConfig.model_fields  # defaults for wearables that report but are not in the configuration


def _is_spot(device: str, watch: DeviceWatch | None) -> bool:
    """Readings from ``device`` are spot measurements: entered by hand, or from an intermittent wearable (a cuff, a
    thermometer) that hands over one measurement at a time. Each is judged on its own (docs/alarms.md)."""
    return device == MANUAL_DEVICE if watch is None else not watch.continuous


class AlarmEngine:
    def __init__(
        self,
        config: AlarmsConfig,
        wearables: Sequence[WearableConfig],
        *,
        clock: Clock,
        id_prefix: str | None = None,
        history_size: int = 1000,
    ) -> None:
        self.config = config
        self._clock = clock
        self._book = AlarmBook(clock, latching=config.latching, id_prefix=id_prefix, history_size=history_size)
        self._pause = AudioPauseTimer(clock, config.audio_pause_s)
        self._priorities = technical_priorities(config.technical)
        self._rules = config.rules
        self._ruled = frozenset(rule.quantity for rule in config.rules)
        self._watches: dict[tuple[str, Quantity], QuantityWatch | None] = {}
        started = clock.monotonic()
        self._devices = {w.id: DeviceWatch.configured(w, started) for w in wearables}
        self._session_id: str | None = None
        self._limits = SessionLimits(config.rules, config.settable)
        self._patient_baselines: dict[Quantity, float] = {}
        """Baselines kept for the patient rather than one wearable (device None): every wearable of the quantity uses it."""
        self._standby: frozenset[str] = frozenset()
        """Wearables in a break's monitoring standby: their technical conditions are held (session/standby.py)."""
        self._reattach: set[str] = set()
        """Wearables whose standby ended before they were back: their technical alarms say to reattach them."""
        self._reminders: dict[str, float] = {}
        """Acknowledged alarm id -> monotonic time its pause ends; if its condition still exists then, it re-annunciates."""

    # ------------------------------------------------------------------ inputs

    def __call__(self, event: HubEvent) -> list[HubEvent]:
        if type(event) is Reading:
            return self._on_reading(event)
        if type(event) is DeviceState:
            return self._on_device(event)
        if type(event) is ServiceHealth:
            return self._on_health(event)
        if type(event) is SessionState:
            return self._on_session(event)
        if type(event) is SessionEvent and event.event is SessionEventKind.SESSION_END:
            return self._end_spot_conditions()  # now, so that what it causes is on the ending session's record
        if type(event) is SessionEvent and event.event is SessionEventKind.BASELINE:
            return self._on_baseline(event)
        return []

    def tick(self) -> list[HubEvent]:
        """Call about once a second: delays that elapse without new events, lost wearables, the audio pause ending."""
        now = self._clock.monotonic()
        events: list[HubEvent] = []
        for watch in self._watches.values():
            if watch is not None:
                changed = [g for g in watch.groups if g.tick(now)]
                if changed:
                    events += self._settle(watch, changed)
        for device in self._devices.values():
            events += self._sync_device(device, now)
        ended = self._pause.tick()
        if ended is not None:
            events.append(ended)
        due = [alarm_id for alarm_id, deadline in self._reminders.items() if deadline <= now]
        for alarm_id in due:
            del self._reminders[alarm_id]
            events += self._book.reannunciate(alarm_id)
        return events

    def acknowledge(self, alarm_id: str | None = None) -> list[HubEvent]:
        """Acknowledge one alarm by id, or all of them (None, the screen's key); nothing happens when there is nothing.

        Acknowledging all also starts the room's audio pause (the countdown on the screen). Acknowledging one alarm pauses
        only that alarm's signal: another unacknowledged alarm keeps sounding. Either way each acknowledged alarm whose
        condition still exists signals again (``reannunciated``) when ``audio_pause_s`` has passed; except an alarm on a
        spot measurement (manual entry, cuff), which is announced once per measurement, as monitors do for NIBP: nothing
        about it can change until the next measurement, which signals again if it still crosses the limit.
        """
        if self._book.highest_rank() == 0 or (alarm_id is not None and self._book.get(alarm_id) is None):
            return []
        events: list[HubEvent] = list(self._book.acknowledge(alarm_id))
        notice = self._book.open_alarm(_INTERRUPTED)
        if notice is not None and notice.acknowledged_at is not None:
            events += self._book.absent(_INTERRUPTED)  # the interruption is a fact to take note of: noted, it goes
        deadline = self._clock.monotonic() + self._pause.duration_s
        for alarm in self._book.alarms.values():
            acknowledged = alarm.active and alarm.acknowledged_at is not None and alarm_id in (None, alarm.id)
            if acknowledged and not self._one_time(alarm):
                self._reminders[alarm.id] = deadline
        if alarm_id is None:
            events.append(self._pause.start())
        return events

    def acknowledge_command(self, command: Acknowledge, publish: Callable[[HubEvent], None]) -> CommandResult:
        """The daemon's handler for an Acknowledge command: publish what it causes and say what happened."""
        if command.alarm_id is not None and self._book.get(command.alarm_id) is None:
            return CommandResult(ok=False, message=f"no alarm {command.alarm_id} is shown (it may have cleared)")
        events = self.acknowledge(command.alarm_id)
        for event in events:
            publish(event)
        if not events:
            return CommandResult(ok=True, message="no alarms to acknowledge")
        if command.alarm_id is not None:
            return CommandResult(
                ok=True, message=f"acknowledged {command.alarm_id}; its signal pauses for {self._pause.duration_s:g} s"
            )
        return CommandResult(ok=True, message=f"acknowledged; audio paused for {self._pause.duration_s:g} s")

    def resume(
        self, shown: Sequence[Alarm], interrupted_s: float | None, pause_until: datetime | None = None
    ) -> list[HubEvent]:
        """The daemon restarted within a session: show again the physiological alarms the previous run showed (same ids,
        action ``restored``), and say that monitoring was interrupted and for how long (shown until acknowledged).

        An alarm that was active is taken as still existing until a valid reading says otherwise (then it clears, or
        latches if unacknowledged), so a condition that goes on stays the same alarm across the restart. An
        acknowledged one signals again ``audio_pause_s`` after its acknowledgement (not after the restart), unless it
        judges a spot measurement (see ``acknowledge``). The room's audio pause the previous run was in (``pause_until``,
        wall time) goes on for what is left of it, its countdown shown again.
        """
        now, mono, pause_s = self._clock.now(), self._clock.monotonic(), self._pause.duration_s
        out: list[HubEvent] = []
        if pause_until is not None and (left := (pause_until - now).total_seconds()) > 0:
            out.append(self._pause.start(left))  # at most audio_pause_s: a wall clock that stepped back adds nothing
        events: list[AlarmEvent] = []
        for alarm in shown:
            if alarm.device is None or alarm.quantity is None:
                continue
            if alarm.active:
                key = (alarm.device, alarm.quantity)
                watch = self._watches[key] if key in self._watches else self._add_watch(key)
                for g in watch.groups if watch is not None else ():
                    if g.condition == alarm.condition:
                        g.restore(alarm.priority, alarm.value)
                if alarm.acknowledged_at is not None and not self._one_time(alarm):
                    since = (now - alarm.acknowledged_at).total_seconds()
                    self._reminders[alarm.id] = mono + min(pause_s, max(0.0, pause_s - since))
            events.append(self._book.restore((alarm.device, alarm.condition), alarm))
        how_long = f"for {duration_words(interrupted_s)}" if interrupted_s is not None else "(for how long is unknown)"
        notice = Condition(
            condition="monitoring_interrupted",
            category=AlarmCategory.TECHNICAL,
            priority=self._priorities["monitoring_interrupted"],
            message=f"{technical_message('monitoring_interrupted')} {how_long}: roomctl restarted during the session",
            value=round(interrupted_s, 1) if interrupted_s is not None else None,
        )
        events += self._book.present(_INTERRUPTED, notice)
        return out + self._with_break_through(events)

    def limit_change(self, command: SetLimit) -> LimitChange | str:
        """Check a ``set_limit``: the change it makes, or why not (in words). Limits are per session: none, no change."""
        if self._session_id is None:
            return "no session is running: a limit set with set_limit lasts one session (change [alarms] for the room)"
        shown = {
            (lim.quantity, HIGH if lim.direction == "high" else LOW, lim.priority): lim.limit
            for lim in self.limits_in_force().limits
            if lim.source == "baseline" and lim.quantity is command.quantity
        }
        return self._limits.plan(command.quantity, command.low, command.high, command.priority, shown)

    def apply_limit(self, change: LimitChange) -> AlarmLimits:
        """Apply a checked change to every wearable's watch of that quantity; the limits now in force."""
        self._limits.apply(change)
        for watch in self._watches.values():
            if watch is not None and watch.quantity is change.quantity:
                self._override_watch(watch)
        return self.limits_in_force()

    def session_limits_record(self, change: LimitChange | None = None) -> list[dict[str, object]]:
        """This session's limits (with ``change`` made) as the session's record keeps them, for a restart."""
        return self._limits.record(change)

    def restore_limits(self, saved: object) -> tuple[AlarmLimits, list[str]]:
        """Restarted within a session: its limits (:meth:`session_limits_record`, read back) apply again. The limits in
        force, and what could not be taken up (in words: the room's rules or ranges changed meanwhile)."""
        left_out = self._limits.restore(parse_record(saved))
        for watch in self._watches.values():
            if watch is not None:
                self._override_watch(watch)
        return self.limits_in_force(), left_out

    def limits_in_force(self) -> AlarmLimits:
        """Every limit as applied now: configured, set for this session, or derived from a wearable's baseline."""
        out = []
        for slot in self._limits.slots():
            quantity, sign, priority = slot
            source = "session" if slot in self._limits.overrides else "configured"
            direction = "high" if sign == HIGH else "low"
            out.append(
                LimitInForce(
                    quantity=quantity,
                    direction=direction,
                    priority=priority,
                    limit=self._limits.in_force(slot),
                    source=source,
                )
            )
        for watch in self._watches.values():
            if watch is None or watch.baseline is None:
                continue
            for g in watch.groups:
                for r in g.rules:
                    if r.factor is not None and r.session is None and r.limit != r.hard_limit:
                        out.append(
                            LimitInForce(
                                quantity=watch.quantity,
                                direction="high" if r.sign == HIGH else "low",
                                priority=r.priority,
                                limit=r.limit,
                                source="baseline",
                                device=watch.device,
                            )
                        )
        return AlarmLimits(limits=tuple(out))

    def _override_watch(self, watch: QuantityWatch) -> None:
        for g in watch.groups:
            for r in g.rules:
                slot = (watch.quantity, r.sign, r.priority)
                g.set_session_limit(r.priority, self._limits.overrides.get(slot))

    # ------------------------------------------------------------------ inspection

    @property
    def alarms(self) -> dict[str, Alarm]:
        """Every alarm shown now, by id (active, acknowledged or latched)."""
        return self._book.alarms

    @property
    def history(self) -> deque[AlarmEvent]:
        """The most recent alarm events (bounded); the full log is the stored AlarmEvents."""
        return self._book.history

    def audio_paused_s(self) -> float:
        """Seconds of audio pause left (0 when sounding)."""
        return self._pause.remaining_s()

    # ------------------------------------------------------------------ physiological

    def _on_reading(self, r: Reading) -> list[HubEvent]:
        now = self._clock.monotonic()
        device = self._devices.get(r.device)
        value = r.value
        valid = value is not None and r.quality is not Quality.INVALID and math.isfinite(value)
        if device is not None and r.quantity is not Quantity.BATTERY:  # a battery level is not data about the patient
            device.heard(now, valid)
        key = (r.device, r.quantity)
        announce = False
        try:
            watch = self._watches[key]
        except KeyError:
            watch = self._add_watch(key)
            announce = watch is not None and r.quantity in self._patient_baselines  # its limits follow the patient's
        if watch is None:
            return []
        if value is None or not valid:
            for g in watch.groups:
                g.suspend()  # no data: never calm, never clears
            return []
        spot = _is_spot(r.device, device)
        changed = watch.update(value, now, spot)
        if spot:  # each measurement is news: a condition that goes on is announced again if it had been acknowledged
            changed = watch.groups
        events = self._settle(watch, changed, remeasured=spot) if changed else []
        if announce:
            events.append(self.limits_in_force())
        return events

    def _on_baseline(self, event: SessionEvent) -> list[HubEvent]:
        """The team confirmed (or entered) the patient's baseline of a quantity, for this session: its limits follow."""
        if event.session != self._session_id:
            return []
        (record,) = BaselineRecord.parse_all([event.data]) or (None,)
        return [] if record is None else [self.use_baselines([record])]

    def use_baselines(self, records: Sequence[BaselineRecord]) -> AlarmLimits:
        """Baselines of this session (confirmed or entered by the team; kept with its record for a restart): the
        baseline-relative limits follow them. The limits now in force."""
        for record in records:
            if record.device is None:
                self._patient_baselines[record.quantity] = record.value
                watches = [w for w in self._watches.values() if w is not None and w.quantity is record.quantity]
            else:
                key = (record.device, record.quantity)
                watch = self._watches[key] if key in self._watches else self._add_watch(key)
                watches = [watch] if watch is not None else []
            for watch in watches:
                watch.use_baseline(record.value)
        return self.limits_in_force()

    def _add_watch(self, key: tuple[str, Quantity]) -> QuantityWatch | None:
        device, quantity = key
        watch = None
        if quantity in self._ruled:
            watch = QuantityWatch(device, quantity, self._rules)
            patient = self._patient_baselines.get(quantity)
            if patient is not None:
                watch.use_baseline(patient)
            if self._limits.overrides:
                self._override_watch(watch)
        self._watches[key] = watch
        return watch

    def _spot(self, device: str) -> bool:
        return _is_spot(device, self._devices.get(device))

    def _one_time(self, alarm: Alarm) -> bool:
        """An alarm on a spot measurement: announced once per measurement, never re-annunciated by time."""
        return alarm.category is AlarmCategory.PHYSIOLOGICAL and alarm.device is not None and self._spot(alarm.device)

    def _settle(self, watch: QuantityWatch, groups: list[LimitGroup], *, remeasured: bool = False) -> list[HubEvent]:
        events: list[AlarmEvent] = []
        for g in groups:
            key: Key = (watch.device, g.condition)
            top = g.top()
            if top is None:
                events += self._book.absent(key)
                continue
            relative = None
            if (
                top.factor is not None
                and top.session is None
                and g.baseline is not None
                and top.limit != top.hard_limit
            ):
                relative = (top.factor, g.baseline)
            condition = Condition(
                condition=g.condition,
                category=AlarmCategory.PHYSIOLOGICAL,
                priority=top.priority,
                message=limit_message(g.quantity, g.direction, g.last_value, top.limit, relative),
                quantity=g.quantity,
                device=watch.device,
                value=g.last_value,
                limit=top.limit,
            )
            events += self._book.present(key, condition, remeasured=remeasured)
        return self._with_break_through(events)

    def _on_session(self, s: SessionState) -> list[HubEvent]:
        session_id = s.id if s.ended_at is None else None  # an ended session is over, though its state still names it
        standby = self._follow_standby(s)
        if session_id == self._session_id:
            return standby
        events = [*standby, *(self._end_spot_conditions() if self._session_id is not None else [])]
        self._session_id = session_id
        self._limits.clear()  # limits set for a session end with it
        self._patient_baselines.clear()
        for watch in self._watches.values():
            if watch is not None:
                watch.use_baseline(None)  # a new session (or none): the configured limits until a baseline is given
                self._override_watch(watch)
        return [*events, self.limits_in_force()]

    def _end_spot_conditions(self) -> list[HubEvent]:
        """The session ended: the spot measurements taken in it no longer stand for the patient in the room. Their
        conditions end (an unacknowledged alarm latches, per the room's setting; an acknowledged one clears)."""
        events: list[HubEvent] = []
        for watch in self._watches.values():
            if watch is not None and self._spot(watch.device):
                ended = [g for g in watch.groups if g.end()]
                if ended:
                    events += self._settle(watch, ended)
        return events

    # ------------------------------------------------------------------ technical

    def _on_device(self, ds: DeviceState) -> list[HubEvent]:
        now = self._clock.monotonic()
        device = self._devices.get(ds.device)
        if device is None:
            device = self._devices[ds.device] = DeviceWatch(
                ds.device,
                label=ds.device,
                profile=ds.profile,
                stale_after_s=_UNCONFIGURED["stale_after_s"].default,
                lost_after_s=_UNCONFIGURED["lost_after_s"].default,
                battery_low_percent=_UNCONFIGURED["battery_low_percent"].default,
                since=now,
            )
        device.update(ds, now)
        if ds.state is not LinkState.CONNECTED:
            for (dev, _), watch in self._watches.items():
                if dev == ds.device and watch is not None:
                    for g in watch.groups:
                        g.suspend()
        return self._sync_device(device, now)

    def _follow_standby(self, s: SessionState) -> list[HubEvent]:
        """The session's standby changed: hold the technical conditions of the wearables it names, and let those that
        left it before coming back raise again, saying to reattach them."""
        held = frozenset(s.standby.devices) if s.standby is not None and s.ended_at is None else frozenset()
        if held == self._standby:
            return []
        changed, self._standby = held ^ self._standby, held
        self._reattach |= changed - held
        now, events = self._clock.monotonic(), []
        for name in sorted(changed):
            if (device := self._devices.get(name)) is not None:
                events += self._sync_device(device, now)
        return events

    def _sync_device(self, device: DeviceWatch, now: float) -> list[HubEvent]:
        present = device.conditions(now, self.config.technical.condition_delay_s, self._priorities)
        if device.device in self._standby:
            present = {name: c for name, c in present.items() if name not in HELD_IN_STANDBY}
        elif device.device in self._reattach:
            if HELD_IN_STANDBY.isdisjoint(present):
                self._reattach.discard(device.device)  # back: its alarms read as usual again
            present = {name: _reattach(c) if name in HELD_IN_STANDBY else c for name, c in present.items()}
        events: list[AlarmEvent] = []
        for name in DEVICE_CONDITIONS:
            key = (device.device, name)
            condition = present.get(name)
            events += self._book.present(key, condition) if condition else self._book.absent(key)
        return self._with_break_through(events)

    def _on_health(self, h: ServiceHealth) -> list[HubEvent]:
        name = service_condition_name(h.service)
        if name is None:
            return []
        key = (f"service:{h.service}", name)
        if h.ok:
            return self._with_break_through(self._book.absent(key))
        condition = service_condition(h.service, h.detail, self._priorities[name])
        return self._with_break_through(self._book.present(key, condition))

    # ------------------------------------------------------------------ audio pause

    def _with_break_through(self, events: list[AlarmEvent]) -> list[HubEvent]:
        out: list[HubEvent] = list(events)
        if not self._pause.active:
            return out
        for e in events:
            if e.action in _BREAKS_THROUGH:
                ended = self._pause.break_through(PRIORITY_RANK[e.alarm.priority], self._book.acknowledged_rank())
                if ended is not None:
                    out.append(ended)
        return out

"""Technical alarm conditions: wearables that stop sending, go away, slip off or run low; storage and broker failures.

A :class:`DeviceWatch` follows one wearable's :class:`DeviceState` and readings on the monotonic clock and says, at any
moment, which technical conditions exist. Stale and lost count from the wearable's **last data** as the engine saw it
(not from when the link got round to reporting a state), so "lost" fires ``lost_after_s`` after the last data, not the
link's own stale period plus the engine's count. Intermittent wearables (blood pressure cuff, thermometer) connect only to hand over a
measurement, so being disconnected is their normal state: they never raise stale or lost alarms.
"""

from __future__ import annotations

from roomctl.alarms.book import Condition
from roomctl.alarms.texts import number, technical_message
from roomctl.config.alarms import TechnicalAlarmConfig
from roomctl.config.wearables import WearableConfig
from roomctl.models import AlarmCategory, DeviceState, LinkState, Priority, TechnicalCondition
from roomctl.sensors.profiles import PROFILES

DELAYED_CONDITIONS: dict[TechnicalCondition, str] = {
    TechnicalCondition.FINGER_OFF: "finger_off",
    TechnicalCondition.SENSOR_DISPLACED: "sensor_displaced",
    TechnicalCondition.NO_CONTACT: "no_contact",
}
"""Wearable-reported conditions that must last ``technical.condition_delay_s``; poor_signal shows as reading quality."""

DEVICE_CONDITIONS = (
    "data_stale",
    "device_disconnected",
    "no_valid_data",
    "finger_off",
    "sensor_displaced",
    "no_contact",
    "low_battery",
    "sending_too_fast",
)

SERVICE_CONDITIONS: dict[str, str] = {
    "storage": "storage_failure",
    "mqtt": "broker_unreachable",
    "alarms": "alarm_engine_failure",
    "sound": "sound_failure",
    "music": "music_unreachable",
}
"""ServiceHealth.service -> the technical condition its failure raises; any other ``service:<name>`` (a supervised loop
that failed and is being restarted) raises ``service_failure``."""

SUPERVISED_PREFIX = "service:"

_LINK_UP = (LinkState.CONNECTED, LinkState.STALE)


def technical_priorities(cfg: TechnicalAlarmConfig) -> dict[str, Priority]:
    return {
        "data_stale": cfg.stale,
        "no_valid_data": cfg.stale,
        "device_disconnected": cfg.disconnected,
        "finger_off": cfg.finger_off,
        "sensor_displaced": cfg.finger_off,
        "no_contact": cfg.no_contact,
        "low_battery": cfg.low_battery,
        "sending_too_fast": cfg.sending_too_fast,
        "storage_failure": cfg.storage_failure,
        "broker_unreachable": cfg.broker_unreachable,
        "alarm_engine_failure": cfg.alarm_engine_failure,
        "service_failure": cfg.service_failure,
        "monitoring_interrupted": cfg.monitoring_interrupted,
        "sound_failure": cfg.sound_failure,
        "music_unreachable": cfg.music_unreachable,
    }


class DeviceWatch:
    """What is technically wrong with one wearable right now."""

    def __init__(
        self,
        device: str,
        *,
        label: str,
        profile: str,
        stale_after_s: float,
        lost_after_s: float,
        battery_low_percent: float,
        since: float,
    ) -> None:
        self.device = device
        self.label = label
        self.continuous = PROFILES[profile].continuous if profile in PROFILES else True
        self.stale_after_s = stale_after_s
        self.lost_after_s = lost_after_s
        self.battery_low_percent = battery_low_percent
        self.state: LinkState | None = None
        self.ever_connected = False
        self.last_data = since
        """Monotonic time of the last reading from this wearable (or when the watch began, before any)."""
        self.last_valid = since
        """Monotonic time of the last valid reading (a value, not marked invalid) from it, or when the watch began."""
        self.stale_reported = False
        """The link said ``stale`` (it judged the data stale, or its link just dropped) and has not said connected since."""
        self.condition_since: dict[TechnicalCondition, float] = {}
        self.battery: float | None = None
        self.reports_low_battery = False

    @classmethod
    def configured(cls, w: WearableConfig, since: float) -> DeviceWatch:
        return cls(
            w.id,
            label=w.label or w.id,
            profile=w.profile,
            stale_after_s=w.stale_after_s,
            lost_after_s=w.lost_after_s,
            battery_low_percent=w.battery_low_percent,
            since=since,
        )

    def heard(self, now: float, valid: bool = True) -> None:
        """A vital reading (any value, even a missing one; not a battery level) came from this wearable; ``valid``:
        with a value that is not marked invalid."""
        self.last_data = now
        self.ever_connected = True
        if valid:
            self.last_valid = now

    def update(self, ds: DeviceState, now: float) -> None:
        state = self.state = ds.state
        if state in _LINK_UP:
            self.ever_connected = True
        if state is LinkState.STALE:
            self.stale_reported = True
        elif state is LinkState.CONNECTED:
            self.stale_reported = False
        link_up = state in _LINK_UP
        current = set(ds.conditions) if link_up else set()
        for cond in list(self.condition_since):
            if cond not in current:
                del self.condition_since[cond]
        for cond in current:
            self.condition_since.setdefault(cond, now)
        self.battery = ds.battery if link_up else None
        self.reports_low_battery = TechnicalCondition.LOW_BATTERY in current

    def conditions(self, now: float, condition_delay_s: float, priorities: dict[str, Priority]) -> dict[str, Condition]:
        """The technical conditions that exist at monotonic time ``now``."""
        found: dict[str, float | None] = {}
        if self.continuous and self.state is not LinkState.CONNECTED:
            silent = now - self.last_data
            if self.ever_connected and (self.stale_reported or silent >= self.stale_after_s):
                found["data_stale"] = None
            if silent >= self.lost_after_s:
                found["device_disconnected"] = None
        elif self.continuous and self.last_data - self.last_valid >= self.stale_after_s and not self._says_why():
            found["no_valid_data"] = None  # connected and sending, nothing valid for as long, and it does not say why
        for cond, since in self.condition_since.items():
            name = DELAYED_CONDITIONS.get(cond)
            if name is not None and now - since >= condition_delay_s:
                found[name] = None
        if TechnicalCondition.SENDING_TOO_FAST in self.condition_since:  # the link waited for it to persist
            found["sending_too_fast"] = None
        battery = self.battery
        if self.reports_low_battery or (battery is not None and battery <= self.battery_low_percent):
            found["low_battery"] = battery
        return {name: self._condition(name, value, priorities[name]) for name, value in found.items()}

    def _says_why(self) -> bool:
        """The wearable reports why its values are invalid (finger off, sensor displaced, no skin contact)."""
        return any(cond in DELAYED_CONDITIONS for cond in self.condition_since)

    def _condition(self, name: str, value: float | None, priority: Priority) -> Condition:
        detail = f"{number(value)} %" if value is not None else ""
        return Condition(
            condition=name,
            category=AlarmCategory.TECHNICAL,
            priority=priority,
            message=technical_message(name, self.label, detail),
            device=self.device,
            value=value,
        )


def service_condition_name(service: str) -> str | None:
    """The technical condition a failing service raises, or None for services that raise none."""
    if service.startswith(SUPERVISED_PREFIX):
        return "service_failure"
    return SERVICE_CONDITIONS.get(service)


def service_condition(service: str, detail: str, priority: Priority) -> Condition:
    name = service_condition_name(service)
    assert name is not None
    label = service.removeprefix(SUPERVISED_PREFIX)
    return Condition(
        condition=name,
        category=AlarmCategory.TECHNICAL,
        priority=priority,
        message=technical_message(name, label=label, detail=detail),
    )

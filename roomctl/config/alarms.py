"""[alarms]: limits, priorities and condition delays per quantity; technical alarm priorities; latching."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, StrictBool, field_validator, model_validator

from roomctl.config.base import Section
from roomctl.models import Priority, Quantity


class LimitRule(Section):
    """One alarm limit on one quantity. Several rules per quantity give escalating priorities (e.g. SpO2 90 then 85)."""

    quantity: Quantity
    low: float | None = Field(None, ge=-1000, le=100_000, description="in the quantity's unit")
    high: float | None = Field(None, ge=-1000, le=100_000, description="in the quantity's unit")
    priority: Priority = Priority.MEDIUM
    condition_delay_s: float = Field(10.0, ge=0, le=300, description="the limit must stay crossed this long")
    hysteresis: float = Field(
        0.0, ge=0, le=1000, description="the value must come back this far inside the limit to clear"
    )
    inclusive: StrictBool = Field(
        False, description="the limit value itself counts as crossed (low 85 inclusive: '85 % or below')"
    )
    high_from_baseline: float | None = Field(
        None, gt=1.0, le=3.0, description="high limit = baseline x this factor (e.g. 1.25), never above 'high'"
    )
    low_from_baseline: float | None = Field(
        None, gt=0.0, lt=1.0, description="low limit = baseline x this factor, never below 'low'"
    )

    @model_validator(mode="after")
    def _sane(self) -> Self:
        if self.low is None and self.high is None:
            raise ValueError("a limit rule needs low, high or both")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"low limit {self.low:g} is not below high limit {self.high:g}")
        if self.high_from_baseline is not None and self.high is None:
            raise ValueError("high_from_baseline needs 'high' as its hard ceiling")
        if self.low_from_baseline is not None and self.low is None:
            raise ValueError("low_from_baseline needs 'low' as its hard floor")
        return self


def default_rules() -> list[LimitRule]:
    """Adult monitor defaults with MDMA's dangers ranked (docs/alarms.md, "The default limits and their sources"): a
    medium tier where the trials' action levels lie, a high tier for what needs a response at once. A starting point,
    configurable per room and adjustable per session."""
    medium, high = Priority.MEDIUM, Priority.HIGH
    rules = [
        LimitRule(quantity=Quantity.SPO2, low=90, priority=medium, condition_delay_s=10, hysteresis=1),
        LimitRule(quantity=Quantity.SPO2, low=85, inclusive=True, priority=high, condition_delay_s=5, hysteresis=1),
    ]
    for pulse in (Quantity.HEART_RATE, Quantity.PULSE_RATE):
        rules += [
            LimitRule(quantity=pulse, low=50, high=120, priority=medium, condition_delay_s=10, hysteresis=2),
            # extreme tachycardia / bradycardia: the monitors' red "extreme tachy / brady" tier
            LimitRule(
                quantity=pulse, low=40, high=150, inclusive=True, priority=high, condition_delay_s=5, hysteresis=2
            ),
        ]
    return [
        *rules,
        # hyperthermia: 38 °C the trials' action level; 39 °C and above needs active cooling now
        LimitRule(quantity=Quantity.TEMPERATURE, high=38.0, inclusive=True, priority=medium, condition_delay_s=0),
        LimitRule(quantity=Quantity.TEMPERATURE, high=39.0, inclusive=True, priority=high, condition_delay_s=0),
        # blood pressure: above 160 / 100 medium (the trials' systolic action level; grade 2 hypertension), a
        # hypertensive crisis (grade 3: 180 or more, or 110 or more) high
        LimitRule(quantity=Quantity.SYSTOLIC, high=160, priority=medium, condition_delay_s=0),
        LimitRule(quantity=Quantity.SYSTOLIC, high=180, inclusive=True, priority=high, condition_delay_s=0),
        LimitRule(quantity=Quantity.DIASTOLIC, high=100, priority=medium, condition_delay_s=0),
        LimitRule(quantity=Quantity.DIASTOLIC, high=110, inclusive=True, priority=high, condition_delay_s=0),
    ]


class SettableRange(Section):
    """How far ``set_limit`` may move the limits of one quantity: a limit beyond this would all but switch the alarm off."""

    low_min: float | None = Field(None, ge=-1000, le=100_000, description="a low limit may not be set below this")
    high_max: float | None = Field(None, ge=-1000, le=100_000, description="a high limit may not be set above this")

    @model_validator(mode="after")
    def _sane(self) -> Self:
        if self.low_min is not None and self.high_max is not None and self.low_min >= self.high_max:
            raise ValueError(f"low_min {self.low_min:g} is not below high_max {self.high_max:g}")
        return self


def default_settable() -> dict[Quantity, SettableRange]:
    """The safe defaults (docs/alarms.md): SpO2 low not below 80 %, heart rate 30-200 bpm, and the like."""
    oximetry = SettableRange(low_min=80, high_max=100)
    pulse = SettableRange(low_min=30, high_max=200)
    return {
        Quantity.SPO2: oximetry,
        Quantity.SPO2_FAST: oximetry,
        Quantity.SPO2_SLOW: oximetry,
        Quantity.HEART_RATE: pulse,
        Quantity.PULSE_RATE: pulse,
        Quantity.PULSE_RATE_FAST: pulse,
        Quantity.PULSE_RATE_SLOW: pulse,
        Quantity.TEMPERATURE: SettableRange(low_min=35.0, high_max=39.5),
        Quantity.SYSTOLIC: SettableRange(low_min=70, high_max=200),
        Quantity.DIASTOLIC: SettableRange(low_min=40, high_max=130),
        Quantity.MEAN_ARTERIAL_PRESSURE: SettableRange(low_min=50, high_max=150),
    }


class TechnicalAlarmConfig(Section):
    disconnected: Priority = Priority.MEDIUM
    stale: Priority = Priority.MEDIUM
    finger_off: Priority = Priority.MEDIUM
    no_contact: Priority = Priority.LOW
    low_battery: Priority = Priority.LOW
    sending_too_fast: Priority = Field(
        Priority.LOW, description="a wearable sends more notifications than it plausibly can (coalesced, not recorded)"
    )
    storage_failure: Priority = Priority.HIGH
    broker_unreachable: Priority = Priority.LOW
    alarm_engine_failure: Priority = Field(Priority.HIGH, description="the alarm engine itself raised")
    sound_failure: Priority = Field(Priority.HIGH, description="an alarm sound output is missing or failed")
    music_unreachable: Priority = Field(Priority.LOW, description="[music] is enabled and MPD does not answer")
    monitoring_interrupted: Priority = Field(
        Priority.MEDIUM, description="roomctl restarted during a session: shown until acknowledged"
    )
    service_failure: Priority = Field(
        Priority.MEDIUM, description="a supervised loop (link, lighting, MQTT, session) failed and is restarting"
    )
    condition_delay_s: float = Field(5.0, ge=0, le=120, description="finger off / no contact must last this long")


SoundOutputName = Literal["alsa", "buzzer"]


def _default_outputs() -> list[SoundOutputName]:
    return ["alsa"]


class SoundConfig(Section):
    """Audible alarm signals (docs/alarms.md): quiet by default in a calm room, never silent by configuration."""

    outputs: list[SoundOutputName] = Field(
        default_factory=_default_outputs,
        description="where alarms sound: the Pi's audio through ALSA, a GPIO buzzer, or both; [] only for rooms "
        "whose alarms sound elsewhere (the demo)",
    )
    alsa_device: str = Field("default", min_length=1, max_length=100, description="the ALSA device aplay plays on")
    buzzer_pin: int | None = Field(None, ge=0, le=27, description="BCM number of the buzzer's GPIO pin")
    volume: float = Field(0.3, ge=0.1, le=1.0, description="starting volume, fraction of full scale (at least 0.1)")
    max_volume: float = Field(1.0, ge=0.1, le=1.0, description="escalation stops here")
    escalate_after_s: float = Field(
        30.0, ge=5, le=600, description="an unacknowledged alarm sounds one step louder after this long, and again"
    )
    escalate_step: float = Field(0.2, gt=0, le=1.0, description="how much louder each step is")
    max_volume_medium: float = Field(
        0.7, ge=0.1, le=1.0, description="a medium-priority alarm escalates no louder than this (nor than max_volume)"
    )
    max_volume_low: float = Field(
        0.4,
        ge=0.1,
        le=1.0,
        description="a low-priority alarm escalates no louder than this (nor than max_volume_medium)",
    )
    self_test: StrictBool = Field(True, description="a short tone at start-up, so staff hear the sound works")

    @model_validator(mode="after")
    def _sane(self) -> Self:
        if "buzzer" in self.outputs and self.buzzer_pin is None:
            raise ValueError("the buzzer output needs buzzer_pin (the BCM number of its GPIO pin)")
        if self.max_volume < self.volume:
            raise ValueError(f"max_volume {self.max_volume:g} is below volume {self.volume:g}")
        return self

    def volume_cap(self, priority: Priority) -> float:
        """How loud an alarm of ``priority`` may escalate: high to ``max_volume``, medium and low to their caps (never
        below the starting volume, never above a higher priority's cap)."""
        cap = self.max_volume
        if priority is not Priority.HIGH:
            cap = min(cap, self.max_volume_medium)
        if priority is Priority.LOW:
            cap = min(cap, self.max_volume_low)
        return max(self.volume, cap)


class AlarmsConfig(Section):
    latching: StrictBool = Field(
        True, description="physiological alarms stay shown until acknowledged (a room setting)"
    )
    audio_pause_s: float = Field(120.0, gt=0, le=120, description="acknowledge pauses audio this long; at most 2 min")
    baseline_window_s: float = Field(
        300.0,
        ge=30,
        le=7200,
        description="the baseline proposed before the dose is the median of the most recent this many seconds of "
        "resting data (a rolling window); it applies once the team confirms it",
    )
    rules: list[LimitRule] = Field(default_factory=default_rules)
    settable: dict[Quantity, SettableRange] = Field(
        default_factory=default_settable,
        description="per quantity, how far set_limit may move its limits (the defaults, e.g. SpO2 low not below 80 %, "
        "heart rate 30-200 bpm, are in docs/alarms.md); a quantity given here replaces its default, the others keep "
        "theirs; set_limit on a quantity without a range is refused",
    )
    technical: TechnicalAlarmConfig = Field(default_factory=TechnicalAlarmConfig)
    sound: SoundConfig = Field(default_factory=SoundConfig)

    @field_validator("settable", mode="after")
    @classmethod
    def _keep_defaults(cls, value: dict[Quantity, SettableRange]) -> dict[Quantity, SettableRange]:
        return {**default_settable(), **value}

"""[lighting]: PWM channels on GPIO pins, scenes, the safe level."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from roomctl.config.base import Section, Slug

PinFactoryName = Literal["mock", "lgpio", "pigpio", "rpigpio", "native"]
ChannelKind = Literal["dimmable", "warm_cool", "rgb"]
PINS_PER_KIND: dict[str, int] = {"dimmable": 1, "warm_cool": 2, "rgb": 3}
FLICKER_LOW_RISK_HZ = 1250  # IEEE 1789-2015: on/off PWM is low-risk only above this
FLICKER_NO_EFFECT_HZ = 3000


class ChannelConfig(Section):
    id: Slug = Field(description="unique channel id, used by scenes")
    kind: ChannelKind = Field("dimmable", description="dimmable (1 pin), warm_cool (warm, cool) or rgb (r, g, b)")
    pins: list[int] = Field(
        description="BCM GPIO numbers: 1 for dimmable, 2 (warm, cool) for warm_cool, 3 (r, g, b) for rgb"
    )
    pwm_frequency_hz: int = Field(3000, ge=1, le=100_000, description="PWM frequency; 3000 Hz or more avoids flicker")
    label: str | None = Field(None, description="shown on the screen and by roomctl lights")

    @model_validator(mode="after")
    def _pins_fit_kind(self) -> Self:
        want = PINS_PER_KIND[self.kind]
        if len(self.pins) != want:
            raise ValueError(f"a {self.kind} channel needs {want} pin(s), got {len(self.pins)}")
        for pin in self.pins:
            if not 2 <= pin <= 27:
                raise ValueError(f"GPIO{pin} is not a usable GPIO pin on a Raspberry Pi header (use 2-27)")
        if len(set(self.pins)) != len(self.pins):
            raise ValueError("the same pin is listed twice")
        return self


SceneLevels = dict[str, float | list[float]]
"""channel id -> level 0.0-1.0 (perceived lightness), or one level per pin for grouped channels."""


class LightingConfig(Section):
    pin_factory: PinFactoryName = Field("lgpio", description="gpiozero pin factory; 'mock' for the demo and tests")
    flicker_policy: Literal["warn", "refuse"] = Field("warn", description="PWM below 1250 Hz: warn or refuse")
    fade_rate_hz: int = Field(60, ge=50, le=100, description="fade update rate")
    default_fade_s: float = Field(3.0, ge=0, le=3600, description="fade time for manual changes")
    safe_level: float = Field(0.35, ge=0.05, le=1.0, description="level on shutdown, and while no scene is known")
    break_scene: str | None = Field(None, description="scene during breaks: bright enough to walk safely")
    alarm_scene: str | None = Field(None, description="scene raised on a high-priority alarm; None: light unchanged")
    channels: list[ChannelConfig] = Field(default_factory=list)
    scenes: dict[Slug, SceneLevels] = Field(
        default_factory=dict, description="scene name -> {channel id = level 0.0-1.0, or one level per pin}"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        seen_pins: dict[int, str] = {}
        ids = set()
        problems: list[str] = []
        for ch in self.channels:
            if ch.id in ids:
                problems.append(f"channel id '{ch.id}' is used twice")
            ids.add(ch.id)
            for pin in ch.pins:
                if pin in seen_pins:
                    problems.append(f"GPIO{pin} is used by both '{seen_pins[pin]}' and '{ch.id}'")
                seen_pins[pin] = ch.id
            if self.flicker_policy == "refuse" and ch.pwm_frequency_hz < FLICKER_LOW_RISK_HZ:
                problems.append(
                    f"channel '{ch.id}' flickers at {ch.pwm_frequency_hz} Hz: on/off PWM needs at least "
                    f"{FLICKER_LOW_RISK_HZ} Hz (3000 Hz or more for a therapy room)"
                )
        by_id = {ch.id: ch for ch in self.channels}
        for name, levels in self.scenes.items():
            for channel_id, level in levels.items():
                target = by_id.get(channel_id)
                if target is None:
                    problems.append(f"scene '{name}' sets channel '{channel_id}', which does not exist")
                    continue
                values = level if isinstance(level, list) else [level]
                if isinstance(level, list) and len(level) != len(target.pins):
                    problems.append(
                        f"scene '{name}' gives {len(level)} levels for '{channel_id}', which has {len(target.pins)} pins"
                    )
                if any(not 0.0 <= v <= 1.0 for v in values):
                    problems.append(f"scene '{name}' sets '{channel_id}' outside 0.0-1.0")
        for key in ("break_scene", "alarm_scene"):
            scene = getattr(self, key)
            if scene is not None and scene not in self.scenes:
                problems.append(f"{key} '{scene}' is not one of the scenes")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def advisories(self) -> list[str]:
        """Settings that work but are not advisable (flicker risk under the 'warn' policy)."""
        notes = []
        for i, ch in enumerate(self.channels):
            if ch.pwm_frequency_hz < FLICKER_LOW_RISK_HZ:
                notes.append(
                    f"lighting.channels[{i}].pwm_frequency_hz: channel '{ch.id}' at {ch.pwm_frequency_hz} Hz may visibly "
                    f"flicker (IEEE 1789: use {FLICKER_LOW_RISK_HZ} Hz or more, {FLICKER_NO_EFFECT_HZ} Hz for a therapy room)"
                )
        return notes

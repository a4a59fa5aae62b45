"""[lighting]: PWM channels on GPIO pins, scenes, the safe level."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from roomctl.config.base import Section, Slug

PinFactoryName = Literal["mock", "lgpio", "pigpio", "rpigpio", "native", "hardware"]
HardwareBoard = Literal["pi3", "pi4", "pi5"]
# Hardware PWM: GPIO -> channel of the PWM block. Pi <= 4: two channels, each on two pins; Pi 5 (RP1): four channels.
_PI4_CHANNELS = {12: 0, 18: 0, 13: 1, 19: 1}
HARDWARE_PWM_CHANNELS: dict[str, dict[int, int]] = {
    "pi3": _PI4_CHANNELS,
    "pi4": _PI4_CHANNELS,
    "pi5": {12: 0, 13: 1, 18: 2, 19: 3},
}
ChannelKind = Literal["dimmable", "warm_cool", "rgb"]
PINS_PER_KIND: dict[str, int] = {"dimmable": 1, "warm_cool": 2, "rgb": 3}
FLICKER_LOW_RISK_HZ = 1250  # IEEE 1789-2015: on/off PWM is low-risk only above this
FLICKER_NO_EFFECT_HZ = 3000
DARK_LEVEL = 0.25  # below this perceived level, coarse duty steps show during fades
PIGPIO_FREQUENCIES_HZ = (8000, 4000, 2000, 1600, 1000, 800, 500, 400, 320, 250, 200, 160, 100, 80, 50, 40, 20, 10)
BOOT_PULL_UP_PINS = frozenset(range(2, 9))  # BCM2835-2711: GPIO0-8 are pulled high at power-on


@dataclass(frozen=True)
class FactoryTraits:
    """What a gpiozero pin factory can do with PWM (docs/lighting.md has the details per Pi model)."""

    pwm: bool
    max_hz: int | None  # None: no fixed ceiling
    timing: str
    duty_steps: str  # in words, for messages

    def steps_at(self, name: str, hz: int) -> int | None:
        """Distinct duty steps between off and fully on at ``hz``, where known."""
        if name == "lgpio":
            return 100  # gpiozero passes lgpio a whole-number percentage
        if name == "pigpio":
            return 200_000 // min(PIGPIO_FREQUENCIES_HZ, key=lambda f: abs(f - hz))  # 5 µs samples per period
        return None


FACTORY_TRAITS: dict[str, FactoryTraits] = {
    "lgpio": FactoryTraits(True, 10_000, "software-timed by a thread of the lg library", "1 % steps"),
    "pigpio": FactoryTraits(True, 8000, "DMA-timed by the pigpio daemon (Pi <= 4)", "200000 / frequency steps"),
    "rpigpio": FactoryTraits(True, None, "software-timed by a thread of RPi.GPIO (Pi <= 4)", "fine, but jittery"),
    "native": FactoryTraits(False, None, "no PWM", "none"),
    "hardware": FactoryTraits(True, None, "the SoC's PWM block via /sys/class/pwm (GPIO12/13/18/19)", "nanoseconds"),
    "mock": FactoryTraits(True, None, "simulated", "exact"),
}


class ChannelConfig(Section):
    id: Slug = Field(description="unique channel id, used by scenes")
    kind: ChannelKind = Field("dimmable", description="dimmable (1 pin), warm_cool (warm, cool) or rgb (r, g, b)")
    pins: list[Annotated[int, Field(ge=0, le=63)]] = Field(
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
    pin_factory: PinFactoryName = Field(
        "lgpio",
        description="gpiozero pin factory; 'hardware' is roomctl's own for /sys/class/pwm; 'mock' for the demo and tests",
    )
    hardware_board: HardwareBoard = Field("pi4", description="for pin_factory 'hardware': which Pi (channel layout)")
    hardware_pwm_chip: int | None = Field(
        None, ge=0, le=31, description="for pin_factory 'hardware': /sys/class/pwm/pwmchipN (default 0; 2 on a Pi 5)"
    )
    flicker_policy: Literal["warn", "refuse"] = Field("warn", description="PWM below 1250 Hz: warn or refuse")
    fade_rate_hz: int = Field(60, ge=50, le=100, description="fade update rate")
    default_fade_s: float = Field(3.0, ge=0, le=3600, description="fade time for manual changes")
    phase_fade_s: float = Field(120.0, ge=0, le=3600, description="fade time when a session phase changes the scene")
    alarm_fade_s: float = Field(1.0, ge=0, le=60, description="fade time up to the alarm scene")
    alarm_scene_until: Literal["acknowledged", "cleared"] = Field(
        "acknowledged",
        description="hold the alarm scene until the high-priority alarm is acknowledged, or until it clears",
    )
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
        problems.extend(self._factory_problems())
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

    def _factory_problems(self) -> list[str]:
        """Settings the chosen pin factory cannot carry out."""
        traits = FACTORY_TRAITS[self.pin_factory]
        problems = []
        if not traits.pwm and self.channels:
            problems.append(
                f"the '{self.pin_factory}' pin factory cannot dim lights (gpiozero's native factory has no PWM): "
                "use lgpio (any Pi, the only one on a Pi 5) or pigpio (Pi <= 4)"
            )
        if self.pin_factory == "hardware":
            problems.extend(self._hardware_problems())
        for i, ch in enumerate(self.channels):
            if traits.max_hz is not None and ch.pwm_frequency_hz > traits.max_hz:
                problems.append(
                    f"channels[{i}] '{ch.id}': {ch.pwm_frequency_hz} Hz is more than the '{self.pin_factory}' pin factory "
                    f"can do (at most {traits.max_hz} Hz)"
                )
        return problems

    def _hardware_problems(self) -> list[str]:
        """Hardware PWM: only four pins, and on a Pi <= 4 two pins of one channel always show the same level."""
        channels = HARDWARE_PWM_CHANNELS[self.hardware_board]
        problems, taken = [], dict[int, str]()
        for i, ch in enumerate(self.channels):
            for pin in ch.pins:
                if pin not in channels:
                    problems.append(
                        f"channels[{i}] '{ch.id}': GPIO{pin} has no hardware PWM; with pin_factory 'hardware' use "
                        "GPIO12, 13, 18 or 19 (or a software PWM factory such as lgpio)"
                    )
                    continue
                other = taken.get(channels[pin])
                if other is not None:
                    problems.append(
                        f"channels[{i}] '{ch.id}': GPIO{pin} shares hardware PWM channel {channels[pin]} with {other} "
                        f"on a {self.hardware_board}, so both would always show the same level; "
                        "GPIO12 and 18 share one channel, GPIO13 and 19 the other"
                    )
                taken.setdefault(channels[pin], f"GPIO{pin} ('{ch.id}')")
        return problems

    def advisories(self) -> list[str]:
        """Settings that work but are not advisable: flicker risk (under the 'warn' policy), coarse dimming, boot glow."""
        notes = []
        for i, ch in enumerate(self.channels):
            if ch.pwm_frequency_hz < FLICKER_LOW_RISK_HZ:
                notes.append(
                    f"lighting.channels[{i}].pwm_frequency_hz: channel '{ch.id}' at {ch.pwm_frequency_hz} Hz may visibly "
                    f"flicker (IEEE 1789: use {FLICKER_LOW_RISK_HZ} Hz or more, {FLICKER_NO_EFFECT_HZ} Hz for a therapy room)"
                )
        notes.extend(self._resolution_advisories())
        for i, ch in enumerate(self.channels):
            glowing = sorted(BOOT_PULL_UP_PINS.intersection(ch.pins))
            if glowing and self.pin_factory != "mock":
                notes.append(
                    f"lighting.channels[{i}].pins: GPIO{', GPIO'.join(map(str, glowing))} of '{ch.id}' "
                    "is pulled high at power-on on a Pi <= 4, so the light may come on while the Pi boots; GPIO9-27 stay low"
                )
        return notes

    def _resolution_advisories(self) -> list[str]:
        notes = []
        traits = FACTORY_TRAITS[self.pin_factory]
        dark = sorted(
            {
                name
                for name, levels in self.scenes.items()
                for level in levels.values()
                for v in (level if isinstance(level, list) else [level])
                if 0.0 < v < DARK_LEVEL
            }
        )
        coarse: dict[int, list[str]] = {}  # duty steps -> channels
        for i, ch in enumerate(self.channels):
            steps = traits.steps_at(self.pin_factory, ch.pwm_frequency_hz)
            if self.pin_factory == "pigpio" and ch.pwm_frequency_hz not in PIGPIO_FREQUENCIES_HZ:
                notes.append(
                    f"lighting.channels[{i}].pwm_frequency_hz: pigpio offers only fixed frequencies "
                    f"({', '.join(map(str, PIGPIO_FREQUENCIES_HZ[:5]))} ... Hz) and will round {ch.pwm_frequency_hz} Hz "
                    "to one of them; 4000 Hz gives 50 duty steps, 2000 Hz 100"
                )
            if steps is not None and steps < 1000:
                coarse.setdefault(steps, []).append(f"'{ch.id}' ({ch.pwm_frequency_hz} Hz)")
        if dark:
            for steps, names in coarse.items():
                notes.append(
                    f"lighting.pin_factory: {', '.join(names)} get only {steps} duty steps from {self.pin_factory}, "
                    f"so fades below level {DARK_LEVEL} step visibly (scene(s) {', '.join(dark)} go that dark); "
                    "smooth dark fades need 12-bit PWM or finer (pin_factory 'hardware')"
                )
        return notes

"""Commands from people: the screen (over the local API) and, opt-in, MQTT. One strict definition and one parse for all.

Every command is validated by :func:`parse_command` before anything acts on it; anything malformed is rejected with
:class:`CommandRejected`, whose message says why in words. The parse is strict: a number must be a JSON number (not a
string, not ``true``), an enum a known string, no unknown keys, no deep nesting, no 5,000-digit integers.
Plausibility limits on manual vitals keep typing errors (400/20 mmHg, 3 °C) out of the record.

To add a command: define its model below (with ``command: Literal["name"] = "name"``) and add it to :data:`Command`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Protocol, Self, get_args

from pydantic import Field, TypeAdapter, ValidationError, model_validator

from roomctl.errors import RoomctlError
from roomctl.models import Model, Priority, Quantity, SessionKind, Severity, Slug
from roomctl.plausible import LIMITS, check_blood_pressure, check_temperature
from roomctl.strict_json import BadJson, load_object

MAX_COMMAND_BYTES = 2048
"""A command's JSON is a few hundred bytes; a longer one is refused."""


class Owner(StrEnum):
    """The part of the daemon that handles a command (``daemon/dispatch.py`` routes by it)."""

    ALARMS = "alarms"
    LIGHTING = "lighting"
    MUSIC = "music"
    SESSION = "session"


class CommandModel(Model):
    """A command: its model says who handles it and whether MQTT may send it (opt-in remote commands are lighting,
    acknowledge and this session's limits; session and clinical entries stay with the people in the room)."""

    owner: ClassVar[Owner] = Owner.SESSION
    over_mqtt: ClassVar[bool] = False


class Acknowledge(CommandModel):
    """Acknowledge one alarm (or all, with no id): a latched alarm clears; audio pauses for the configured time."""

    owner = Owner.ALARMS
    over_mqtt = True
    command: Literal["acknowledge"] = "acknowledge"
    alarm_id: str | None = Field(None, max_length=64)


class SetLimit(CommandModel):
    """Change an alarm limit for the current session only (reset when it ends); recorded as a session event.

    ``priority`` picks the rule (default: the mildest in that direction, e.g. SpO2 low 90 rather than 85).
    """

    owner = Owner.ALARMS
    over_mqtt = True
    command: Literal["set_limit"] = "set_limit"
    quantity: Quantity
    low: float | None = Field(None, ge=-1000, le=1000)
    high: float | None = Field(None, ge=-1000, le=1000)
    priority: Priority | None = None

    @model_validator(mode="after")
    def _low_or_high_in_order(self) -> Self:
        if self.low is None and self.high is None:
            raise ValueError("give low, high or both")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"low {self.low:g} must be below high {self.high:g}")
        return self


class SetScene(CommandModel):
    """Set a lighting scene by hand; it holds until the next phase change or a reset."""

    owner = Owner.LIGHTING
    over_mqtt = True
    command: Literal["set_scene"] = "set_scene"
    scene: Slug
    fade_s: float | None = Field(None, ge=0, le=3600)


class SetLevel(CommandModel):
    """Set one channel (or all, with no channel) to a level 0.0-1.0 by hand."""

    owner = Owner.LIGHTING
    over_mqtt = True
    command: Literal["set_level"] = "set_level"
    channel: Slug | None = None
    level: float = Field(ge=0.0, le=1.0)
    fade_s: float | None = Field(None, ge=0, le=3600)


class ResetLighting(CommandModel):
    """Drop the manual override: the light follows the session phase again."""

    owner = Owner.LIGHTING
    over_mqtt = True
    command: Literal["reset_lighting"] = "reset_lighting"


MusicAction = Literal["toggle", "next", "volume_up", "volume_down", "off"]


class MusicCommand(CommandModel):
    """The room's music: play/pause, next track, volume up/down, or off for talking (held until the next phase or a key)."""

    owner = Owner.MUSIC
    command: Literal["music"] = "music"
    action: MusicAction


class StartSession(CommandModel):
    command: Literal["start_session"] = "start_session"
    session_kind: SessionKind = SessionKind.DOSING


class EndSession(CommandModel):
    command: Literal["end_session"] = "end_session"


class SetPhase(CommandModel):
    command: Literal["set_phase"] = "set_phase"
    phase: Slug


class DischargeCheck(CommandModel):
    """The team's discharge check at the end of a dosing session: their two ticks (no names); the daemon adds the vitals."""

    command: Literal["discharge_check"] = "discharge_check"
    oriented_and_grounded: bool
    support_person_present: bool = Field(description="a support person is here for the ride home")


class MarkEvent(CommandModel):
    """Mark a moment of the session: dose, supplemental dose, break start/end, or a note."""

    command: Literal["mark"] = "mark"
    event: Literal["dose", "supplemental_dose", "break_start", "break_end", "note"]
    text: str | None = Field(None, max_length=500)
    amount_mg: float | None = Field(None, gt=0, le=500)
    standby: tuple[Slug, ...] = Field(
        (), max_length=16, description="break_start: the wearables taken off, whose technical alarms standby holds"
    )

    @model_validator(mode="after")
    def _standby_only_for_a_break(self) -> Self:
        if self.standby and self.event != "break_start":
            raise ValueError("standby is for the wearables taken off at the start of a break")
        return self


class SetBaseline(CommandModel):
    """The patient's baseline, before the dose: ``confirm`` the proposal shown, ``retake`` it (its window starts
    again), or ``enter`` it by hand (heart rate, with SpO2, blood pressure and temperature when known)."""

    command: Literal["baseline"] = "baseline"
    action: Literal["confirm", "retake", "enter"]
    heart_rate: int | None = Field(None, ge=LIMITS["pulse_rate"][0], le=LIMITS["pulse_rate"][1], description="bpm")
    spo2: int | None = Field(None, ge=50, le=100, description="%")
    systolic: int | None = Field(None, ge=LIMITS["systolic"][0], le=LIMITS["systolic"][1], description="mmHg")
    diastolic: int | None = Field(None, ge=LIMITS["diastolic"][0], le=LIMITS["diastolic"][1], description="mmHg")
    celsius: float | None = Field(None, ge=LIMITS["celsius"][0], le=LIMITS["celsius"][1])

    @model_validator(mode="after")
    def _values_for_enter_only(self) -> Self:
        given = [k for k in ("heart_rate", "spo2", "systolic", "diastolic", "celsius") if getattr(self, k) is not None]
        if self.action != "enter":
            if given:
                raise ValueError(f"'{self.action}' takes no values ({', '.join(given)}); use 'enter' to give them")
            return self
        if self.heart_rate is None:
            raise ValueError("a baseline entered by hand needs at least the heart rate")
        if (self.systolic is None) != (self.diastolic is None):
            raise ValueError("give both systolic and diastolic, or neither")
        if self.systolic is not None and self.diastolic is not None and self.diastolic >= self.systolic:
            raise ValueError(f"diastolic {self.diastolic} must be below systolic {self.systolic}")
        return self


class TickChecklist(CommandModel):
    """The pre-dose checklist as the team has it now: the ids of the items ticked (the others are open)."""

    command: Literal["checklist"] = "checklist"
    ticked: list[Slug] = Field(max_length=9)


class EnterBloodPressure(CommandModel):
    """A blood pressure taken by hand. Implausible numbers are refused, never stored."""

    command: Literal["blood_pressure"] = "blood_pressure"
    systolic: int = Field(ge=LIMITS["systolic"][0], le=LIMITS["systolic"][1], description="mmHg")
    diastolic: int = Field(ge=LIMITS["diastolic"][0], le=LIMITS["diastolic"][1], description="mmHg")
    pulse_rate: int | None = Field(None, ge=LIMITS["pulse_rate"][0], le=LIMITS["pulse_rate"][1], description="bpm")

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.diastolic >= self.systolic:
            raise ValueError(f"diastolic {self.diastolic} must be below systolic {self.systolic}")
        return self


class EnterTemperature(CommandModel):
    """A body temperature taken by hand, in °C."""

    command: Literal["temperature"] = "temperature"
    celsius: float = Field(ge=LIMITS["celsius"][0], le=LIMITS["celsius"][1])


class EnterDistress(CommandModel):
    """The patient's distress rating, 0 (none) to 10 (worst), asked at a vitals check; it goes with the check."""

    command: Literal["distress"] = "distress"
    rating: int = Field(ge=0, le=10)


class RecordAdverseEvent(CommandModel):
    """An adverse event: a category and an action from the room's lists ([session.adverse_events]), a severity,
    whether emergency services were called, and optional text (kept on the Pi, never on MQTT)."""

    command: Literal["adverse_event"] = "adverse_event"
    category: Slug
    severity: Severity
    action: Slug | None = None
    emergency_services: bool = False
    text: str | None = Field(None, max_length=500)


Command = Annotated[
    Acknowledge
    | SetLimit
    | SetScene
    | SetLevel
    | ResetLighting
    | MusicCommand
    | StartSession
    | EndSession
    | SetPhase
    | DischargeCheck
    | MarkEvent
    | SetBaseline
    | TickChecklist
    | EnterBloodPressure
    | EnterTemperature
    | EnterDistress
    | RecordAdverseEvent,
    Field(discriminator="command"),
]
COMMAND_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)
COMMAND_MODELS: tuple[type[CommandModel], ...] = get_args(get_args(Command)[0])
COMMAND_NAMES: frozenset[str] = frozenset(m.model_fields["command"].default for m in COMMAND_MODELS)


class CommandRejected(RoomctlError, ValueError):
    """A command that was refused and not acted on; the message says why, in words.

    ``request_id`` is the local API request's id when one could be read (so the refusal can be matched to the request).
    """

    def __init__(self, reason: str, request_id: str | None = None) -> None:
        super().__init__(reason)
        self.request_id = request_id


def parse_command(
    raw: bytes | str | Mapping[str, Any], *, allowed: Collection[str] | None = None, channel: str = ""
) -> Command:
    """The one strict parse of a command, for the local API, MQTT and the screen.

    ``raw`` is the command's JSON (bytes or text) or the already-decoded object. ``allowed`` limits which commands this
    channel accepts (MQTT accepts only a few); ``channel`` names it in the refusal ("not allowed over MQTT").
    Raises :class:`CommandRejected` with a reason in words.
    """
    try:
        if isinstance(raw, Mapping):
            data = dict(raw)
            text = json.dumps(data, allow_nan=False, ensure_ascii=False)
            data = load_object(text, max_bytes=MAX_COMMAND_BYTES)  # the same limits as for bytes from outside
        else:
            data = load_object(raw, max_bytes=MAX_COMMAND_BYTES, example='{"command": "set_scene", "scene": "calm"}')
            text = raw.decode() if isinstance(raw, bytes) else raw
    except (BadJson, TypeError, ValueError, RecursionError) as e:
        raise CommandRejected(f"command refused: {e}") from None
    name = data.get("command")
    if not isinstance(name, str) or name not in COMMAND_NAMES:
        shown = repr(name)[:40] if name is not None else "none"
        known = sorted(allowed if allowed is not None else COMMAND_NAMES)
        raise CommandRejected(f"command refused: unknown command {shown}; known: {', '.join(known)}")
    if allowed is not None and name not in allowed:
        raise CommandRejected(
            f"command refused: {name!r} is not allowed{' over ' + channel if channel else ''}"
            f" (only {', '.join(sorted(allowed))})"
        )
    try:
        return COMMAND_ADAPTER.validate_json(text, strict=True)
    except ValidationError as e:
        raise CommandRejected(_in_words(data, e)) from None


def _in_words(raw: dict[str, Any], error: ValidationError) -> str:
    command = raw.get("command")
    numbers = {k: v for k, v in raw.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    if command == "blood_pressure" and "systolic" in numbers and "diastolic" in numbers:
        message = check_blood_pressure(numbers["systolic"], numbers["diastolic"], numbers.get("pulse_rate"))
        if message:
            return message
    if command == "temperature" and "celsius" in numbers:
        message = check_temperature(numbers["celsius"])
        if message:
            return message
    return "command refused: " + "; ".join(_problem(err) for err in error.errors(include_url=False)[:5])


_BOUNDS = {
    "greater_than_equal": ("ge", "must be at least"),
    "less_than_equal": ("le", "must be at most"),
    "greater_than": ("gt", "must be more than"),
    "less_than": ("lt", "must be less than"),
}


def _problem(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"][1:] if not str(p).startswith("function-")) or "command"
    bound = _BOUNDS.get(err["type"])
    ctx = err.get("ctx") or {}
    if bound is not None and bound[0] in ctx:
        return f"{where} {bound[1]} {ctx[bound[0]]:g}"
    return f"{where}: {str(err['msg']).removeprefix('Value error, ')}"


class CommandResult(Model):
    ok: bool
    message: str = ""


class CommandHandler(Protocol):
    """What the daemon offers to the local API and the MQTT command topic. ``source`` says who asked (for the log)."""

    async def handle(self, command: Command, source: str) -> CommandResult: ...

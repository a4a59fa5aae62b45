"""Commands from people: the TUI (over the local API) and, opt-in, MQTT. One strict definition for both.

Every command is validated here before anything acts on it; anything malformed is rejected with a reason in words.
Plausibility limits on manual vitals keep typing errors (400/20 mmHg, 3 °C) out of the record.
"""

from __future__ import annotations

from typing import Annotated, Literal, Protocol, Self

from pydantic import Field, TypeAdapter, model_validator

from roomctl.config.base import Slug
from roomctl.models import Model, SessionKind


class Acknowledge(Model):
    """Acknowledge one alarm (or all, with no id): a latched alarm clears; audio pauses for the configured time."""

    command: Literal["acknowledge"] = "acknowledge"
    alarm_id: str | None = Field(None, max_length=64)


class SetScene(Model):
    """Set a lighting scene by hand; it holds until the next phase change or a reset."""

    command: Literal["set_scene"] = "set_scene"
    scene: Slug
    fade_s: float | None = Field(None, ge=0, le=3600)


class SetLevel(Model):
    """Set one channel (or all, with no channel) to a level 0.0-1.0 by hand."""

    command: Literal["set_level"] = "set_level"
    channel: Slug | None = None
    level: float = Field(ge=0.0, le=1.0)
    fade_s: float | None = Field(None, ge=0, le=3600)


class ResetLighting(Model):
    """Drop the manual override: the light follows the session phase again."""

    command: Literal["reset_lighting"] = "reset_lighting"


class StartSession(Model):
    command: Literal["start_session"] = "start_session"
    session_kind: SessionKind = SessionKind.DOSING


class EndSession(Model):
    command: Literal["end_session"] = "end_session"


class SetPhase(Model):
    command: Literal["set_phase"] = "set_phase"
    phase: Slug


class MarkEvent(Model):
    """Mark a moment of the session: dose, supplemental dose, break start/end, or a note."""

    command: Literal["mark"] = "mark"
    event: Literal["dose", "supplemental_dose", "break_start", "break_end", "note"]
    text: str | None = Field(None, max_length=500)
    amount_mg: float | None = Field(None, gt=0, le=500)


class EnterBloodPressure(Model):
    """A blood pressure taken by hand. Implausible numbers are refused, never stored."""

    command: Literal["blood_pressure"] = "blood_pressure"
    systolic: int = Field(ge=50, le=300, description="mmHg")
    diastolic: int = Field(ge=20, le=200, description="mmHg")
    pulse_rate: int | None = Field(None, ge=20, le=250, description="bpm")

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.diastolic >= self.systolic:
            raise ValueError(f"diastolic {self.diastolic} must be below systolic {self.systolic}")
        return self


class EnterTemperature(Model):
    """A body temperature taken by hand, in °C."""

    command: Literal["temperature"] = "temperature"
    celsius: float = Field(ge=30.0, le=45.0)


Command = Annotated[
    Acknowledge
    | SetScene
    | SetLevel
    | ResetLighting
    | StartSession
    | EndSession
    | SetPhase
    | MarkEvent
    | EnterBloodPressure
    | EnterTemperature,
    Field(discriminator="command"),
]
COMMAND_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)


class CommandResult(Model):
    ok: bool
    message: str = ""


class CommandHandler(Protocol):
    """What the daemon offers to the local API and the MQTT command topic. ``source`` says who asked (for the log)."""

    async def handle(self, command: Command, source: str) -> CommandResult: ...

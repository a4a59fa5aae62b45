"""The MQTT payloads, one model per topic: the source of the shipped JSON Schemas (``roomctl schema mqtt``).

Which topic each model belongs to, and how a record becomes it, is the table in :mod:`roomctl.mqtt.feed`; the encoder
copies each model's fields from the hub event, so a field named here and nowhere else fails loudly in the tests. The
models forbid unknown fields (the project's own tests stay strict); the published schemas allow additions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer, RootModel, WithJsonSchema

from roomctl.models import (
    AlarmAction,
    AlarmCategory,
    LinkState,
    Model,
    MusicPlay,
    Priority,
    Quality,
    Quantity,
    SessionEventKind,
    SessionKind,
    TechnicalCondition,
    WireNamedModel,
    iso_ms,
)

Timestamp = Annotated[
    datetime,
    PlainSerializer(iso_ms, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
            "description": "ISO-8601 UTC with milliseconds",
        }
    ),
]
Seq = Annotated[
    int,
    Field(
        ge=1,
        description="the record's number: strictly increasing per room across restarts, and so along every topic",
    ),
]


class Vital(Model):
    """``vitals/<quantity>``: one reading. Not retained; expires in the broker after ``vitals_expiry_s``."""

    ts: Timestamp
    value: float | None = Field(description="null when the device marked the value missing")
    unit: str
    device: str
    session: str | None
    seq: Seq
    quality: Quality


class RRIntervalsPayload(Model):
    """``vitals/rr_intervals``: beat-to-beat intervals in seconds."""

    ts: Timestamp
    intervals: list[float]
    unit: Literal["s"]
    device: str
    session: str | None
    seq: Seq


class DevicePayload(Model):
    """``devices/<device>`` (retained): one wearable's link. ``available`` is true only while connected."""

    device: str
    profile: str
    state: LinkState
    available: bool
    address: str | None
    battery: float | None
    rssi: int | None
    last_seen: Timestamp | None
    conditions: list[TechnicalCondition]
    seq: Seq


class AlarmBody(WireNamedModel):
    id: str
    condition: str
    category: AlarmCategory = Field(alias="kind")
    priority: Priority
    message: str
    quantity: Quantity | None
    device: str | None
    value: float | None
    limit: float | None
    raised_at: Timestamp
    active: bool
    latched: bool
    acknowledged_at: Timestamp | None
    cleared_at: Timestamp | None


class AlarmEventPayload(AlarmBody):
    """``alarms``: an alarm raised, escalated, acknowledged or cleared. Not retained."""

    action: AlarmAction
    ts: Timestamp
    seq: Seq


class ActiveAlarms(Model):
    """``alarms/active`` (retained): every alarm still shown, as of the record with this ``seq``."""

    ts: Timestamp
    seq: int = Field(
        ge=1,
        description="the alarm event this list follows (or, right after a start, the list's own record): "
        "strictly increasing along this topic",
    )
    alarms: list[AlarmBody]


class SessionPayload(WireNamedModel):
    """``session`` (retained): the current session; ``id`` null when the room has none."""

    id: str | None
    session_kind: SessionKind | None = Field(alias="kind")
    phase: str | None
    started_at: Timestamp | None
    ended_at: Timestamp | None
    dose_times: list[Timestamp]
    on_break: bool
    next_vitals_check: Timestamp | None
    suggested_phase: str | None
    seq: Seq


class SessionEventPayload(Model):
    """``events``: dose, supplemental dose, break, note, manual vitals, phase change: kind and time. Not retained.

    Free text (a note, a break text) never leaves the Pi: it stays in the local record only.
    """

    id: str
    session: str
    event: SessionEventKind
    ts: Timestamp
    data: dict[str, float | str] = Field(
        description="numbers (amount_mg, systolic, diastolic, pulse_rate, celsius) and configuration ids "
        "(session_kind, phase, from, to); never free text"
    )
    seq: Seq


class LightingPayload(Model):
    """``lighting`` (retained): the scene and each channel's level (0.0-1.0, perceived lightness)."""

    scene: str | None
    levels: dict[str, float]
    override: bool
    reason: str
    seq: Seq


class MusicPayload(Model):
    """``music`` (retained): what the room's music does: its state, the phase's playlist, the track, the volume (0-1).
    Published on a track change, a state change and when a fade settles (never per fade step)."""

    state: MusicPlay
    playlist: str | None
    title: str | None
    artist: str | None
    volume: float | None = Field(ge=0, le=1)
    ts: Timestamp
    seq: Seq


class Status(RootModel[Literal["online", "offline"]]):
    """``status`` (retained): plain text ``online`` / ``offline`` (birth and last will), not JSON."""


class Info(Model):
    """``info`` (retained): which roomctl publishes, since when, with what settings (never secrets)."""

    version: str
    site: str
    room: str
    name: str | None
    started_at: Timestamp
    vitals_expiry_s: int
    commands_enabled: bool
    ha_discovery: bool
    tls: bool
    config: str | None = Field(description="the room configuration in one line, if the daemon gave one")


class CommandResultPayload(Model):
    """``cmd/result`` (or the request's MQTT v5 response topic): what became of a command."""

    ok: bool
    command: str | None
    message: str
    ts: Timestamp

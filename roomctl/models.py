"""The shared vocabulary: one definition for storage, MQTT payloads, the local API and exports.

Every model is a frozen pydantic model, so each has one JSON Schema (``roomctl schema``). Timestamps are timezone-aware
UTC and serialise as ISO-8601 with milliseconds (``2026-01-01T09:00:00.000Z``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from roomctl.quantities import UNITS as UNITS
from roomctl.quantities import Quantity as Quantity

_last_second: tuple[tuple[int, ...], str] = ((), "")
"""The last whole second :func:`iso_ms` wrote and its text up to the decimal point (readings come many a second).
Replaced whole, never changed in place, so a thread reading it sees one second's pair."""


def iso_ms(ts: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z``: the one timestamp format roomctl writes."""
    global _last_second
    if ts.tzinfo is not UTC:
        ts = ts.astimezone(UTC)
    last = _last_second
    second = (ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second)
    if second != last[0]:
        year, month, day, hour, minute, sec = second
        last = _last_second = second, f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{sec:02d}."
    return f"{last[1]}{ts.microsecond // 1000:03d}Z"


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
"""Lower-case letters, digits, '-' and '_': safe in MQTT topics, file names and log lines (room, site, wearable and
light ids; the commands that name them)."""

UtcDatetime = Annotated[datetime, PlainSerializer(iso_ms, return_type=str, when_used="json")]


class Quality(StrEnum):
    OK = "ok"
    QUESTIONABLE = "questionable"
    INVALID = "invalid"


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WireNamedModel(Model):
    """A model with a field whose name on the wire (``Field(alias=...)``) is not its name in Python: built by its
    Python name, read and written (JSON and ``model_dump``) by its wire name, so the wire contracts stay as they are."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)


_JSON_CACHE: dict[int, tuple[Model, str]] = {}
_JSON_CACHE_SIZE = 256
"""Events recently encoded: enough for the storage writer's half-second batches and the local API's 50 ms writes, even at
400 events a second (``bench/bench_pipeline.py --rr``: no event encoded twice). Each entry keeps its event alive
(about 1 KiB), so the size counts in the daemon's memory."""


def event_json(event: Model) -> str:
    """The event's JSON (``model_dump_json()``), encoded once for everyone: the record, the outbox and the local API
    reuse the same text. Frozen models never change, so the text stays right; the cache keeps the newest events."""
    key = id(event)
    hit = _JSON_CACHE.get(key)
    if hit is not None and hit[0] is event:
        return hit[1]
    text = event.model_dump_json()
    if len(_JSON_CACHE) >= _JSON_CACHE_SIZE:
        del _JSON_CACHE[next(iter(_JSON_CACHE))]  # the oldest
    _JSON_CACHE[key] = (event, text)
    return text


MANUAL_DEVICE = "manual"
"""The device of the vitals the team enters by hand (blood pressure, temperature): spot measurements."""


class Reading(Model):
    """One value of one quantity from one wearable (or a manual entry, device :data:`MANUAL_DEVICE`)."""

    kind: Literal["reading"] = "reading"
    quantity: Quantity
    value: float | None = Field(description="null when the device marks the value missing; never a stale number")
    unit: str
    device: str
    ts: UtcDatetime
    quality: Quality = Quality.OK

    @classmethod
    def of(cls, quantity: Quantity, value: float | None, device: str, ts: datetime, quality: Quality) -> Reading:
        """A reading from values roomctl made itself (a decoder's typed output), without validating them again: the
        hot path's constructor. Equal to ``Reading(...)`` with the same values, unit from :data:`UNITS`
        (``tests/foundation/test_event_json.py`` checks it for any quantity, value, device, time and quality)."""
        reading = _new(cls)
        _set(
            reading,
            "__dict__",
            {
                "kind": "reading",
                "quantity": quantity,
                "value": value if value is None or value.__class__ is float else float(value),
                "unit": UNITS[quantity],
                "device": device,
                "ts": ts,
                "quality": quality,
            },
        )
        _set(reading, "__pydantic_fields_set__", set(_READING_GIVEN))  # its own: model_copy(update=...) adds to it
        _set(reading, "__pydantic_extra__", None)
        _set(reading, "__pydantic_private__", None)
        return reading


_new, _set = object.__new__, object.__setattr__
_READING_GIVEN = frozenset(("quantity", "value", "unit", "device", "ts", "quality"))


class RRIntervals(Model):
    """Beat-to-beat intervals from a heart-rate strap, in seconds (1/1024 s resolution)."""

    kind: Literal["rr_intervals"] = "rr_intervals"
    device: str
    ts: UtcDatetime
    intervals: tuple[float, ...]


class LinkState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    STALE = "stale"
    DISCONNECTED = "disconnected"


class TechnicalCondition(StrEnum):
    """Conditions a wearable reports about itself; each may raise a technical alarm."""

    FINGER_OFF = "finger_off"
    NO_CONTACT = "no_contact"
    SENSOR_DISPLACED = "sensor_displaced"
    LOW_BATTERY = "low_battery"
    POOR_SIGNAL = "poor_signal"
    SENDING_TOO_FAST = "sending_too_fast"  # the link's finding: more notifications than the profile's plausible rate


class DeviceState(Model):
    """What the room knows about one configured wearable."""

    kind: Literal["device"] = "device"
    device: str
    profile: str
    state: LinkState
    address: str | None = None
    battery: float | None = None
    rssi: int | None = None
    last_seen: UtcDatetime | None = None
    conditions: tuple[TechnicalCondition, ...] = ()


class Priority(StrEnum):
    """IEC 60601-1-8 alarm priorities; information signals are not alarms."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


PRIORITY_RANK: dict[Priority, int] = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3}


class AlarmCategory(StrEnum):
    """IEC 60601-1-8's two categories of alarm condition: of the patient, or of the equipment."""

    PHYSIOLOGICAL = "physiological"
    TECHNICAL = "technical"


class Alarm(WireNamedModel):
    """An alarm condition as the room currently sees it.

    Its ``category`` is ``kind`` on the wire (stored records, the local API, MQTT), as the contracts say; in Python
    ``kind`` is only ever a hub event's tag."""

    id: str
    condition: str = Field(description="e.g. spo2_low, heart_rate_high, device_disconnected, data_stale, finger_off")
    category: AlarmCategory = Field(alias="kind", description="physiological or technical")
    priority: Priority
    message: str
    quantity: Quantity | None = None
    device: str | None = None
    value: float | None = None
    limit: float | None = None
    raised_at: UtcDatetime
    active: bool = Field(True, description="the condition still exists")
    latched: bool = Field(False, description="the condition ended but the alarm stays shown until acknowledged")
    acknowledged_at: UtcDatetime | None = None
    cleared_at: UtcDatetime | None = None


class AlarmAction(StrEnum):
    RAISED = "raised"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    LATCHED = "latched"  # the condition ended; the alarm stays shown (active=False, latched=True) until acknowledged
    RESTORED = "restored"  # shown again after a daemon restart within the session (latched or not yet acknowledged)
    REANNUNCIATED = "reannunciated"  # acknowledged, the condition exists when the pause runs out (or a new spot
    # measurement still crosses the limit): it signals again


class AlarmEvent(Model):
    kind: Literal["alarm"] = "alarm"
    action: AlarmAction
    alarm: Alarm
    ts: UtcDatetime


class AudioPause(Model):
    """The timed audio pause: the alarms still show; only their attention-grabbing part waits."""

    kind: Literal["audio_pause"] = "audio_pause"
    until: UtcDatetime | None = Field(description="when the pause ends; null when not paused")
    remaining_s: float = 0.0


class SessionKind(StrEnum):
    PREPARATION = "preparation"
    DOSING = "dosing"
    INTEGRATION = "integration"


class SessionEventKind(StrEnum):
    SESSION_START = "session_start"
    SESSION_END = "session_end"
    PHASE_CHANGE = "phase_change"
    DOSE = "dose"
    SUPPLEMENTAL_DOSE = "supplemental_dose"
    BREAK_START = "break_start"
    BREAK_END = "break_end"
    NOTE = "note"
    BLOOD_PRESSURE = "blood_pressure"
    TEMPERATURE = "temperature"
    VITALS_CHECK_DUE = "vitals_check_due"  # a scheduled check is due (data: due_at, missing)
    VITALS_CHECK_OVERDUE = "vitals_check_overdue"  # ... and not done within [session.checks] overdue_after_min
    VITALS_CHECK = "vitals_check"  # a check done, or due and not done at the end (data: due_at, done, on_time, ...)
    DISTRESS = "distress"  # the patient's distress rating 0-10 (data: rating)
    ADVERSE_EVENT = "adverse_event"  # data: category, severity, action, emergency_services; text: the team's words
    DISCHARGE_CHECK = "discharge_check"
    LIMIT_SET = "limit_set"  # an alarm limit changed for this session only (set_limit)
    BASELINE = "baseline"  # the patient's baseline of a quantity became known (data: the baseline record)
    STANDBY_START = "standby_start"  # monitoring standby for wearables taken off for a break (data: devices, minutes)
    STANDBY_END = "standby_end"  # standby ended: the break is over, or standby ran out (data: reason, devices not back)
    BASELINE_RETAKE = "baseline_retake"  # the team re-takes the proposed baseline: its window starts again
    CHECKLIST = "checklist"  # a pre-dose checklist item ticked or unticked (data: item, label, ticked)
    RECORD_GAP = "record_gap"  # the disk was away past the backlog's bound: what the record is missing (storage)


class Severity(StrEnum):
    """How bad an adverse event was, in the words of adverse-event reporting (serious: life-threatening, hospital)."""

    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"
    SERIOUS = "serious"


ADVERSE_CATEGORIES: tuple[str, ...] = (
    "anxiety_or_panic",
    "nausea_or_vomiting",
    "hypertension",
    "tachycardia",
    "hyperthermia",
    "fainting",
    "other",
)
"""The default ``[session.adverse_events] categories`` (configuration ids: they may go on MQTT)."""
ADVERSE_ACTIONS: tuple[str, ...] = (
    "reassurance",
    "grounding",
    "lying_down",
    "cooling",
    "fluids",
    "medication",
    "medical_review",
    "other",
)
"""The default ``[session.adverse_events] actions``: what the team did (free text beside it stays on the Pi)."""


class SessionEvent(Model):
    kind: Literal["event"] = "event"
    id: str
    session: str
    event: SessionEventKind
    ts: UtcDatetime
    text: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class DischargeStatus(Model):
    """Whether the room's data allow discharge now: the patient's own baseline, steady vitals, no active alarm."""

    vitals_ready: bool = Field(
        description="heart rate (and BP / temperature if entered) near baseline, no active alarm"
    )
    findings: tuple[str, ...] = Field(description="one line in words per criterion, met or not")
    checked_at: UtcDatetime | None = Field(None, description="when the team recorded a passed discharge check")


class Standby(Model):
    """Monitoring standby during a break: these wearables were taken off, their technical alarms are held silent
    (physiological alarms are not) until ``until`` (at most ``break_standby_min``), or a minute after the break ends."""

    devices: tuple[str, ...]
    until: UtcDatetime = Field(description="when standby ends (wall time, for the record and the screen)")
    remaining_s: float = Field(ge=0, description="seconds of standby left when this state was published")
    break_over: bool = Field(False, description="the break ended: the wearables have until 'until' to come back")


class BaselineStatus(Model):
    """The patient's baseline in a dosing session: proposed from the most recent resting data before the dose, until
    the team confirms it or enters it by hand (then ``source`` says which); values by quantity name."""

    source: Literal["confirmed", "entered"] | None = Field(None, description="null: not confirmed (absolute limits)")
    values: dict[Quantity, float] = Field(default_factory=dict, description="confirmed, or else the proposal")
    window_s: float = Field(description="the proposal is the median of the most recent this many seconds")
    full_at: UtcDatetime | None = Field(None, description="the proposal's window has data from start to end from then")
    open: bool = Field(True, description="a proposal can still be confirmed (no dose yet)")


class ChecklistItemState(Model):
    id: str
    label: str
    ticked_at: UtcDatetime | None = None


class SessionState(Model):
    """The current session, or ``id=None`` when the room has none."""

    kind: Literal["session"] = "session"
    id: str | None
    session_kind: SessionKind | None = None
    phase: str | None = None
    started_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None
    dose_times: tuple[UtcDatetime, ...] = ()
    on_break: bool = False
    standby: Standby | None = None
    next_vitals_check: UtcDatetime | None = None
    vitals_check_overdue_at: UtcDatetime | None = Field(None, description="the next check is OVERDUE from then")
    vitals_check_missing: tuple[str, ...] = Field(
        (), description="what the next check still needs (blood_pressure, ...)"
    )
    suggested_phase: str | None = None
    discharge: DischargeStatus | None = Field(None, description="set in a dosing session once the check is offered")
    baseline: BaselineStatus | None = Field(None, description="a dosing session's baseline, proposed or confirmed")
    checklist: tuple[ChecklistItemState, ...] = Field((), description="a dosing session's pre-dose checklist")
    supplemental_window_min: tuple[float, float] | None = Field(
        None, description="a dosing session: a supplemental dose is expected this many minutes after the initial dose"
    )


class LightingState(Model):
    kind: Literal["lighting"] = "lighting"
    scene: str | None
    levels: dict[str, float] = Field(description="per channel, 0.0-1.0 as perceived lightness L*/100")
    override: bool = False
    reason: str = Field("", description="why the light is what it is: phase, override, alarm, break, safe")


class ServiceHealth(Model):
    """Health of one daemon service (broker link, storage, ...), for the screen and the watchdog."""

    kind: Literal["health"] = "health"
    service: str
    ok: bool
    detail: str = ""
    ts: UtcDatetime


class MusicPlay(StrEnum):
    """What the room's music player does: MPD's own three states, or unreachable (no answer from MPD)."""

    PLAY = "play"
    PAUSE = "pause"
    STOP = "stop"
    UNREACHABLE = "unreachable"


class MusicState(Model):
    """The room's music: published when the track, the state or the playlist changes, and when a fade settles (never
    per fade step). Kept in the record: "what was playing at 2:15". Track tags and file only; no patient data."""

    kind: Literal["music"] = "music"
    state: MusicPlay
    phase: str | None = Field(None, description="the session phase whose playlist this is")
    playlist: str | None = Field(None, description="the MPD stored playlist roomctl loaded")
    title: str | None = None
    artist: str | None = None
    file: str | None = Field(None, description="the track's file in MPD's music folder")
    volume: float | None = Field(None, description="0.0-1.0 (MPD's volume / 100); null when MPD has no mixer")
    elapsed_s: float | None = Field(None, description="position in the track at ts")
    duration_s: float | None = None
    fade_to: float | None = Field(None, description="the volume a running fade goes to; null when settled")
    ducked: bool = Field(False, description="turned down under an alarm that sounds")
    held: bool = Field(False, description="turned off for talking, until the next phase or a key")
    ts: UtcDatetime


class LimitInForce(Model):
    """One alarm limit as the engine applies it now."""

    quantity: Quantity
    direction: Literal["low", "high"]
    priority: Priority
    limit: float
    source: Literal["configured", "session", "baseline"] = Field(
        "configured", description="from [alarms], set for this session (set_limit), or derived from the baseline"
    )
    device: str | None = Field(None, description="the wearable a baseline-derived limit belongs to; null: every one")


class AlarmLimits(Model):
    """The alarm limits in force (published when a session starts or ends, a limit is set, or a baseline is known)."""

    kind: Literal["limits"] = "limits"
    limits: tuple[LimitInForce, ...]


HubEvent = (
    Reading
    | RRIntervals
    | DeviceState
    | AlarmEvent
    | AudioPause
    | SessionEvent
    | SessionState
    | LightingState
    | ServiceHealth
    | AlarmLimits
    | MusicState
)

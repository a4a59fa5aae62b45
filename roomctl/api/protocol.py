"""The local API's wire format: newline-delimited JSON, one message per line, versioned.

Server to client: ``hello`` (once, first), ``snapshot`` (the room's whole live state, second), ``history`` (the trends,
third), then ``event`` (each hub
event as its model JSON) and ``result`` (the answer to a command, with the client's request ``id``).
Client to server: ``hello`` ``{"type": "hello", "client": "screen"}`` (the handshake: a client that sends neither a hello
nor a command within the server's handshake timeout is disconnected), and ``command``
``{"type": "command", "id": "...", "command": {...}}`` with a :mod:`roomctl.commands` command. Every client line is checked strictly (size, JSON, schema); a bad one gets an error ``result`` and is never acted on.
See docs/screen.md for the protocol as a client writer needs it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, ValidationError

from roomctl import __version__
from roomctl.commands import Command, CommandRejected, parse_command
from roomctl.hub import LiveState
from roomctl.models import (
    ADVERSE_ACTIONS,
    ADVERSE_CATEGORIES,
    Alarm,
    AlarmLimits,
    AudioPause,
    DeviceState,
    HubEvent,
    LightingState,
    Model,
    MusicState,
    Priority,
    Quantity,
    Reading,
    ServiceHealth,
    SessionState,
    UtcDatetime,
)
from roomctl.strict_json import BadJson, load_object
from roomctl.trends import Trend, Trends

PROTOCOL_VERSION = 1
MAX_CLIENT_LINE = 8 * 1024
"""Bytes; a command is a few hundred. A longer line is refused and the connection closed."""
MAX_SERVER_LINE = 8 * 1024 * 1024
"""Bytes a client should accept per line (a snapshot of a large room stays far below this)."""


class WearableInfo(Model):
    id: str
    label: str
    profile: str
    stale_after_s: float


class PhaseInfo(Model):
    id: str
    label: str


class LimitInfo(Model):
    quantity: Quantity
    low: float | None
    high: float | None
    priority: Priority


class RoomInfo(Model):
    """What a client needs to label the screen; no patient data."""

    site: str
    room: str
    name: str
    wearables: tuple[WearableInfo, ...] = ()
    scenes: tuple[str, ...] = ()
    phases: tuple[PhaseInfo, ...] = ()
    limits: tuple[LimitInfo, ...] = ()
    audio_pause_s: float = 120.0
    break_standby_min: float = 10.0
    music: bool = Field(False, description="the room has music ([music] enabled): the screen shows its line and keys")
    adverse_categories: tuple[str, ...] = ADVERSE_CATEGORIES
    adverse_actions: tuple[str, ...] = ADVERSE_ACTIONS


class Hello(Model):
    type: Literal["hello"] = "hello"
    protocol: int = PROTOCOL_VERSION
    server_version: str = __version__
    room: RoomInfo


class Snapshot(Model):
    type: Literal["snapshot"] = "snapshot"
    ts: UtcDatetime
    readings: tuple[Reading, ...] = ()
    devices: tuple[DeviceState, ...] = ()
    alarms: tuple[Alarm, ...] = ()
    audio_pause: AudioPause | None = None
    session: SessionState = SessionState(id=None)
    lighting: LightingState | None = None
    health: tuple[ServiceHealth, ...] = ()
    limits: AlarmLimits | None = None
    music: MusicState | None = None

    @classmethod
    def from_state(cls, state: LiveState, ts: datetime, pause_remaining_s: float | None = None) -> Snapshot:
        """The live state now; ``pause_remaining_s`` (the alarm engine's, monotonic) refreshes the audio pause's."""
        pause = state.audio_pause
        if pause is not None and pause_remaining_s is not None:
            pause = pause.model_copy(update={"remaining_s": pause_remaining_s})
        return cls(
            ts=ts,
            readings=tuple(state.readings.values()),
            devices=tuple(state.devices.values()),
            alarms=tuple(state.alarms.values()),
            audio_pause=pause,
            session=state.session,
            lighting=state.lighting,
            health=tuple(state.health.values()),
            limits=state.limits,
            music=state.music,
        )

    def load_into(self, state: LiveState) -> None:
        """Make ``state`` what this snapshot shows: the inverse of :meth:`from_state` (the screen's side of it).

        Collections are replaced, not merged; single events go through the hub's own rule (``LiveState.apply``). The
        trends are not in a snapshot: the ``history`` message that follows brings them."""
        state.readings = {(r.device, r.quantity): r for r in self.readings}
        state.latest = {r.quantity: r for r in sorted(self.readings, key=lambda r: r.ts)}  # the newest per quantity
        state.devices = {d.device: d for d in self.devices}
        state.alarms = {a.id: a for a in self.alarms}
        state.health = {h.service: h for h in self.health}
        state.audio_pause, state.lighting, state.limits, state.music = None, None, None, None
        for event in (self.session, self.audio_pause, self.lighting, self.limits, self.music):
            if event is not None:
                state.apply(event)


class TrendData(Model):
    bucket_s: float = Field(gt=0)
    buckets: tuple[tuple[int, float, int], ...] = Field(description="(time // bucket_s, sum of values, count)")


class History(Model):
    """The trends of the vitals on the screen, sent once after the snapshot: a screen that restarts keeps its trends."""

    type: Literal["history"] = "history"
    recent: dict[Quantity, TrendData] = Field(description="the last 15 minutes, 10 s means")
    whole: dict[Quantity, TrendData] = Field(description="the session so far (30 s means, coarser when long)")

    @classmethod
    def from_trends(cls, trends: Trends) -> History:
        def data(trend: Trend) -> TrendData:
            return TrendData(bucket_s=trend.bucket_s, buckets=tuple(trend.buckets()))

        return cls(
            recent={q: data(t) for q, t in trends.recent.items()}, whole={q: data(t) for q, t in trends.whole.items()}
        )


def load_into(history: History, trends: Trends) -> None:
    """Replace ``trends`` with the daemon's."""
    for received, mine in ((history.recent, trends.recent), (history.whole, trends.whole)):
        for quantity, trend in mine.items():
            given = received.get(quantity)
            if given is None:
                trend.clear()
            else:
                trend.load(given.bucket_s, given.buckets)


EventPayload = Annotated[HubEvent, Field(discriminator="kind")]
"""Any hub event, told apart by its ``kind`` (the union is defined once, in roomctl.models)."""


class EventMessage(Model):
    type: Literal["event"] = "event"
    event: EventPayload


HEARTBEAT_S = 1.0
"""The server sends a heartbeat to a client it has sent nothing else for this long."""
HEARTBEAT_TIMEOUT_S = 5.0
"""A client that heard nothing (not even a heartbeat) for this long treats the daemon as hung: link lost."""


class Heartbeat(Model):
    """Sent when a client has had nothing else for :data:`HEARTBEAT_S`: the daemon's event loop is alive."""

    type: Literal["heartbeat"] = "heartbeat"
    ts: UtcDatetime


class Result(Model):
    type: Literal["result"] = "result"
    id: str | None = Field(description="the request id the client gave; null when the line had none")
    ok: bool
    message: str = ""
    error: Literal["invalid", "failed", "unavailable"] | None = None


class ClientHello(Model):
    """The client's side of the handshake: sent first by a client that only watches (a command also completes it)."""

    type: Literal["hello"] = "hello"
    protocol: int = Field(PROTOCOL_VERSION, ge=0, le=1000)
    client: str = Field("client", min_length=1, max_length=64, description="what the client is, for the log")


class CommandMessage(Model):
    type: Literal["command"] = "command"
    id: str = Field(min_length=1, max_length=64)
    command: Command


ServerMessage = Annotated[Hello | Snapshot | History | EventMessage | Heartbeat | Result, Field(discriminator="type")]
SERVER_ADAPTER: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)


def encode(message: Model) -> bytes:
    return message.model_dump_json().encode() + b"\n"


def encode_event(event_json: bytes) -> bytes:
    """Wrap an event's already-serialised model JSON: the server serialises each hub event once for all clients."""
    return b'{"type":"event","event":' + event_json + b"}\n"


def parse_client_line(line: bytes) -> CommandMessage | ClientHello:
    """Check one client line strictly (the shared command parse). Raises :class:`CommandRejected` with a reason in words."""
    try:
        data = load_object(line, max_bytes=MAX_CLIENT_LINE, example='{"type": "command", "id": "1", "command": {...}}')
    except BadJson as e:
        raise CommandRejected(f"message refused: {e}") from None
    raw_id = data.get("id")
    request_id = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= 64 else None
    if data.get("type") == "hello":
        try:
            return ClientHello.model_validate_json(line, strict=True)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()[:3])
            raise CommandRejected(f"hello refused: {problems}") from None
    if data.get("type") != "command":
        shown = repr(data.get("type"))[:40]
        raise CommandRejected(f"unknown message type {shown} (clients send 'hello' and 'command')", request_id)
    extra = sorted(set(data) - {"type", "id", "command"})
    if extra:
        raise CommandRejected(f"message refused: unknown keys {', '.join(k[:20] for k in extra[:5])}", request_id)
    if request_id is None:
        raise CommandRejected("message refused: id must be a string of 1-64 characters")
    command = data.get("command")
    if not isinstance(command, dict):
        raise CommandRejected("message refused: command must be a JSON object", request_id)
    try:
        return CommandMessage(id=request_id, command=parse_command(command))
    except CommandRejected as e:
        raise CommandRejected(str(e), request_id) from None

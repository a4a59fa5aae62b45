"""How a room reads on a tile and in its detail view, in words. No Textual here (the app only places the text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from roomctl.central.state import RoomState, Urgency
from roomctl.models import AlarmCategory, LinkState
from roomctl.mqtt import payloads as p
from roomctl.quantities import STATION_VITALS
from roomctl.terminal.looks import PREFIX, format_clock

TILE_LINES = 5


@dataclass(frozen=True, slots=True)
class Clocks:
    """One instant for one redraw: wall time for ``ts`` comparisons, monotonic for expiry."""

    now: datetime
    mono: float
    stale_s: float


SUSPECT = " [time?]"
"""After an alarm raised further in the future than the clock skew allows: its time is not believed."""
UNEXPECTED = "? "
"""Before the name of a room not in ``[station] rooms``."""


def alarm_text(alarm: p.AlarmBody, suspect: bool = False) -> str:
    text = f"{PREFIX[alarm.priority]} {alarm.message}" + (SUSPECT if suspect else "")
    if alarm.acknowledged_at is not None:
        text += " [ack in room]"
    elif alarm.latched or not alarm.active:
        text += " [ended]"
    return text


def vitals_line(room: RoomState, clocks: Clocks) -> str:
    parts, whys = [], []
    for vital in STATION_VITALS:
        shown = room.vital(vital.quantity, vital.decimals, now=clocks.now, mono=clocks.mono, stale_s=clocks.stale_s)
        parts.append(f"{vital.short} {shown.text:>3}{shown.why if shown.why == '?' else ''}")
        if shown.why and shown.why != "?":
            whys.append(shown.why)
    line = "  ".join(parts)
    if whys:
        line += "  " + ("no data" if len(set(whys)) > 1 else whys[0])
    return line


def session_line(session: p.SessionPayload | None, now: datetime) -> str:
    if session is None or session.id is None:
        return "no session"
    kind = session.session_kind.value.capitalize() if session.session_kind else "Session"
    parts = [kind + (" ended" if session.ended_at is not None else "")]
    if session.phase:
        parts.append(session.phase)
    if session.on_break:
        parts.append("BREAK")
    if session.dose_times:
        parts.append(f"dose+{format_clock((now - session.dose_times[-1]).total_seconds())[:-3]}")
    return " ".join(parts)


def wearables_line(devices: dict[str, p.DevicePayload]) -> str:
    if not devices:
        return "wearables: none reported"
    trouble = []
    for device in sorted(devices.values(), key=lambda d: d.device):
        words = [] if device.state is LinkState.CONNECTED else [device.state.value]
        words += [c.value.replace("_", " ") for c in device.conditions]
        if words:
            trouble.append(f"{device.device} {' '.join(words)}")
    return "; ".join(trouble) if trouble else f"wearables ok ({len(devices)})"


def tile_text(room: RoomState, clocks: Clocks, *, selected: bool = False, site: bool = False) -> str:
    """Five lines: name (and site, when the station shows several), HR/SpO2 (or why not), the highest alarm, the
    session, the wearables."""
    head = ("> " if selected else "") + ("" if room.expected else UNEXPECTED) + room.label
    head += f" @{room.site}" if site else ""
    alarms = room.alarms_in_order()
    second = vitals_line(room, clocks)
    if room.offline:
        second = "ROOM OFFLINE" + (" (link down)" if room.status != "offline" else "")
    if alarms:
        third = alarm_text(alarms[0], alarms[0].id in room.suspect) + (
            f" (+{len(alarms) - 1})" if len(alarms) > 1 else ""
        )
        if room.offline:
            third = "was: " + third
    else:
        third = "no alarms"
    if room.status is None:
        second = "waiting for the room's status"
    return "\n".join([head, second, third, session_line(room.session, clocks.now), wearables_line(room.devices)])


def tile_classes(room: RoomState) -> dict[str, bool]:
    """CSS classes of a tile: the top alarm's priority colours it; offline rooms look offline, never calm."""
    top = room.top_alarm()
    priority = top.priority.value if top is not None and room.expected else None  # unexpected: never in alarm colours
    return {
        "priority-high": priority == "high",
        "priority-medium": priority == "medium",
        "priority-low": priority == "low",
        "technical": top is not None and top.category is AlarmCategory.TECHNICAL,
        "acknowledged": top is not None and all(a.acknowledged_at is not None for a in room.alarms.values()),
        "offline": room.offline or room.status is None,
        "calm": room.urgency() is Urgency.CALM,
        "unexpected": not room.expected,
    }


def summary_line(title: str, counts: dict[Urgency, int], now: datetime, unexpected: int = 0) -> str:
    alarming = counts[Urgency.HIGH] + counts[Urgency.MEDIUM] + counts[Urgency.LOW]
    detail = ", ".join(
        f"{counts[u]} {u.name.lower()}" for u in (Urgency.HIGH, Urgency.MEDIUM, Urgency.LOW) if counts[u]
    )
    text = f"{title}   ALARMING {alarming}" + (f" ({detail})" if detail else "")
    text += (
        f"   offline {counts[Urgency.OFFLINE]}   technical {counts[Urgency.TECHNICAL]}   calm {counts[Urgency.CALM]}"
    )
    if unexpected:
        text += f"   unexpected {unexpected}"
    return text + f"   {now:%H:%M:%S} UTC"


def detail_text(room: RoomState, clocks: Clocks) -> str:
    """Everything the feed says about one room, for its detail view (the trends are drawn beside it)."""
    lines = [f"{room.label}   site {room.site} / room {room.room}   status {room.status or 'unknown'}"]
    if not room.expected:
        lines[0] += "   NOT IN central.toml [station] rooms"
    lines.append(vitals_line(room, clocks) if not room.offline else "ROOM OFFLINE")
    lines.append("")
    alarms = room.alarms_in_order()
    lines.append(f"Alarms ({len(alarms)}):" if alarms else "Alarms: none")
    for alarm in alarms:
        age = (clocks.now - alarm.raised_at).total_seconds()
        since = f"raised {format_clock(age)} ago" if age >= 0 else "raised in the future (the room's clock?)"
        lines.append(f"  {alarm_text(alarm, alarm.id in room.suspect)}   {alarm.category.value}, {since}")
    lines.append("")
    lines.append("Session: " + session_line(room.session, clocks.now))
    lines.append("Wearables:")
    for device in sorted(room.devices.values(), key=lambda d: d.device):
        battery = f" battery {device.battery:.0f}%" if device.battery is not None else ""
        conditions = " " + ", ".join(c.value.replace("_", " ") for c in device.conditions) if device.conditions else ""
        lines.append(f"  {device.device} ({device.profile}): {device.state.value}{battery}{conditions}")
    if not room.devices:
        lines.append("  none reported")
    return "\n".join(lines)

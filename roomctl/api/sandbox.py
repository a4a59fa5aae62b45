"""A small room served over the local API, without wearables or a daemon: for trying the screen, its tests and benchmark.

``python -m roomctl.api.sandbox SOCKET [--rate HZ] [--quiet]`` serves the demo room, publishes synthetic readings
(``--rate 0``: nothing changes) and carries out commands on the hub state the simple way a daemon would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
from datetime import timedelta
from pathlib import Path

from roomctl.api.protocol import RoomInfo
from roomctl.api.server import ApiServer
from roomctl.clock import Clock, SystemClock
from roomctl.commands import (
    Acknowledge,
    Command,
    CommandResult,
    EndSession,
    MarkEvent,
    SetLevel,
    SetPhase,
    SetScene,
    StartSession,
)
from roomctl.config import demo_config_text, parse_config
from roomctl.hub import Hub
from roomctl.models import (
    AlarmAction,
    AlarmEvent,
    AudioPause,
    DeviceState,
    LightingState,
    LinkState,
    Quantity,
    Reading,
    SessionKind,
    SessionState,
)


class SandboxHandler:
    """Carries out commands on the hub and records them (``commands``)."""

    def __init__(self, hub: Hub, clock: Clock) -> None:
        self.hub = hub
        self.clock = clock
        self.commands: list[Command] = []

    async def handle(self, command: Command, source: str) -> CommandResult:
        self.commands.append(command)
        now, state = self.clock.now(), self.hub.state
        match command:
            case Acknowledge():
                for alarm in list(state.alarms.values()):
                    acked = alarm.model_copy(update={"acknowledged_at": now})
                    self.hub.publish(AlarmEvent(action=AlarmAction.ACKNOWLEDGED, alarm=acked, ts=now))
                self.hub.publish(AudioPause(until=now + timedelta(seconds=120), remaining_s=120))
            case SetScene():
                self.hub.publish(
                    LightingState(scene=command.scene, levels={"all": 0.3}, override=True, reason="override")
                )
            case SetLevel():
                self.hub.publish(
                    LightingState(scene=None, levels={"all": command.level}, override=True, reason="override")
                )
            case SetPhase():
                self.hub.publish(state.session.model_copy(update={"phase": command.phase}))
            case MarkEvent(event="dose" | "supplemental_dose"):
                doses = (*state.session.dose_times, now)
                self.hub.publish(state.session.model_copy(update={"dose_times": doses}))
            case StartSession():
                self.hub.publish(
                    SessionState(id=f"sandbox-{len(self.commands)}", session_kind=command.session_kind, started_at=now)
                )
            case EndSession():
                self.hub.publish(SessionState(id=None))
            case MarkEvent(event="break_start" | "break_end"):
                self.hub.publish(state.session.model_copy(update={"on_break": command.event == "break_start"}))
        return CommandResult(ok=True, message=f"{command.command}: done")


def start_state(hub: Hub, clock: Clock) -> None:
    now = clock.now()
    hub.publish(SessionState(id="sandbox", session_kind=SessionKind.DOSING, phase="arrival", started_at=now))
    hub.publish(LightingState(scene="arrival", levels={"ceiling": 0.4, "lamp": 0.5}, reason="phase"))
    for device, profile in (("chest-strap", "heart_rate"), ("oximeter", "plx")):
        hub.publish(DeviceState(device=device, profile=profile, state=LinkState.CONNECTED, battery=80, rssi=-60))


def readings_at(n: int, clock: Clock) -> list[Reading]:
    now = clock.now()
    hr = 72 + 8 * math.sin(n / 60)
    return [
        Reading(quantity=Quantity.HEART_RATE, value=round(hr), unit="bpm", device="chest-strap", ts=now),
        Reading(quantity=Quantity.SPO2, value=97 + n % 3 // 2, unit="%", device="oximeter", ts=now),
        Reading(quantity=Quantity.PULSE_RATE, value=round(hr) + 1, unit="bpm", device="oximeter", ts=now),
        Reading(quantity=Quantity.PERFUSION_INDEX, value=2.4 + (n % 5) / 10, unit="%", device="oximeter", ts=now),
    ]


async def serve(socket_path: Path, rate_hz: float, clock: Clock | None = None) -> None:
    clock = clock or SystemClock()
    hub = Hub()
    start_state(hub, clock)
    info = RoomInfo.from_config(parse_config(demo_config_text()))
    async with ApiServer(hub, SandboxHandler(hub, clock), info, socket_path, clock=clock):
        if rate_hz <= 0:
            await asyncio.Event().wait()
        for n in itertools.count():
            for reading in readings_at(n, clock):
                hub.publish(reading)
            await clock.sleep(1 / rate_hz)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("socket", type=Path)
    parser.add_argument("--rate", type=float, default=1.0, help="readings per second per vital; 0: nothing changes")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.socket, args.rate))


if __name__ == "__main__":
    main()

"""The sound service with the real hub and alarm engine, a fake clock and a buzzer on mock GPIO: quiet in a calm room,
the priority that should sound, louder while unanswered, silent during the pause, back after it; failures are alarms."""

from __future__ import annotations

import asyncio
import contextlib

from gpiozero.pins.mock import MockFactory

from roomctl.clock import FakeClock
from roomctl.config.alarms import LimitRule, SoundConfig
from roomctl.hub import Hub
from roomctl.models import Priority, Quantity
from roomctl.signals.outputs import AplayOutput, BuzzerOutput
from roomctl.signals.service import SoundService
from tests.alarms.conftest import Room, config

from .conftest import AlsaFile
from .pins import ClockedMockPWMPin

PIN = 18


async def test_what_sounds_follows_the_alarms(hub: Hub, clock: FakeClock) -> None:
    room = Room(hub, clock, config(LimitRule(quantity=Quantity.SPO2, low=90, condition_delay_s=0), audio_pause_s=60))
    ClockedMockPWMPin.clock = room.clock
    factory = MockFactory(pin_class=ClockedMockPWMPin)
    buzzer = BuzzerOutput(PIN, pin_factory=factory, clock=room.clock)
    sound = SoundConfig(outputs=["buzzer"], buzzer_pin=PIN, volume=0.3, escalate_after_s=30, escalate_step=0.2)
    service = SoundService(sound, room.hub, [buzzer], clock=room.clock)
    task = asyncio.create_task(service.run())
    try:
        await room.clock.run_for(1)
        assert service.played == [("self-test", 0.3)]  # the start-up tone
        await room.clock.run_for(20)
        assert len(service.played) == 1  # a calm room is quiet

        room.reading(Quantity.SPO2, 88)  # medium, at once
        await room.clock.run_for(50)  # bursts at 0, 11, 22, 33, 44 s: one step louder after 30 s unanswered
        assert service.played[1:] == [("medium", 0.3)] * 3 + [("medium", 0.5)] * 2
        assert factory.pin(PIN).frequency == 523

        room.acknowledge()  # the room's pause (60 s): silence, the alarm still shown
        count = len(service.played)
        await room.clock.run_for(30)
        assert len(service.played) == count

        room.health("storage", ok=False, detail="disk full")  # a high alarm breaks through at once
        await room.clock.run_for(3.5)  # the high burst lasts 3.3 s
        assert service.played[-1] == ("high", 0.3)
        room.acknowledge()
        count = len(service.played)
        for _ in range(59):  # the daemon's once-a-second tick, through the pause
            await room.clock.run_for(1)
            room.publish(room.engine.tick())
        assert len(service.played) == count
        for _ in range(3):  # the pause ends, both conditions still exist: they are announced again, high first
            await room.clock.run_for(1)
            room.publish(room.engine.tick())
        assert service.played[-1] == ("high", 0.3)
        assert factory.pin(PIN).frequency == 660
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        factory.reset()


async def test_a_failing_output_is_a_technical_alarm_shown_locally(
    alsa_file: AlsaFile, hub: Hub, clock: FakeClock
) -> None:
    room = Room(hub, clock)
    sound = SoundConfig(outputs=["alsa"], alsa_device="nowhere")
    service = SoundService(sound, room.hub, [AplayOutput("nowhere", environ=alsa_file.environ)], clock=room.clock)
    task = asyncio.create_task(service.run())
    try:
        version = room.hub.version
        async with asyncio.timeout(30):
            while "sound_failure" not in room.conditions():
                version = await room.hub.wait_changed(version)
        alarm = room.only("sound_failure")
        assert alarm.priority is Priority.HIGH
        assert alarm.message.startswith("Alarm sound failure: alarms are not heard, watch the screen")
        assert "Unknown PCM nowhere" in alarm.message
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

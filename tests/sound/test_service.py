"""The sound service with the real hub and alarm engine, a fake clock and a buzzer on mock GPIO: quiet in a calm room,
the priority that should sound, louder while unanswered, silent during the pause, back after it; failures are alarms."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from gpiozero.pins.mock import MockFactory

from roomctl.clock import FakeClock
from roomctl.config.alarms import LimitRule, SoundConfig
from roomctl.hub import Hub
from roomctl.models import Priority, Quantity
from roomctl.sound.annunciator import SoundService
from roomctl.sound.players import AplayOutput, BuzzerOutput
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


async def test_escalation_follows_priority_low_never_full_medium_to_its_cap_high_to_full(
    hub: Hub, clock: FakeClock
) -> None:
    """A broker unreachable (low) left unanswered for 10 minutes stays at max_volume_low; a medium alarm climbs to
    max_volume_medium; a high one to full volume (issue 22)."""
    room = Room(hub, clock, config(LimitRule(quantity=Quantity.SPO2, low=90, condition_delay_s=0)))
    ClockedMockPWMPin.clock = room.clock
    factory = MockFactory(pin_class=ClockedMockPWMPin)
    buzzer = BuzzerOutput(PIN, pin_factory=factory, clock=room.clock)
    sound = SoundConfig(outputs=["buzzer"], buzzer_pin=PIN, self_test=False)  # the defaults: 0.3, +0.2 every 30 s
    assert (sound.volume_cap(Priority.LOW), sound.volume_cap(Priority.MEDIUM), sound.volume_cap(Priority.HIGH)) == (
        0.4,
        0.7,
        1.0,
    )
    service = SoundService(sound, room.hub, [buzzer], clock=room.clock)
    task = asyncio.create_task(service.run())
    try:
        room.health("mqtt", ok=False, detail="broker unreachable")
        assert room.only("broker_unreachable").priority is Priority.LOW
        await room.clock.run_for(600, step=0.1)
        low = [v for name, v in service.played if name == "low"]
        assert len(low) >= 25
        assert max(low) == pytest.approx(0.4)  # one step, then no louder: never full volume
        assert low[0] == pytest.approx(0.3)

        room.reading(Quantity.SPO2, 88)  # medium now sounds (the highest unacknowledged); still unanswered
        await room.clock.run_for(300, step=0.1)
        medium = [v for name, v in service.played if name == "medium"]
        assert max(medium) == pytest.approx(0.7)  # capped
        assert medium[-5:] == [pytest.approx(0.7)] * 5

        room.health("storage", ok=False, detail="disk full")  # high
        await room.clock.run_for(300, step=0.1)
        high = [v for name, v in service.played if name == "high"]
        assert high[-1] == pytest.approx(1.0)  # full volume
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        factory.reset()

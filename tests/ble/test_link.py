"""Real bleak against the emulated BlueZ: readings into a real Hub, drop-out and recovery, resubscription."""

from __future__ import annotations

import asyncio

from roomctl.clock import SystemClock
from roomctl.config import demo_config_text, parse_config
from roomctl.hub import Hub
from roomctl.models import LinkState, Quantity, Reading, RRIntervals, TechnicalCondition
from roomctl.sensors.links import SensorService
from tests.ble.conftest import ADDRESSES, Room, StartEmulator

HR = ADDRESSES["heart_rate"]


def readings(room: Room, device: str, quantity: Quantity) -> list[Reading]:
    return [e for e in room.events if isinstance(e, Reading) and e.device == device and e.quantity is quantity]


async def test_readings_flow_into_the_hub(start_emulator: StartEmulator, room: Room) -> None:
    await start_emulator(["heart_rate", "plx"])
    room.add("heart_rate")
    room.add("plx")
    room.start()
    await room.wait_for(
        lambda: (
            len(readings(room, "heart-rate", Quantity.HEART_RATE)) >= 3
            and len(readings(room, "plx", Quantity.SPO2)) >= 3
        ),
        "heart rate and SpO2 readings",
    )
    hr = readings(room, "heart-rate", Quantity.HEART_RATE)[-1]
    assert hr.unit == "bpm"
    assert hr.value is not None
    assert 50 <= hr.value <= 130
    spo2 = readings(room, "plx", Quantity.SPO2)[-1]
    assert spo2.unit == "%"
    assert spo2.value is not None
    assert 96 <= spo2.value <= 99
    rr = [e for e in room.events if isinstance(e, RRIntervals)]
    assert rr
    assert all(0.3 <= i <= 2.0 for e in rr for i in e.intervals)
    await room.wait_for(lambda: (d := room.device("plx")) is not None and d.battery is not None, "battery read")
    state = room.device("heart-rate")
    assert state is not None
    assert state.state is LinkState.CONNECTED
    assert state.address == HR
    # the live state the rest of roomctl reads
    assert room.hub.state.latest[Quantity.HEART_RATE].device == "heart-rate"
    await room.stop()  # shutting down is not a wearable going stale
    assert room.states("heart-rate")[-1] is LinkState.CONNECTED


async def test_drop_out_goes_stale_then_disconnected_and_recovers(start_emulator: StartEmulator, room: Room) -> None:
    emu = await start_emulator(["heart_rate"])
    link = room.add("heart_rate", stale_after_s=1.0, lost_after_s=2.5)
    room.start()
    await room.wait_for(lambda: link.state is LinkState.CONNECTED and link.readings >= 2, "connected with data")
    before = len(readings(room, "heart-rate", Quantity.HEART_RATE))
    loop = asyncio.get_running_loop()
    dropped_at = loop.time()
    emu.drop_out(HR, 6.0)
    await room.wait_for(lambda: link.state is LinkState.STALE, "stale after the drop-out")
    stale_after = loop.time() - dropped_at
    assert link.last_data_at is not None
    assert link.last_data_at <= dropped_at + 0.5
    await room.wait_for(lambda: link.state is LinkState.DISCONNECTED, "disconnected after lost_after_s")
    lost_after = loop.time() - dropped_at
    assert stale_after <= 1.0 + 1.0
    assert 2.5 - 0.6 <= lost_after <= 2.5 + 1.5
    # the wearable comes back by itself; the link finds it again, reconnects and subscribes again
    await room.wait_for(lambda: link.state is LinkState.CONNECTED, "connected again", within=40)
    await room.wait_for(lambda: len(readings(room, "heart-rate", Quantity.HEART_RATE)) >= before + 3, "readings resume")
    assert link.last_data_at is not None
    assert link.last_data_at > dropped_at + 2.5
    assert link.connections == 2
    assert room.states("heart-rate")[-4:] == [
        LinkState.STALE,
        LinkState.DISCONNECTED,
        LinkState.STALE,
        LinkState.CONNECTED,
    ] or (room.states("heart-rate")[-3:] == [LinkState.STALE, LinkState.DISCONNECTED, LinkState.CONNECTED])
    assert [c for a, c in emu.calls if a == HR].count("Connect") == 2


async def test_silent_link_is_rebuilt_and_notifications_resume(start_emulator: StartEmulator, room: Room) -> None:
    emu = await start_emulator(["heart_rate"])
    link = room.add("heart_rate", stale_after_s=1.0, lost_after_s=2.0)
    room.start()
    await room.wait_for(lambda: link.state is LinkState.CONNECTED and link.readings >= 2, "connected with data")
    emu.forget_subscriptions(HR)  # the strap silently stops notifying, the link stays up
    await room.wait_for(lambda: link.state is LinkState.STALE, "stale while silent")
    assert emu.is_connected(HR)
    count = link.readings
    await room.wait_for(lambda: link.connections == 2 and link.readings >= count + 3, "resubscribed after reconnect")
    assert link.state is LinkState.CONNECTED


async def test_stale_connection_from_a_previous_run_is_closed_first(start_emulator: StartEmulator, room: Room) -> None:
    emu = await start_emulator(["heart_rate"])
    emu.leave_stale_connection(HR)
    link = room.add("heart_rate")
    room.start()
    await room.wait_for(lambda: link.readings >= 3, "readings after taking over the stale link")
    calls = [c for a, c in emu.calls if a == HR]
    assert calls[:2] == ["Disconnect", "Connect"]


async def test_bluez_connect_failures_are_retried(start_emulator: StartEmulator, room: Room) -> None:
    emu = await start_emulator(["plx"])
    emu.fail_next_connect(ADDRESSES["plx"], "in_progress")
    emu.fail_next_connect(ADDRESSES["plx"], "abort")
    link = room.add("plx")
    room.start()
    await room.wait_for(lambda: link.readings >= 3, "readings after two failed connects")
    assert [c for a, c in emu.calls if a == ADDRESSES["plx"]].count("Connect") >= 3


async def test_finger_off_and_low_battery_are_reported(start_emulator: StartEmulator, room: Room) -> None:
    emu = await start_emulator(["plx"])
    emu.set_battery(ADDRESSES["plx"], 12)
    link = room.add("plx")
    room.start()
    await room.wait_for(lambda: TechnicalCondition.LOW_BATTERY in link.conditions, "low battery")
    emu.finger_off(ADDRESSES["plx"], 3.0)
    await room.wait_for(lambda: TechnicalCondition.FINGER_OFF in link.conditions, "finger off")
    state = room.device("plx")
    assert state is not None
    assert TechnicalCondition.FINGER_OFF in state.conditions
    missing = [r for r in readings(room, "plx", Quantity.SPO2) if r.value is None]
    assert missing, "finger off gives SpO2 null, never a stale number"
    await room.wait_for(lambda: TechnicalCondition.FINGER_OFF not in link.conditions, "finger back on")


async def test_sensor_service_runs_the_demo_room_wearables(start_emulator: StartEmulator, hub: Hub) -> None:
    """The daemon's service, with the demo configuration, against the emulator's demo devices."""
    await start_emulator(["heart_rate", "plx"])
    config = parse_config(demo_config_text())
    service = SensorService(list(config.wearables), config.ble, hub, clock=SystemClock())
    task = asyncio.create_task(service.run())
    try:
        version = hub.version
        async with asyncio.timeout(30):
            while not all(
                (d := hub.state.devices.get(w.id)) is not None and d.state is LinkState.CONNECTED
                for w in config.wearables
            ):
                version = await hub.wait_changed(version)
        assert {r.device for r in hub.state.readings.values()} == {w.id for w in config.wearables}
        assert hub.state.health["bluetooth"].ok
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_undecodable_values_are_counted_and_the_link_carries_on(
    start_emulator: StartEmulator, room: Room
) -> None:
    emu = await start_emulator(["heart_rate"])
    link = room.add("heart_rate")
    room.start()
    await room.wait_for(lambda: link.readings >= 2, "readings")
    assert emu.send(HR, "00002a37-0000-1000-8000-00805f9b34fb", b"\x10\x48")  # RR announced, none present
    count = link.readings
    await room.wait_for(lambda: link.rejected == 1 and link.readings >= count + 2, "rejected once, then more readings")
    assert link.state is LinkState.CONNECTED

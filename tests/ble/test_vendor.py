"""One polled (Viatom) and one streamed (BerryMed) vendor protocol, end to end through bleak and the emulator."""

from __future__ import annotations

import itertools

from roomctl.emulator.devices import BerryMed, Viatom
from roomctl.models import LinkState, Quantity, Reading, TechnicalCondition
from tests.ble.conftest import ADDRESSES, Room, StartEmulator


def values(room: Room, device: str, quantity: Quantity) -> list[float | None]:
    return [e.value for e in room.events if isinstance(e, Reading) and e.device == device and e.quantity is quantity]


async def test_viatom_is_polled_and_answers_flow_into_the_hub(start_emulator: StartEmulator, room: Room) -> None:
    emu = await start_emulator(["viatom"])
    device = emu.device(ADDRESSES["viatom"])
    assert isinstance(device, Viatom)
    link = room.add("viatom", poll_interval_s=0.3)
    room.start()
    await room.wait_for(lambda: len(values(room, "viatom", Quantity.SPO2)) >= 3, "three polled SpO2 readings")
    assert device.requests >= 3  # each reading answered a READ_SENSORS request the link wrote
    spo2 = [v for v in values(room, "viatom", Quantity.SPO2) if v is not None]
    pulse = [v for v in values(room, "viatom", Quantity.PULSE_RATE) if v is not None]
    assert spo2
    assert all(96 <= v <= 99 for v in spo2)
    assert pulse
    assert all(40 <= v <= 140 for v in pulse)
    assert link.state is LinkState.CONNECTED
    emu.set_battery(ADDRESSES["viatom"], 9)
    await room.wait_for(lambda: TechnicalCondition.LOW_BATTERY in link.conditions, "low battery from the poll answer")
    emu.finger_off(ADDRESSES["viatom"], 2.0)
    await room.wait_for(lambda: TechnicalCondition.FINGER_OFF in link.conditions, "finger off from the poll answer")


async def test_berrymed_stream_split_across_notifications(start_emulator: StartEmulator, room: Room) -> None:
    emu = await start_emulator(["berrymed"])
    device = emu.device(ADDRESSES["berrymed"])
    assert isinstance(device, BerryMed)
    link = room.add("berrymed")
    room.start()
    await room.wait_for(lambda: len(values(room, "berrymed", Quantity.SPO2)) >= 3, "three streamed SpO2 readings")
    spo2 = values(room, "berrymed", Quantity.SPO2)
    assert all(v is not None and 96 <= v <= 99 for v in spo2)
    # notifications arrive at 5 per second carrying 10 packets per second, cut at random places; the link decodes whole
    # packets only and publishes at most one reading per second per quantity
    assert emu.sent[ADDRESSES["berrymed"]] > len(spo2) * 3
    stamps = [
        e.ts for e in room.events if isinstance(e, Reading) and e.device == "berrymed" and e.quantity is Quantity.SPO2
    ]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
    assert all(g >= 0.9 for g in gaps)
    emu.finger_off(ADDRESSES["berrymed"], 2.0)
    await room.wait_for(lambda: TechnicalCondition.FINGER_OFF in link.conditions, "finger off in the stream")
    await room.wait_for(lambda: TechnicalCondition.FINGER_OFF not in link.conditions, "finger back")

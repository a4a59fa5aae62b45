"""A wearable's rate is bounded: a flooding strap through real bleak and the emulated BlueZ is coalesced before decoding
(the newest kept, the rest counted), paced (unsubscribed between looks), and raises "wearable sending too fast"."""

from __future__ import annotations

import asyncio

from roomctl.alarms.engine import AlarmEngine
from roomctl.config.alarms import AlarmsConfig
from roomctl.models import AlarmAction, AlarmEvent, HubEvent, LinkState, Priority, Quantity, Reading
from roomctl.sensors.link import CALM_S, FLOOD_WINDOWS
from roomctl.sensors.profiles import PROFILES
from roomctl.sensors.ratebound import RateBound
from roomctl.sensors.vendors.sig_heart_rate import HEART_RATE_MEASUREMENT, encode_heart_rate
from tests.ble.conftest import ADDRESSES, Room, StartEmulator

HRM = HEART_RATE_MEASUREMENT.uuid
FLOOD_HZ = 500.0
FLOOD_S = 8.0


async def test_the_bound_keeps_the_newest_and_counts_the_rest() -> None:
    now = [0.0]
    decoded: list[bytes] = []
    bound = RateBound(4.0, lambda: now[0], lambda d: decoded.append(bytes(d)))
    admitted = [bytes([i]) for i in range(100) if bound.admit(bytes([i]))]
    assert admitted == [bytes([i]) for i in range(4)]  # a second's worth passes at once, then nothing more
    assert decoded == []
    bound.release()  # what the link does before it pauses the subscription
    assert decoded == [bytes([99])]  # the newest of the rest
    assert bound.coalesced == 95  # and the others are counted, never decoded
    assert bound.received == 100


async def test_a_held_value_is_released_when_the_bound_allows() -> None:
    loop = asyncio.get_running_loop()
    decoded: list[bytes] = []
    released = asyncio.Event()

    def out(d: bytes | bytearray) -> None:
        decoded.append(bytes(d))
        released.set()

    bound = RateBound(20.0, loop.time, out)
    passed = [i for i in range(30) if bound.admit(bytes([i]))]
    assert passed == list(range(20))
    async with asyncio.timeout(10):
        await released.wait()
    assert decoded == [bytes([29])]
    assert bound.coalesced == 9


async def test_a_flooding_strap_is_bounded_paced_and_alarmed(start_emulator: StartEmulator, room: Room) -> None:
    emu = await start_emulator(["heart_rate"], interval_s=3600.0)  # the strap sends only what the test sends
    address = ADDRESSES["heart_rate"]
    link = room.add("heart_rate", stale_after_s=5.0, lost_after_s=60.0)
    engine = AlarmEngine(AlarmsConfig(), [link.config], clock=room.clock)
    room.hub.add_processor(engine)
    decoded: list[tuple[float, int]] = []  # (when, the notification's number)
    alarms: list[AlarmEvent] = []

    def watch(event: HubEvent) -> None:
        if isinstance(event, Reading) and event.quantity is Quantity.ENERGY_EXPENDED and event.value is not None:
            decoded.append((room.clock.monotonic(), int(event.value)))
        elif isinstance(event, AlarmEvent) and event.alarm.condition == "sending_too_fast":
            alarms.append(event)

    room.hub.add_processor(watch)

    async def tick() -> None:
        while True:
            await room.clock.sleep(0.25)
            for event in engine.tick():
                room.hub.publish(event)

    seq = 0
    delivered: list[int] = []

    def send() -> None:
        nonlocal seq
        seq += 1
        if emu.send(address, HRM, encode_heart_rate(72, (), contact=True, energy_kj=seq)):
            delivered.append(seq)

    async def steady(seconds: float) -> None:  # a normal strap: once a second
        for _ in range(round(seconds)):
            send()
            await asyncio.sleep(1.0)

    ticker = asyncio.create_task(tick())
    try:
        room.start()
        await room.wait_for(lambda: emu.subscribed(address, HRM) and link.state is not LinkState.CONNECTING, "up")
        await steady(3)
        await room.wait_for(lambda: len(decoded) >= 2, "steady readings")
        assert link.coalesced == 0  # a strap at its normal rate is never coalesced

        flood_start = room.clock.monotonic()
        batch = 10
        while room.clock.monotonic() - flood_start < FLOOD_S:
            for _ in range(batch):
                send()
            await asyncio.sleep(batch / FLOOD_HZ)
        flood_end = room.clock.monotonic()
        last_delivered = delivered[-1]

        raised = [a for a in alarms if a.action is AlarmAction.RAISED]
        assert len(raised) == 1
        assert raised[0].alarm.priority is Priority.LOW
        assert raised[0].alarm.message.startswith("Wearable sending too fast: heart-rate")
        paced_from = raised[0].ts  # the alarm is raised when pacing begins
        assert seq - len(delivered) > FLOOD_HZ  # while paced the emulator was unsubscribed: it sent nothing

        await room.wait_for(lambda: any(n == last_delivered for _t, n in decoded), "the newest notification decoded")
        in_flood = [t for t, n in decoded if flood_start <= t <= flood_end]
        bound = PROFILES["heart_rate"].max_notify_hz
        assert len(in_flood) <= bound * (FLOOD_S + 1) + bound  # never more than the profile's rate ...
        assert len(in_flood) < seq / 50  # ... against the hundreds a second sent
        detected_s = FLOOD_WINDOWS + 2  # a few one-second windows, then one look a second
        paced = [t for t, _n in decoded if flood_start + detected_s <= t <= flood_end]
        assert len(paced) <= 2 * (flood_end - flood_start - detected_s) + 2, (len(paced), paced_from)
        held = link.received - link.coalesced - len(decoded)
        assert held in (0, 1), held  # every notification that came is decoded or counted (or the newest, held)

        await steady(CALM_S + 6)  # back to normal: the alarm clears, nothing more is coalesced
        await room.wait_for(
            lambda: any(a.action in (AlarmAction.CLEARED, AlarmAction.LATCHED) for a in alarms), "alarm cleared"
        )
        coalesced = link.coalesced
        await steady(3)
        assert link.coalesced == coalesced
    finally:
        ticker.cancel()
        await asyncio.gather(ticker, return_exceptions=True)

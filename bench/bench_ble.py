"""Notification → hub latency through the real bleak and the emulated BlueZ, and CPU per notification in roomctl.

The emulator runs in a separate process (as BlueZ does), on a private dbus-daemon. It stamps each notification with
``time.monotonic_ns()`` just before sending and carries a sequence number in the Heart Rate Measurement's energy field;
this process (scanner + WearableLink + decoder + Hub) stamps the reading when the hub publishes it. CLOCK_MONOTONIC is
system-wide, so the difference is the end-to-end latency: emulator → dbus-daemon → bleak → decode → Hub.

    .venv/bin/python bench/bench_ble.py [--rate 200] [--count 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from _budget import cpu_seconds, percentile

from roomctl.sensors.vendors import sig_heart_rate

ADDRESS = "C0:FF:EE:00:00:01"
HRM = "00002a37-0000-1000-8000-00805f9b34fb"


async def child(bus: str, rate: float, count: int) -> dict[int, int]:
    """The emulator process: wait for the subscription, then send ``count`` notifications at ``rate`` per second."""
    from roomctl.emulator import Emulator, Scenario
    from roomctl.emulator.devices import HeartRateStrap

    scenario = Scenario(seed=1, artefact_chance=0.0)
    strap = HeartRateStrap(ADDRESS, "Bench Strap", scenario, interval_s=3600.0)
    async with Emulator([strap], scenario, bus_address=bus) as emu:
        while not emu.subscribed(ADDRESS, HRM):  # noqa: ASYNC110 (no event for this; 20 Hz polling while waiting)
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        sent: dict[int, int] = {}
        start = time.monotonic()
        for seq in range(count):
            delay = start + seq / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            payload = sig_heart_rate.encode_heart_rate(72, [0.833], contact=True, energy_kj=seq)
            sent[seq] = time.monotonic_ns()
            emu.send(ADDRESS, HRM, payload)
        await asyncio.sleep(1.0)
    return sent


async def measure(bus: str, rate: float, count: int) -> None:
    from roomctl.clock import SystemClock
    from roomctl.config.wearables import BleConfig, WearableConfig
    from roomctl.hub import Hub
    from roomctl.models import HubEvent, Quantity, Reading
    from roomctl.sensors.link import WearableLink
    from roomctl.sensors.profiles import PROFILES
    from roomctl.sensors.scanner import SharedScanner

    received: dict[int, int] = {}
    cpu_marks: list[float] = []

    def stamp(event: HubEvent) -> None:
        if isinstance(event, Reading) and event.quantity is Quantity.ENERGY_EXPENDED and event.value is not None:
            received[int(event.value)] = time.monotonic_ns()
            if len(received) == 1 or len(received) == count:
                cpu_marks.append(cpu_seconds())

    hub = Hub()
    hub.add_processor(stamp)
    clock = SystemClock()
    ble = BleConfig()
    scanner = SharedScanner(clock=clock, ble=ble, hub=hub)
    config = WearableConfig(id="bench-strap", profile="heart_rate", address=ADDRESS, max_notify_hz=2000)
    link = WearableLink(config, PROFILES["heart_rate"], hub, scanner, clock=clock, ble=ble)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sent.json"
        proc = await asyncio.create_subprocess_exec(
            *[sys.executable, __file__, "--child", bus, "--rate", str(rate), "--count", str(count), "--out", str(out)],
            env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus},
        )
        await asyncio.sleep(0.5)  # let the emulator own org.bluez before bleak's first call
        tasks = [asyncio.create_task(scanner.run()), asyncio.create_task(link.run())]
        await proc.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        sent: dict[str, int] = json.loads(await asyncio.to_thread(out.read_text))
    latencies = [(received[int(k)] - v) / 1e6 for k, v in sent.items() if int(k) in received]
    lost = len(sent) - len(latencies)
    print(f"emulator in a separate process; {len(sent)} notifications at {rate:g}/s; lost {lost}")
    print(
        f"notification -> hub latency: p50 {percentile(latencies, 0.5):.2f} ms, p99 {percentile(latencies, 0.99):.2f} ms, "
        f"max {max(latencies):.2f} ms"
    )
    if len(cpu_marks) == 2 and len(received) > 1:
        per = (cpu_marks[1] - cpu_marks[0]) / (len(received) - 1)
        print(f"CPU in the roomctl process (bleak + decode + hub): {per * 1e6:.0f} µs per notification")


def handler_cost(n: int = 20000) -> None:
    """roomctl's own share: one link's notification handler (decode, readings into a Hub, state check), no bleak."""
    from roomctl.clock import SystemClock
    from roomctl.config.wearables import BleConfig, WearableConfig
    from roomctl.hub import Hub
    from roomctl.sensors.link import WearableLink
    from roomctl.sensors.profiles import PROFILES
    from roomctl.sensors.scanner import SharedScanner

    async def run() -> None:
        clock, ble = SystemClock(), BleConfig()
        config = WearableConfig(id="bench-strap", profile="heart_rate", address=ADDRESS, max_notify_hz=2000)
        link = WearableLink(
            config, PROFILES["heart_rate"], Hub(), SharedScanner(clock=clock, ble=ble), clock=clock, ble=ble
        )
        from roomctl.sensors.vendors import stream_decoder_for

        link._decoders = {HRM: stream_decoder_for("heart_rate")}  # what a session sets up (bench-only shortcut)
        handler = link._handler(HRM)
        data = bytearray(sig_heart_rate.encode_heart_rate(72, [0.833], contact=True, energy_kj=5))
        start = cpu_seconds()
        for _ in range(n):
            handler(None, data)
        per = (cpu_seconds() - start) / n
        print(f"of which roomctl's handler (decode + 3 hub events + state check): {per * 1e6:.1f} µs per notification")

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0, help="notifications per second (default 200)")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--child", metavar="BUS", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sent = asyncio.run(child(args.child, args.rate, args.count))
        args.out.write_text(json.dumps(sent))
        return
    from roomctl.emulator import PrivateBus

    with PrivateBus() as bus:
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
        asyncio.run(measure(bus.address, args.rate, args.count))
    handler_cost()


if __name__ == "__main__":
    main()

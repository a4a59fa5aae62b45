"""``python -m roomctl.emulator``: emulated wearables on a private D-Bus until Ctrl-C.

Prints ``DBUS_SYSTEM_BUS_ADDRESS=...`` first, so another shell (``roomctl scan --bus ...``) or a script can use it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from roomctl.emulator.devices import CATALOGUE, DEMO_PROFILES, make_devices
from roomctl.emulator.runner import Emulator
from roomctl.emulator.scenario import demo_scenario


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    profiles = [p for p, _, _ in CATALOGUE]
    parser = argparse.ArgumentParser(prog="python -m roomctl.emulator", description=__doc__)
    parser.add_argument("--speed", type=float, default=60.0, help="scenario time per real second (default 60)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--devices",
        default="demo",
        help=f"'demo' ({', '.join(DEMO_PROFILES)}), 'all', or a comma list of: {', '.join(profiles)}",
    )
    parser.add_argument("--bus", metavar="ADDRESS", help="use this bus instead of starting a private one")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    args = parser.parse_args(argv)
    if args.devices == "demo":
        args.profiles = DEMO_PROFILES
    elif args.devices == "all":
        args.profiles = profiles
    else:
        args.profiles = [p.strip() for p in args.devices.split(",") if p.strip()]
        unknown = set(args.profiles) - set(profiles)
        if unknown:
            parser.error(f"unknown device profile(s): {', '.join(sorted(unknown))}")
    return args


async def run(args: argparse.Namespace) -> None:
    scenario = demo_scenario(speed=args.speed, seed=args.seed)
    async with Emulator(make_devices(scenario, args.profiles), scenario, bus_address=args.bus) as emu:
        print(f"DBUS_SYSTEM_BUS_ADDRESS={emu.bus_address}", flush=True)
        for device in (emu.device(a) for p, a, _ in CATALOGUE if p in args.profiles):
            print(f"  {device.address}  {device.profile:<15} {device.name}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.duration):
                await stop.wait()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        asyncio.run(run(args))
    except Exception as e:  # a clear line, never a traceback
        print(f"emulator: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``roomctl loadgen --rooms N --broker HOST[:PORT]``: simulated rooms publishing the real contract, to size a facility."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from roomctl.cli.demo_cmd import _broker, _positive


def _rooms(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 5000:
        raise argparse.ArgumentTypeError("must be between 1 and 5000")
    return value


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "loadgen",
        help="simulate many rooms publishing to a broker (to size a facility's broker and nursing station)",
        description="Each simulated room publishes what a room daemon publishes, through roomctl's own MQTT publisher: "
        "vitals at about 1 Hz per wearable (5 messages/s per room), device states, session and events, "
        "occasional alarms (raised, escalated, cleared) and rooms losing their network and coming back.",
    )
    parser.add_argument("--rooms", type=_rooms, required=True, help="how many rooms")
    parser.add_argument("--broker", type=_broker, default=("localhost", 1883), metavar="HOST[:PORT]")
    parser.add_argument("--site", default="loadgen", help="site id in the topics (default loadgen)")
    parser.add_argument("--duration", type=_positive, metavar="SECONDS", help="stop after this long")
    parser.add_argument("--seed", type=int, default=1, help="random seed (the same seed, the same facility)")
    parser.add_argument("--alarm-every", type=_positive, default=600.0, metavar="S", help="mean s between alarms/room")
    parser.add_argument(
        "--offline-every", type=_positive, default=1800.0, metavar="S", help="mean s between network cuts/room"
    )
    parser.add_argument("--no-offline", action="store_true", help="rooms never lose their network")
    parser.add_argument("--alarm-log", type=Path, help="append 'alarm-id priority unix-time' per raised alarm")
    parser.set_defaults(handler=loadgen_command)


def loadgen_command(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import logging
    import math

    from roomctl.config.mqtt import MqttConfig
    from roomctl.config.room import RoomSection
    from roomctl.errors import RoomctlError
    from roomctl.loadgen.room import Rates
    from roomctl.loadgen.runner import LoadGen, LoadOptions

    try:
        RoomSection(site=args.site, room="x")
    except ValueError:
        raise RoomctlError(f"--site {args.site!r}: use lower-case letters, digits, '-' and '_'") from None
    logging.getLogger("roomctl.mqtt").setLevel(logging.ERROR)  # hundreds of rooms: only the summary lines
    host, port = args.broker
    options = LoadOptions(
        rooms=args.rooms,
        mqtt=MqttConfig(enabled=True, host=host, port=port),
        site=args.site,
        duration_s=args.duration,
        seed=args.seed,
        rates=Rates(
            alarm_every_s=args.alarm_every, offline_every_s=math.inf if args.no_offline else args.offline_every
        ),
        alarm_log=args.alarm_log,
    )
    gen = LoadGen(options)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: stop, and still say what was published
        asyncio.run(gen.run())
    print(
        f"loadgen: {args.rooms} rooms: the broker acknowledged {gen.published} records, "
        f"{sum(r.alarms_raised for r in gen.rooms)} alarms raised, "
        f"{sum(r.offline_periods for r in gen.rooms)} network cuts"
    )
    return 0

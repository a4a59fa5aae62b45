"""``roomctl demo``: the whole room on this machine — emulated wearables, the real daemon, mock GPIO, the screen."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _broker(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "1883")
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: the port must be a number, as in localhost:1883") from None
    if not host or not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST or HOST:PORT")
    return host, number


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="run the whole system with emulated wearables and mock lights (needs dbus-daemon)",
        description="The real daemon with wearables emulated on a private D-Bus, mock GPIO, state in a temporary "
        "folder, and the therapists' screen. Quit with q (or Ctrl+C).",
    )
    parser.add_argument("--headless", action="store_true", help="no screen; daemon logs on stdout")
    parser.add_argument("--duration", type=_positive, metavar="SECONDS", help="stop after this long (exit 0)")
    parser.add_argument("--mqtt", type=_broker, metavar="HOST[:PORT]", help="also publish to this MQTT broker")
    parser.add_argument("--state-dir", type=Path, metavar="DIR", help="keep state here (default: a temporary folder)")
    parser.add_argument(
        "--speed", type=_positive, metavar="F", help="play the session's physiology F times faster (default 60)"
    )
    parser.add_argument(
        "--sound", action="store_true", help="let alarms sound on this machine's audio (default: silent)"
    )
    parser.add_argument(
        "--ha-discovery",
        action="store_true",
        help="announce the room to Home Assistant by MQTT discovery (with --mqtt; docs/mqtt.md, Home Assistant)",
    )
    parser.add_argument(
        "--no-music", action="store_true", help="no music (default: a private MPD plays generated tones, silently)"
    )
    parser.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    import asyncio

    from roomctl.demo.launcher import Demo, DemoOptions

    if args.ha_discovery and args.mqtt is None:
        print("roomctl demo: --ha-discovery needs --mqtt HOST[:PORT], the broker Home Assistant reads", file=sys.stderr)
        return 2
    options = DemoOptions(
        headless=args.headless,
        duration_s=args.duration,
        mqtt=args.mqtt,
        state_dir=args.state_dir,
        speed=args.speed,
        verbose=args.verbose,
        sound=args.sound,
        music=not args.no_music,
        ha_discovery=args.ha_discovery,
    )
    return asyncio.run(Demo(options).run())

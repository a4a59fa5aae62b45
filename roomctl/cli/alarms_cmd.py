"""``roomctl alarms test-sound``: for installers, play each priority's alarm burst on the room's configured outputs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from roomctl.cli.run_cmd import DEFAULT_CONFIG
from roomctl.errors import RoomctlError

PRIORITIES = ("high", "medium", "low")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("alarms", help="alarm tools for installers")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    test = actions.add_parser(
        "test-sound",
        help="play the alarm bursts on the configured sound outputs",
        description="Plays the start-up tone, then the high, medium and low priority bursts (or only --priority) on every "
        "output of [alarms.sound], at the configured volume (or --volume). Exit status 1 when an output fails.",
    )
    test.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help=f"room configuration (default {DEFAULT_CONFIG})"
    )
    test.add_argument("--priority", choices=PRIORITIES, help="play only this priority's burst")
    test.add_argument("--volume", type=_volume, metavar="V", help="0.1-1.0 (default: the configured volume)")
    test.add_argument(
        "--mock", action="store_true", help="the configured buzzer on simulated GPIO pins (no Raspberry Pi needed)"
    )
    test.set_defaults(handler=test_sound_command)


def _volume(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.1 <= value <= 1.0:
        raise argparse.ArgumentTypeError("the volume is between 0.1 and 1.0")
    return value


def test_sound_command(args: argparse.Namespace) -> int:
    import asyncio

    from roomctl.clock import SystemClock
    from roomctl.config import load_config
    from roomctl.models import Priority
    from roomctl.sound import BURSTS, SELF_TEST, SoundError
    from roomctl.sound.annunciator import build_outputs

    config = load_config(args.config)  # ConfigError -> exit 2 with one line per problem (cli.main)
    sound = config.alarms.sound
    if not sound.outputs:
        print("roomctl: no alarm sound output is configured ([alarms.sound] outputs = [])")
        return 1
    if args.mock and "buzzer" not in sound.outputs:
        raise RoomctlError(
            f"--mock simulates the buzzer's GPIO pin, and {args.config} configures no buzzer ([alarms.sound] outputs = "
            f'{sound.outputs}): leave --mock out to play on ALSA device {sound.alsa_device!r}, or add "buzzer" and '
            "buzzer_pin to the outputs"
        )
    pins = None
    if "buzzer" in sound.outputs:
        from roomctl.lighting.outputs import make_pin_factory

        pins = make_pin_factory("mock" if args.mock else config.lighting.pin_factory)
    clock = SystemClock()
    outputs = build_outputs(sound, clock=clock, pin_factory=pins)
    volume = args.volume if args.volume is not None else sound.volume
    bursts = [SELF_TEST] + [BURSTS[Priority(p)] for p in PRIORITIES if args.priority in (None, p)]

    async def play_all() -> int:
        failed = 0
        for burst in bursts:
            for output in outputs:
                try:
                    await output.play(burst, volume)
                except SoundError as e:
                    print(f"FAILED {burst.name} on {output.name}: {e}")
                    failed += 1
                    if output.name.startswith("ALSA"):
                        print(
                            "  (is there a sound card? `aplay -l` lists them; set [alarms.sound] alsa_device, e.g. "
                            '"plughw:1,0"; run this as the daemon\'s user: runuser -u roomctl -- roomctl alarms test-sound)'
                        )
                else:
                    print(f"played {burst.name} ({len(burst.pulses)} pulse(s), {burst.f0:g} Hz) on {output.name}")
        return failed

    try:
        failed = asyncio.run(play_all())
    finally:
        for output in outputs:
            output.close()
    return 1 if failed else 0

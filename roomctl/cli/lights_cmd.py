"""``roomctl lights``: list, set, scene, test — for installing and testing the lights with the daemon stopped.

It drives the pins itself. With software PWM (lgpio, pigpio, RPi.GPIO) the light holds only while this program runs,
so ``set`` and ``scene`` hold until Ctrl-C (or ``--hold SECONDS``). While ``roomctl run`` is active, use the TUI instead.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roomctl.errors import RoomctlError

if TYPE_CHECKING:
    from roomctl.config.lighting import LightingConfig
    from roomctl.lighting.fader import ChannelFader
    from roomctl.lighting.outputs import ChannelOutput

DEFAULT_CONFIG = Path("/etc/roomctl/room.toml")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "lights",
        help="list, set and test the room's lights (installation and testing; stop the daemon first)",
        description="Drive the light channels directly: for installation and testing, with `roomctl run` stopped.",
    )
    # --config and --mock go before or after the action (`lights --mock test` = `lights test --mock`): the action's
    # copies leave the value alone when not given (SUPPRESS), so neither place overrides the other.
    common = argparse.ArgumentParser(add_help=False)
    for p, default in ((parser, None), (common, argparse.SUPPRESS)):
        p.add_argument("--config", type=Path, default=default, help=f"room configuration (default {DEFAULT_CONFIG})")
        p.add_argument(
            "--mock",
            action="store_true",
            default=default if default is argparse.SUPPRESS else False,
            help="simulated pins (gpiozero MockPWMPin): try it without a Pi",
        )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", parents=[common], help="channels, pins, PWM frequency and scenes").set_defaults(
        handler=list_command
    )
    set_ = actions.add_parser("set", parents=[common], help="fade one channel (or 'all') to a level")
    set_.add_argument("channel", help="channel id, or 'all'")
    set_.add_argument("level", help="0.0-1.0 or a percentage (50%%); per pin for groups: 0.6,0.2")
    scene = actions.add_parser("scene", parents=[common], help="fade to a scene")
    scene.add_argument("name")
    for p in (set_, scene):
        p.add_argument("--fade", type=float, default=None, metavar="S", help="fade time (default: default_fade_s)")
        p.add_argument("--hold", type=float, default=None, metavar="S", help="hold this long (default: until Ctrl-C)")
    set_.set_defaults(handler=set_command)
    scene.set_defaults(handler=scene_command)
    test = actions.add_parser("test", parents=[common], help="fade each pin of each channel up and down in turn")
    test.add_argument("--step", type=float, default=1.0, metavar="S", help="fade time up and down per pin (default 1)")
    test.set_defaults(handler=test_command)


def _config(args: argparse.Namespace) -> LightingConfig:
    from roomctl.config import demo_config_text, load_config, parse_config

    path: Path | None = args.config
    if path is None and args.mock and not DEFAULT_CONFIG.exists():
        print("no --config given: using the demo room's lights")
        return parse_config(demo_config_text(), "demo").lighting
    if path is None and not DEFAULT_CONFIG.exists():
        raise RoomctlError(
            f"there is no room configuration at {DEFAULT_CONFIG}: give --config FILE, or add --mock to try the demo "
            "room's lights on simulated pins"
        )
    config = load_config(path or DEFAULT_CONFIG).lighting
    if not config.channels:
        raise RoomctlError(f"{path or DEFAULT_CONFIG} configures no light channels ([[lighting.channels]])")
    return config


def _open(args: argparse.Namespace, config: LightingConfig) -> dict[str, ChannelOutput]:
    from roomctl.lighting.outputs import ChannelOutput, make_pin_factory

    name = "mock" if args.mock else config.pin_factory
    if name not in ("mock", "hardware") and not glob.glob("/dev/gpiochip*"):
        raise RoomctlError(
            "this machine has no GPIO (no /dev/gpiochip*): run this on the room's Raspberry Pi, or add --mock to try it"
        )
    factory = make_pin_factory(name, board=config.hardware_board, chip=config.hardware_pwm_chip)
    outputs: dict[str, ChannelOutput] = {}
    for ch in config.channels:
        outputs[ch.id] = ChannelOutput(ch, factory)
    return outputs


def _show(outputs: dict[str, ChannelOutput]) -> None:
    from roomctl.lighting.perceptual import level_to_duty

    for out in outputs.values():
        for key, pin, level in zip(out.keys, out.config.pins, out.levels, strict=True):
            print(f"  {key:<16} GPIO{pin:<3} level {level:5.3f}  duty {level_to_duty(level):7.4f}")


async def _fade(
    outputs: dict[str, ChannelOutput], config: LightingConfig, targets: dict[str, tuple[float, ...]], fade_s: float
) -> None:
    from roomctl.clock import SystemClock
    from roomctl.lighting.fader import ChannelFader

    clock = SystemClock()
    faders: list[ChannelFader] = [ChannelFader(outputs[cid], clock, config.fade_rate_hz) for cid in targets]
    tasks = [t for f, levels in zip(faders, targets.values(), strict=True) if (t := f.fade_to(levels, fade_s))]
    if tasks:
        await asyncio.gather(*tasks)


async def _hold(args: argparse.Namespace) -> None:
    hold = args.hold if args.hold is not None else (0.0 if args.mock else None)
    if hold is None:
        print("holding; Ctrl-C to stop (the light goes off when this program ends)")
        await asyncio.Event().wait()
    elif hold > 0:
        await asyncio.sleep(hold)


def list_command(args: argparse.Namespace) -> int:
    from roomctl.config.lighting import FACTORY_TRAITS
    from roomctl.lighting.outputs import output_keys

    config = _config(args)
    traits = FACTORY_TRAITS["mock" if args.mock else config.pin_factory]
    print(f"pin factory: {'mock' if args.mock else config.pin_factory} ({traits.timing}; duty {traits.duty_steps})")
    for ch in config.channels:
        outs = ", ".join(f"{k}=GPIO{p}" for k, p in zip(output_keys(ch), ch.pins, strict=True))
        print(f"channel {ch.id}: {ch.kind}, {ch.pwm_frequency_hz} Hz, {outs}" + (f" ({ch.label})" if ch.label else ""))
    for name, levels in config.scenes.items():
        roles = [r for r, scene in (("break", config.break_scene), ("alarm", config.alarm_scene)) if scene == name]
        print(f"scene {name}: {levels}" + (f" [{', '.join(roles)} scene]" if roles else ""))
    print(f"safe level: {config.safe_level}")
    return 0


def _parse_levels(text: str, pins: int) -> tuple[float, ...]:
    values = []
    for part in text.split(","):
        part = part.strip()
        try:
            value = float(part[:-1]) / 100 if part.endswith("%") else float(part)
        except ValueError:
            raise RoomctlError(f"'{part}' is not a level: use 0.0-1.0 or a percentage such as 50%") from None
        if not 0.0 <= value <= 1.0:
            raise RoomctlError(f"level {part} is outside 0.0-1.0 (0 %-100 %)")
        values.append(value)
    if len(values) == 1:
        return (values[0],) * pins
    if len(values) != pins:
        raise RoomctlError(f"give one level, or one per pin ({pins})")
    return tuple(values)


def set_command(args: argparse.Namespace) -> int:
    config = _config(args)
    ids = [ch.id for ch in config.channels]
    if args.channel != "all" and args.channel not in ids:
        raise RoomctlError(f"there is no light channel '{args.channel}' (channels: {', '.join(ids)})")
    chosen = [ch for ch in config.channels if args.channel in ("all", ch.id)]
    targets = {ch.id: _parse_levels(args.level, len(ch.pins)) for ch in chosen}
    return _run(args, config, targets)


def scene_command(args: argparse.Namespace) -> int:
    from roomctl.lighting.looks import scene_look

    config = _config(args)
    if args.name not in config.scenes:
        raise RoomctlError(f"there is no light scene '{args.name}' (scenes: {', '.join(config.scenes) or 'none'})")
    return _run(args, config, scene_look(config, args.name, "manual").targets)


def _run(args: argparse.Namespace, config: LightingConfig, targets: dict[str, tuple[float, ...]]) -> int:
    outputs = _open(args, config)
    fade_s = config.default_fade_s if args.fade is None else args.fade

    async def go() -> None:
        await _fade(outputs, config, targets, fade_s)
        _show(outputs)
        await _hold(args)

    asyncio.run(go())
    return 0


def test_command(args: argparse.Namespace) -> int:
    config = _config(args)
    outputs = _open(args, config)

    async def go() -> None:
        for out in outputs.values():
            for i, (key, pin) in enumerate(zip(out.keys, out.config.pins, strict=True)):
                print(f"{key} (GPIO{pin}, {out.config.pwm_frequency_hz} Hz): up ... ", end="", flush=True)
                up = tuple(1.0 if j == i else 0.0 for j in range(len(out.config.pins)))
                await _fade(outputs, config, {out.id: up}, args.step)
                print("down ... ", end="", flush=True)
                await _fade(outputs, config, {out.id: (0.0,) * len(up)}, args.step)
                print("done")

    asyncio.run(go())
    print("test sequence finished: every pin faded up to full and back to off")
    return 0

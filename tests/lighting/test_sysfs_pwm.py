"""roomctl's hardware PWM factory against a sysfs tree laid out as the kernel does (pwmchipN/export, pwmM/period ...)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from gpiozero import PWMOutputDevice

from roomctl.clock import FakeClock
from roomctl.commands import SetScene
from roomctl.config.lighting import ChannelConfig
from roomctl.errors import RoomctlError
from roomctl.hub import Hub
from roomctl.lighting.controller import LightingController
from roomctl.lighting.outputs import ChannelOutput
from roomctl.lighting.perceptual import level_to_duty
from roomctl.lighting.sysfs_pwm import SysfsPWMFactory
from tests.lighting.conftest import lighting_config


def sysfs(root: Path, chip: int, channels: range) -> Path:
    """The tree the kernel shows once channels are exported (a plain folder cannot create pwmN on export)."""
    chip_dir = root / f"pwmchip{chip}"
    chip_dir.mkdir(parents=True)
    for name in ("export", "unexport"):
        (chip_dir / name).write_text("")
    for ch in channels:
        pwm = chip_dir / f"pwm{ch}"
        pwm.mkdir()
        for name in ("period", "duty_cycle", "enable"):
            (pwm / name).write_text("0\n")
    return chip_dir


def read(chip_dir: Path, channel: int, name: str) -> int:
    return int((chip_dir / f"pwm{channel}" / name).read_text())


def test_a_pwm_device_sets_period_duty_and_enable_in_nanoseconds(tmp_path: Path) -> None:
    chip = sysfs(tmp_path, 0, range(2))
    factory = SysfsPWMFactory(board="pi4", root=tmp_path)
    device = PWMOutputDevice(19, frequency=3000, pin_factory=factory)
    assert (read(chip, 1, "period"), read(chip, 1, "enable")) == (333_333, 1)
    device.value = 0.25
    assert read(chip, 1, "duty_cycle") == 83_333
    device.close()
    assert read(chip, 1, "enable") == 0
    assert (chip / "unexport").read_text() == "1\n"


def test_pi5_has_four_channels_on_pwmchip2(tmp_path: Path) -> None:
    chip = sysfs(tmp_path, 2, range(4))
    factory = SysfsPWMFactory(board="pi5", root=tmp_path)
    device = PWMOutputDevice(18, frequency=10_000, pin_factory=factory)
    device.value = 1.0
    assert (read(chip, 2, "period"), read(chip, 2, "duty_cycle")) == (100_000, 100_000)
    device.close()


def test_a_pin_without_hardware_pwm_is_refused_clearly(tmp_path: Path) -> None:
    sysfs(tmp_path, 0, range(2))
    factory = SysfsPWMFactory(board="pi4", root=tmp_path)
    with pytest.raises(RoomctlError, match="GPIO5 has no hardware PWM"):
        ChannelOutput(ChannelConfig(id="lamp", pins=[5]), factory)


def test_hardware_pwm_not_enabled_says_what_to_do(tmp_path: Path) -> None:
    factory = SysfsPWMFactory(board="pi4", root=tmp_path)
    with pytest.raises(RoomctlError, match="dtoverlay=pwm-2chan"):
        ChannelOutput(ChannelConfig(id="lamp", pins=[18]), factory)


def test_export_is_requested_and_a_channel_that_never_appears_is_explained(tmp_path: Path) -> None:
    chip = sysfs(tmp_path, 0, range(0))  # the chip exists, its channels are not exported yet
    factory = SysfsPWMFactory(board="pi4", root=tmp_path, export_wait_s=0.05)
    with pytest.raises(RoomctlError, match=r"channel 1 of .*pwmchip0 did not become usable after export"):
        ChannelOutput(ChannelConfig(id="lamp", pins=[13]), factory)
    assert (chip / "export").read_text() == "1\n"


async def test_controller_fades_on_hardware_pwm_and_keeps_the_safe_level(
    tmp_path: Path, hub: Hub, clock: FakeClock
) -> None:
    chip = sysfs(tmp_path, 0, range(2))
    config = lighting_config(
        pin_factory="hardware",
        channels=[{"id": "ceiling", "kind": "warm_cool", "pins": [12, 13]}],
        scenes={"calm": {"ceiling": [0.5, 0.1]}},
        break_scene=None,
        alarm_scene=None,
    )
    controller = LightingController(config, hub, pin_factory=SysfsPWMFactory(board="pi4", root=tmp_path), clock=clock)
    async with controller:
        assert (await controller.handle(SetScene(scene="calm", fade_s=1.0))).ok
        await clock.run_for(1.01, step=0.5 / config.fade_rate_hz)
        period = read(chip, 0, "period")
        assert period == 333_333
        assert read(chip, 0, "duty_cycle") == round(level_to_duty(0.5) * period)
        assert read(chip, 1, "duty_cycle") == round(level_to_duty(0.1) * period)
    # stopped: the safe level stays on the hardware, which keeps running after the process ends
    assert read(chip, 0, "duty_cycle") == round(level_to_duty(0.35) * period)
    assert read(chip, 1, "enable") == 1
    assert controller.current is not None


def test_the_hardware_factory_reports_nanosecond_duty_steps(tmp_path: Path) -> None:
    sysfs(tmp_path, 0, range(2))
    out = ChannelOutput(ChannelConfig(id="lamp", pins=[18], pwm_frequency_hz=3000), SysfsPWMFactory(root=tmp_path))
    assert out.duty_steps == 333_333
    out.close()


async def test_start_waits_for_the_kernel_off_the_event_loop(tmp_path: Path, hub: Hub, clock: FakeClock) -> None:
    """udev grants access to an exported channel a moment later: the loop keeps running (here: it is what grants it)."""
    chip = sysfs(tmp_path, 0, range(0))  # the channels appear only once exported
    config = lighting_config(
        pin_factory="hardware",
        channels=[{"id": "lamp", "pins": [18]}],
        scenes={"calm": {"lamp": 0.5}},
        break_scene=None,
        alarm_scene=None,
    )
    factory = SysfsPWMFactory(board="pi4", root=tmp_path, export_wait_s=60.0)
    exported = asyncio.Event()

    async def kernel() -> None:
        await asyncio.sleep(0.3)  # udev's moment; this runs only if the export's wait leaves the loop free
        sysfs_channel = chip / "pwm0"
        sysfs_channel.mkdir()
        for name in ("period", "duty_cycle", "enable"):
            (sysfs_channel / name).write_text("0\n")
        exported.set()

    grant = asyncio.create_task(kernel())
    controller = LightingController(config, hub, pin_factory=factory, clock=clock)
    async with asyncio.timeout(30), controller:
        assert exported.is_set()
        assert read(chip, 0, "enable") == 1
    await grant

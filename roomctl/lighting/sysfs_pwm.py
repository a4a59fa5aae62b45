"""A gpiozero pin factory for the SoC's own hardware PWM, through the kernel's ``/sys/class/pwm``.

gpiozero's factories only do software- or DMA-timed PWM. Hardware PWM is jitter-free, needs no CPU, has a duty set in
nanoseconds (far finer than 1 %), and keeps running after the process exits, so the safe level holds across a restart.
It exists on four pins only: GPIO12/13/18/19. On a Pi <= 4 they form two channels (GPIO12 and 18 share channel 0,
GPIO13 and 19 channel 1); a Pi 5 has four channels. The pins must be routed to PWM in config.txt (docs/lighting.md).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from gpiozero import PinInvalidFunction, PinPWMUnsupported
from gpiozero.pins.pi import PiFactory, PiPin

from roomctl.config.lighting import HARDWARE_PWM_CHANNELS, HardwareBoard

EXPORT_WAIT_S = 1.0  # the kernel creates pwmN at once; udev may take a moment to grant the gpio group access
_PI4B_REVISION = 0xC03111  # board info only: the 40-pin header and its GPIO names are the same on Pi 3, 4 and 5


class SysfsPWMFactory(PiFactory):  # type: ignore[misc]  # gpiozero is untyped
    def __init__(
        self,
        *,
        board: HardwareBoard = "pi4",
        chip: int | None = None,
        root: Path = Path("/sys/class/pwm"),
        export_wait_s: float = EXPORT_WAIT_S,
    ) -> None:
        super().__init__()
        self.export_wait_s = export_wait_s
        self.pin_class = SysfsPWMPin
        self.channels = HARDWARE_PWM_CHANNELS[board]
        self.chip_dir = root / f"pwmchip{chip if chip is not None else (2 if board == 'pi5' else 0)}"

    def duty_steps_at(self, frequency_hz: int) -> int:
        """Distinct duty steps at ``frequency_hz``: the duty is set in nanoseconds of the period."""
        return round(1e9 / frequency_hz)

    def _get_revision(self) -> int:
        return _PI4B_REVISION

    def ticks(self) -> float:
        return time.monotonic()

    def ticks_diff(self, later: float, earlier: float) -> float:
        return later - earlier


class SysfsPWMPin(PiPin):  # type: ignore[misc]
    def __init__(self, factory: SysfsPWMFactory, info: Any) -> None:
        super().__init__(factory, info)
        gpio = int(info.name.removeprefix("GPIO"))  # info.number is the header position
        channel = factory.channels.get(gpio)
        if channel is None:
            raise PinPWMUnsupported(f"GPIO{gpio} has no hardware PWM (use GPIO12, 13, 18 or 19)")
        self._chip = factory.chip_dir
        self._export_wait_s = factory.export_wait_s
        self._channel = channel
        self._dir = self._chip / f"pwm{channel}"
        self._function = "input"
        self._period_ns = 0
        self._duty = 0.0

    def close(self) -> None:
        self.frequency = None
        if self._dir.exists():
            self._write(self._chip / "unexport", self._channel)

    def _write(self, path: Path, value: int) -> None:
        with open(path, "w") as f:
            f.write(f"{value}\n")

    def _export(self) -> None:
        if not self._dir.exists():
            if not self._chip.exists():
                raise PinPWMUnsupported(
                    f"{self._chip} does not exist: hardware PWM is not enabled (dtoverlay=pwm-2chan in config.txt)"
                )
            self._write(self._chip / "export", self._channel)
        deadline = time.monotonic() + self._export_wait_s
        while True:
            try:
                self._write(self._dir / "duty_cycle", 0)
                return
            except OSError as e:
                if time.monotonic() > deadline:
                    raise PinPWMUnsupported(
                        f"hardware PWM channel {self._channel} of {self._chip} did not become usable after export "
                        f"({e.strerror}): check the pwm-2chan overlay and that this user may write {self._dir}"
                    ) from e
                time.sleep(0.01)

    def _get_function(self) -> str:
        return self._function

    def _set_function(self, value: str) -> None:
        if value not in ("input", "output"):
            raise PinInvalidFunction(f"invalid function '{value}' for hardware PWM pin {self.info.name}")
        if value == "input":
            self.frequency = None
        self._function = value

    def _get_state(self) -> float:
        return self._duty

    def _set_state(self, value: float) -> None:
        self._duty = float(value)
        if self._period_ns:
            self._write(self._dir / "duty_cycle", round(self._duty * self._period_ns))

    def _get_frequency(self) -> float | None:
        return 1e9 / self._period_ns if self._period_ns else None

    def _set_frequency(self, value: float | None) -> None:
        if value is None or value <= 0:
            if self._period_ns:
                self._write(self._dir / "enable", 0)
            self._period_ns = 0
            self._duty = 0.0
            return
        if not self._period_ns:
            self._export()
        self._write(self._dir / "duty_cycle", 0)  # the kernel refuses a period shorter than the duty
        self._period_ns = round(1e9 / value)
        self._write(self._dir / "period", self._period_ns)
        self._write(self._dir / "duty_cycle", round(self._duty * self._period_ns))
        self._write(self._dir / "enable", 1)

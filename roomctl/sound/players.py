"""Where bursts sound: the Pi's audio through ALSA (``aplay``), and a buzzer or small speaker on a GPIO pin (gpiozero).

Why ``aplay`` and not a Python binding: alsa-utils is on every Raspberry Pi OS image and in Debian, needs no compiler or
development headers (pyalsaaudio does) and no PortAudio (sounddevice does); playing is a short child process per burst,
so the event loop never blocks and a failure arrives as an exit status and a message in ALSA's words; and it is still the
real ALSA library doing the work, so any ALSA device (jack, HDMI, USB speaker, a test's ``file`` PCM) is one name away.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Mapping
from typing import Any, Protocol

from roomctl.clock import Clock
from roomctl.errors import RoomctlError
from roomctl.sound.bursts import Burst
from roomctl.sound.synth import wav_bytes

_ALSA_PREFIX = re.compile(r"^(ALSA lib \S+ |aplay: \S+ )")
"""Where in ALSA or aplay a message came from (``ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) ``): not for the screen."""

BUZZER_MAX_DUTY = 0.5
"""A piezo is loudest at 50 % duty; volume scales the duty below that."""


class SoundError(RoomctlError):
    """An alarm sound output is missing or failed; the message says which and why, in words."""


class SoundOutput(Protocol):
    name: str

    async def play(self, burst: Burst, volume: float) -> None:
        """Play one burst and return when it has been played; raise :class:`SoundError` if it cannot be."""
        ...

    def close(self) -> None: ...


class AplayOutput:
    """Bursts through ``aplay`` on one ALSA device (``default``, ``hw:0``, ``plughw:1,0``, a name from asound.conf)."""

    def __init__(
        self, device: str = "default", *, aplay: str = "aplay", environ: Mapping[str, str] | None = None
    ) -> None:
        self.device = device
        self.name = f"ALSA device '{device}'"
        self._aplay = aplay
        self._env = dict(environ) if environ is not None else None

    async def play(self, burst: Burst, volume: float) -> None:
        data = wav_bytes(burst, round(volume, 2))
        try:
            proc = await asyncio.create_subprocess_exec(
                self._aplay,
                "-q",
                "-D",
                self.device,
                "-",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env=self._env if self._env is not None else os.environ.copy(),
            )
        except FileNotFoundError as e:
            raise SoundError(f"{self.name}: aplay is not installed (apt install alsa-utils)") from e
        try:
            async with asyncio.timeout(burst.duration_s + 10):
                _, err = await proc.communicate(data)
                await _stdin_closed(proc)
        except TimeoutError as e:
            await _kill(proc)
            raise SoundError(f"{self.name}: aplay did not finish playing (is the device blocked?)") from e
        except BaseException:  # cancelled: never leave a child process behind
            await _kill(proc)
            raise
        if proc.returncode != 0:
            lines = [_ALSA_PREFIX.sub("", ln).strip() for ln in err.decode(errors="replace").splitlines() if ln.strip()]
            why = "; ".join(ln.strip() for ln in lines[-2:]) if lines else f"aplay exited with status {proc.returncode}"
            raise SoundError(f"{self.name} cannot play: {why}")

    def close(self) -> None:
        pass


async def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    await proc.wait()
    await _stdin_closed(proc)


async def _stdin_closed(proc: asyncio.subprocess.Process) -> None:
    """Close aplay's stdin and take how it ended. An aplay that exits before reading the whole burst (a device it
    cannot open) breaks the pipe; Python 3.11.2 (Debian 12, Raspberry Pi OS) keeps that BrokenPipeError in a future only
    ``wait_closed`` awaits, and logs "Future exception was never retrieved" for it when nothing does (CPython #105616)."""
    stdin = proc.stdin
    assert stdin is not None  # started with stdin=PIPE
    stdin.close()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        await stdin.wait_closed()


class BuzzerOutput:
    """A passive buzzer (or small speaker through a transistor) on a GPIO pin, driven with PWM at the burst's f0.

    The duty cycle is the volume (at most 50 %). An active buzzer (fixed pitch) plays the timing only.
    """

    def __init__(self, pin: int, *, pin_factory: Any, clock: Clock) -> None:
        from gpiozero import GPIOZeroError, PWMOutputDevice

        self.name = f"buzzer on GPIO{pin}"
        self._clock = clock
        try:
            self._device = PWMOutputDevice(pin, frequency=440, initial_value=0, pin_factory=pin_factory)
        except (GPIOZeroError, OSError, ValueError) as e:
            raise SoundError(f"{self.name} cannot be driven: {e}") from e

    async def play(self, burst: Burst, volume: float) -> None:
        device = self._device
        duty = BUZZER_MAX_DUTY * min(1.0, max(0.0, volume))
        clock = self._clock
        start = clock.monotonic()
        try:
            device.frequency = burst.f0
            for at, length in burst.pulses:
                await clock.sleep(start + at - clock.monotonic())  # absolute deadlines: no drift across pulses
                device.value = duty
                await clock.sleep(start + at + length - clock.monotonic())
                device.value = 0
        except (OSError, ValueError) as e:
            raise SoundError(f"{self.name} failed: {e}") from e
        finally:
            with contextlib.suppress(Exception):
                device.value = 0

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._device.close()

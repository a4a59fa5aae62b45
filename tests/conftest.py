"""Root fixtures, layered under each package's own: a clock, a hub, a broker, the emulator, a terminal.

Each is the one definition of its kind; a package's conftest adds what only it needs on top (as Home Assistant's
tests do). Builders (``T0``, ``reading()``) are in :mod:`tests.builders`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from roomctl.clock import FakeClock
from roomctl.hub import Hub
from tests.builders import T0
from tests.mqtt.broker import Broker
from tests.terminal import Tmux

# The fuzz tests draw the same examples on every run of `make test` (a random rare example must not turn CI red by
# chance); `HYPOTHESIS_PROFILE=explore` draws new ones each run, to look for what the fixed ones miss.
settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture
def clock() -> FakeClock:
    """Time that moves only when the test says so, starting at :data:`tests.builders.T0`."""
    return FakeClock(T0)


@pytest.fixture
def hub() -> Hub:
    return Hub()


@pytest.fixture
def start_broker(tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    """Start a mosquitto on a free loopback port with the options the test needs; all are stopped afterwards."""
    brokers: list[Broker] = []

    def start(**options: Any) -> Broker:
        broker = Broker(tmp_path / f"broker{len(brokers)}", **options)
        brokers.append(broker)
        broker.start()
        return broker

    yield start
    for broker in brokers:
        broker.stop()


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder outside the test's private tmp_path that the user ``nobody`` can reach (root-owned, mode 0755)."""
    path = Path(tempfile.mkdtemp(prefix="roomctl-shared-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def broker(start_broker: Callable[..., Broker]) -> Broker:
    return start_broker()


@pytest.fixture
async def emulator() -> AsyncIterator[Any]:
    """The BlueZ emulator on a private D-Bus with the demo's wearables and scenario."""
    from roomctl.emulator.runner import Emulator
    from roomctl.emulator.scenario import demo_scenario

    async with Emulator(scenario=demo_scenario()) as emu:
        yield emu


@pytest.fixture
def tmux() -> Iterator[Callable[..., Tmux]]:
    """Open a command in a private tmux server (a real terminal); every one opened is killed afterwards."""
    opened: list[Tmux] = []

    def open_terminal(command: str, **options: Any) -> Tmux:
        terminal = Tmux(command, **options)
        opened.append(terminal)
        return terminal

    yield open_terminal
    for terminal in opened:
        terminal.close()

"""Nothing silently off: every long-running loop is supervised; the alarm engine raising or the storage writer dying is
a high-priority technical alarm on the screen. The alarm engine raising also stops the watchdog's pings (systemd then
restarts the daemon); the writer dying does not: the watchdog stands for monitoring, which goes on without a record.

A real Daemon (hub, engine, storage, lighting, API, supervisor, watchdog) on a temporary state folder, no wearables."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from roomctl.config import parse_config
from roomctl.daemon.app import Daemon
from roomctl.models import UNITS, Alarm, Priority, Quantity, Reading
from tests.daemon.helpers import MINIMAL_ROOM as CONFIG
from tests.daemon.helpers import NotifyListener


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Daemon, NotifyListener]]:
    notify = NotifyListener(tmp_path / "notify")
    environ = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "1000000"}  # a ping every 0.5 s while healthy
    daemon = Daemon(parse_config(CONFIG), state_dir=tmp_path, environ=environ)
    task = asyncio.create_task(daemon.run())
    try:
        await asyncio.wait_for(daemon.ready.wait(), 30)
        await notify.wait_for("WATCHDOG=1", count=2)
        yield daemon, notify
    finally:
        daemon.request_stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 30)
        notify.close()


async def shown(daemon: Daemon, condition: str) -> Alarm:
    def find() -> Alarm | None:
        return next((a for a in daemon.hub.state.alarms.values() if a.condition == condition), None)

    version = daemon.hub.version
    async with asyncio.timeout(30):
        while (alarm := find()) is None:
            version = await daemon.hub.wait_changed(version)
    return alarm


async def unhealthy(notify: NotifyListener, words: str) -> None:
    """The watchdog says why it stopped pinging (STATUS=unhealthy: ...), then pings no more."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(30):
        while not any(m.startswith("STATUS=unhealthy") and words in m for m in notify.messages):
            notify.messages.append((await loop.sock_recv(notify.sock, 4096)).decode())


def test_every_long_running_loop_is_supervised(tmp_path: Path) -> None:
    async def main() -> set[str]:
        daemon = Daemon(parse_config(CONFIG), state_dir=tmp_path)
        task = asyncio.create_task(daemon.run())
        await asyncio.wait_for(daemon.ready.wait(), 30)
        names = set(daemon.supervisor.services)
        daemon.request_stop()
        await asyncio.wait_for(task, 30)
        return names

    names = asyncio.run(main())
    assert {"alarm-tick", "storage-writer", "session", "lighting", "ble-scanner"} <= names


async def test_the_alarm_engine_raising_is_a_high_alarm_and_stops_the_watchdog(
    running: tuple[Daemon, NotifyListener], monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon, notify = running

    def broken(_reading: Reading) -> list[object]:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(daemon.alarms, "_on_reading", broken)
    clock = daemon.clock
    daemon.hub.publish(Reading(quantity=Quantity.SPO2, value=97, unit=UNITS[Quantity.SPO2], device="x", ts=clock.now()))
    alarm = await shown(daemon, "alarm_engine_failure")
    assert alarm.priority is Priority.HIGH
    assert "Alarm engine failure" in alarm.message
    await unhealthy(notify, "alarms unhealthy")
    pings = notify.count("WATCHDOG=1")
    await notify_quiet_for(notify, seconds=1.5)  # three ping periods
    assert notify.count("WATCHDOG=1") == pings
    monkeypatch.undo()


async def test_the_storage_writer_dying_is_a_high_alarm_and_the_watchdog_goes_on(
    running: tuple[Daemon, NotifyListener], monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon, notify = running

    def broken(*_args: object) -> None:
        raise RuntimeError("the writer's own bug")

    monkeypatch.setattr(daemon.writer.rows, "make", broken)
    clock = daemon.clock
    daemon.hub.publish(Reading(quantity=Quantity.SPO2, value=97, unit=UNITS[Quantity.SPO2], device="x", ts=clock.now()))
    alarm = await shown(daemon, "storage_failure")
    assert alarm.priority is Priority.HIGH
    assert "storage-writer loop failed" in alarm.message
    pings = notify.count("WATCHDOG=1")
    await notify.wait_for("WATCHDOG=1", count=pings + 3)  # still monitoring: pinged every 0.5 s
    assert not any(m.startswith("STATUS=unhealthy") for m in notify.messages)
    monkeypatch.undo()


async def notify_quiet_for(notify: NotifyListener, seconds: float) -> None:
    """Collect what arrives during ``seconds`` (a watchdog that is not pinging is measured over time)."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                notify.messages.append((await loop.sock_recv(notify.sock, 4096)).decode())


async def test_the_local_api_socket_deleted_stops_the_watchdog(running: tuple[Daemon, NotifyListener]) -> None:
    """No screen can connect to a daemon whose socket is gone: monitoring is not on any screen, so systemd restarts it
    (which makes the socket again)."""
    daemon, notify = running
    assert daemon.api is not None
    daemon.api.socket_path.unlink()
    await unhealthy(notify, "local API socket")
    pings = notify.count("WATCHDOG=1")
    await notify_quiet_for(notify, seconds=1.5)  # three ping periods
    assert notify.count("WATCHDOG=1") == pings

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from roomctl.clock import FakeClock
from roomctl.config import WearableConfig
from roomctl.daemon.health import WearableFreshness, service_health_problems
from roomctl.daemon.systemd import Notifier, Watchdog, watchdog_interval
from roomctl.hub import Hub
from roomctl.models import AlarmCategory, AlarmEvent, Priority, ServiceHealth
from tests.builders import alarm_event


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """A real datagram socket playing systemd's part, bound to a path."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield str(path), sock
    sock.close()


def received(sock: socket.socket) -> list[str]:
    """Every datagram waiting on the socket, decoded."""
    out = []
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(5)
    return out


def test_notify_sends_one_datagram_per_call(notify_socket: tuple[str, socket.socket]) -> None:
    address, sock = notify_socket
    n = Notifier({"NOTIFY_SOCKET": address})
    assert n.enabled
    assert n.ready("monitoring 2 wearables")
    assert sock.recv(4096).decode() == "READY=1\nSTATUS=monitoring 2 wearables"
    assert n.watchdog()
    assert sock.recv(4096).decode() == "WATCHDOG=1"
    assert n.stopping()
    assert sock.recv(4096).decode() == "STOPPING=1\nSTATUS=shutting down"
    assert n.sent == 3


def test_notify_to_an_abstract_socket() -> None:
    name = f"roomctl-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).status("hello")
        assert sock.recv(4096) == b"STATUS=hello"


def test_without_systemd_notify_does_nothing(tmp_path: Path) -> None:
    assert not Notifier({}).enabled
    assert not Notifier({}).ready()
    # a socket that vanished: a warning, never an exception
    assert not Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")}).watchdog()


def test_watchdog_interval_from_environment() -> None:
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}) == 30.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}) is None


async def test_watchdog_pings_every_half_interval_only_while_healthy(
    notify_socket: tuple[str, socket.socket], clock: FakeClock
) -> None:
    address, sock = notify_socket
    problems: list[str] = []
    wd = Watchdog(Notifier({"NOTIFY_SOCKET": address}), 10.0, {"test": lambda: list(problems)}, clock=clock)
    task = asyncio.create_task(wd.run())
    await clock.run_for(12, step=0.1)  # pings at 0, 5, 10
    assert received(sock) == ["WATCHDOG=1"] * 3
    problems.append("storage unhealthy: disk full")
    await clock.run_for(10, step=0.1)  # decisions at 15, 20: withheld, status says why (once)
    assert received(sock) == ["STATUS=unhealthy: storage unhealthy: disk full"]
    assert wd.withheld == 2
    problems.clear()
    await clock.run_for(5, step=0.1)
    assert received(sock) == ["STATUS=running", "WATCHDOG=1"]
    assert wd.pings == 4
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_watchdog_withholds_the_ping_after_the_loop_lagged(
    notify_socket: tuple[str, socket.socket], clock: FakeClock
) -> None:
    address, sock = notify_socket
    wd = Watchdog(Notifier({"NOTIFY_SOCKET": address}), 10.0, {}, clock=clock, max_loop_lag_s=1.0)
    task = asyncio.create_task(wd.run())
    await clock.run_for(1, step=0.1)
    assert received(sock) == ["WATCHDOG=1"]
    clock.advance(3.0)  # the loop was blocked for 3 s (nothing ran while time passed)
    await clock.run_for(2, step=0.1)
    assert wd.withheld == 1
    assert any("event loop lagged" in p for p in wd.last_problems)
    assert "WATCHDOG=1" not in received(sock)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_a_failing_check_counts_as_unhealthy(clock: FakeClock) -> None:
    def broken() -> list[str]:
        raise KeyError("x")

    wd = Watchdog(Notifier({}), 10.0, {"broken": broken}, clock=clock)
    assert wd.problems() == ["health check broken failed: 'x'"]


def _wearable(id_: str, lost: float = 12.0) -> WearableConfig:
    return WearableConfig(id=id_, profile="heart_rate", address="C0:FF:EE:00:00:01", stale_after_s=5, lost_after_s=lost)


def _alarm(device: str, ts: datetime) -> AlarmEvent:
    return alarm_event(
        alarm_id=f"device_disconnected:{device}", condition="device_disconnected", category=AlarmCategory.TECHNICAL,
        priority=Priority.MEDIUM, message="lost", ts=ts, device=device,
    )  # fmt: skip


@dataclass
class _Link:
    """What the watchdog asks a wearable's link (:class:`roomctl.daemon.health.DataSource`)."""

    id: str
    last_data_at: float | None = None


async def test_a_silent_wearable_is_a_problem_until_an_alarm_covers_it(clock: FakeClock, hub: Hub) -> None:
    fresh = WearableFreshness(hub, [_wearable("strap")], clock=clock, margin_s=5)
    link = _Link("strap")
    fresh.watch([link])
    clock.advance(16)
    assert fresh.problems() == []  # within lost_after_s + margin of start
    link.last_data_at = clock.monotonic()  # a notification with data
    clock.advance(16.5)
    assert fresh.problems() == []
    clock.advance(1)
    assert fresh.problems() == ["wearable strap silent for 18 s and no alarm raised for it"]
    hub.publish(_alarm("strap", clock.now()))
    assert fresh.problems() == []


def test_a_wearable_without_a_link_is_silent_since_the_start(clock: FakeClock, hub: Hub) -> None:
    fresh = WearableFreshness(hub, [_wearable("strap")], clock=clock, margin_s=5)
    fresh.watch([_Link("another", last_data_at=clock.monotonic() + 30)])
    clock.advance(30)
    assert fresh.problems() == ["wearable strap silent for 30 s and no alarm raised for it"]


def test_a_spot_check_device_silent_between_measurements_is_not_a_problem(clock: FakeClock, hub: Hub) -> None:
    cuff = WearableConfig(id="cuff", profile="blood_pressure", address="C0:FF:EE:00:00:09", lost_after_s=12)
    fresh = WearableFreshness(hub, [cuff, _wearable("strap")], clock=clock, margin_s=5)
    fresh.watch([_Link("cuff"), _Link("strap")])
    clock.advance(3600)
    assert fresh.problems() == ["wearable strap silent for 3600 s and no alarm raised for it"]


def test_service_health_problems_read_the_hub(hub: Hub) -> None:
    ts = datetime(2026, 1, 1, tzinfo=UTC)
    assert service_health_problems(hub, ["storage"]) == []
    hub.publish(ServiceHealth(service="storage", ok=False, detail="disk full", ts=ts))
    hub.publish(ServiceHealth(service="mqtt", ok=False, detail="broker down", ts=ts))
    assert service_health_problems(hub, ["storage"]) == ["storage unhealthy: disk full"]
    hub.publish(ServiceHealth(service="storage", ok=True, ts=ts))
    assert service_health_problems(hub, ["storage"]) == []

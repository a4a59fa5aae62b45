"""The real daemon on a real disk that fails: a 3 MiB tmpfs filled up under ``roomctl run`` with the unit's watchdog
(WatchdogSec=30), MQTT and the local API. Monitoring must go on (the watchdog pinged, MQTT and the screen fed), the
alarm must say what is wrong in words, and everything accepted meanwhile must be on disk once space is back."""

from __future__ import annotations

import os
import time
from pathlib import Path

from roomctl.commands import MarkEvent, StartSession
from roomctl.demo.launcher import demo_config
from roomctl.emulator.runner import Emulator
from roomctl.models import Priority
from tests.daemon.helpers import NotifyListener, start_daemon, stop_process
from tests.mqtt.broker import Broker
from tests.mqtt.subscriber import Subscriber
from tests.storage.disks import Follower, fill, free, tmpfs
from tests.storage.helpers import integrity, missing_on_disk

TOPIC = "roomctl/demo-clinic/demo-room"
WATCHDOG_USEC = 30_000_000  # roomctl.service: WatchdogSec=30


def heart_rates(sub: Subscriber) -> int:
    return len(sub.on(f"{TOPIC}/vitals/heart_rate"))


async def test_a_full_disk_under_the_service_keeps_monitoring_and_loses_nothing(
    tmp_path: Path, emulator: Emulator, broker: Broker
) -> None:
    notify = NotifyListener(tmp_path / "notify")
    sub = Subscriber(broker.port, [f"{TOPIC}/#"])
    with tmpfs(tmp_path / "disk", "3m") as disk:
        config = disk / "room.toml"
        config.write_text(demo_config(("127.0.0.1", broker.port)))
        db = disk / "roomctl.db"
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": emulator.bus_address, **notify.environ(WATCHDOG_USEC)}
        log_path = tmp_path / "daemon.log"
        daemon = await start_daemon(config, env, log_path)
        follower = Follower(disk / "api.sock")
        try:
            await notify.wait_for("READY=1")
            await notify.wait_for("WATCHDOG=1")
            await sub.wait_subscribed()
            assert (await follower.send(StartSession())).ok
            await follower.wait_until(lambda: len(follower.readings) >= 5)

            fill(disk)
            full_at = time.monotonic()
            await follower.wait_until(lambda: follower.shown("storage_failure") is not None, within_s=60)
            alarm = follower.shown("storage_failure")
            assert alarm is not None
            assert alarm.priority is Priority.HIGH
            assert "recording stopped: the disk is full" in alarm.message
            assert "rollback" not in alarm.message

            # Monitoring goes on for longer than the watchdog's timeout: pinged, MQTT and the screen fed, commands ok.
            pings, readings, mqtt_hr = notify.count("WATCHDOG=1"), len(follower.readings), heart_rates(sub)
            result = await follower.send(MarkEvent(event="note", text="said while the disk was full"))
            assert result.ok, result.message
            await notify.wait_for("WATCHDOG=1", count=pings + 3, within_s=90)  # 3 pings at 15 s: 30 s and more
            assert time.monotonic() - full_at > 30
            assert daemon.returncode is None
            assert not any(m.startswith("STATUS=unhealthy") for m in notify.drain())
            assert len(follower.readings) >= readings + 20
            await sub.wait_for(lambda _: heart_rates(sub) >= mqtt_hr + 10)
            assert follower.shown("storage_failure") is not None  # still full: still said

            freed_at = time.monotonic()
            free(disk)
            await follower.wait_until(lambda: follower.storage[-1][0].ok, within_s=60)
            recovered_s = follower.storage[-1][1] - freed_at
            await follower.wait_until(lambda: follower.shown("storage_failure") is None, within_s=30)
            episode = [r for r, seen in follower.readings if seen < time.monotonic() - 1.5]
            assert await stop_process(daemon) == 0
            assert missing_on_disk(db, episode) == []  # every reading the screen showed, the full disk's too
            assert integrity(db) == "ok"
            text = log_path.read_text()
            assert "said while the disk was full" in db.read_bytes().decode(errors="replace")
            assert "cannot rollback" not in text
            assert recovered_s < 30, recovered_s  # "promptly": retried every 2 s, well inside the watchdog's period
        finally:
            await follower.close()
            await stop_process(daemon)
            sub.close()
            notify.close()

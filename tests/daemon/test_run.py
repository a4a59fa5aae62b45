"""``roomctl run`` end to end: emulated wearables on a private bus, a real mosquitto, systemd's notify socket, the TUI
in a real terminal. The screen crashing or quitting must leave the daemon monitoring and publishing; SIGTERM stops it
cleanly (exit 0, lights at the safe level, MQTT "offline", everything on disk)."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from pathlib import Path

from roomctl.demo.launcher import demo_config, roomctl_argv
from roomctl.emulator.runner import Emulator
from tests.daemon.helpers import NotifyListener, start_daemon, stop_process
from tests.mqtt.broker import Broker
from tests.mqtt.subscriber import Received, Subscriber
from tests.terminal import Tmux

TOPIC = "roomctl/demo-clinic/demo-room"


def _heart_rates(messages: list[Received]) -> list[Received]:
    return [m for m in messages if m.topic == f"{TOPIC}/vitals/heart_rate"]


async def test_run_survives_the_screen_and_stops_cleanly(tmp_path: Path, emulator: Emulator) -> None:
    broker = Broker(tmp_path / "broker")
    broker.start()
    notify = NotifyListener(tmp_path / "notify")
    sub = Subscriber(broker.port, [f"{TOPIC}/#"])
    config = tmp_path / "room.toml"
    config.write_text(demo_config(("127.0.0.1", broker.port)))
    log_path = tmp_path / "daemon.log"
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": emulator.bus_address, **notify.environ(4_000_000)}
    tmux: Tmux | None = None
    daemon = await start_daemon(config, env)
    try:
        await sub.wait_subscribed()
        await notify.wait_for("READY=1")
        await notify.wait_for("WATCHDOG=1")  # healthy: every wearable connected, storage fine
        await sub.wait_for(lambda m: len(_heart_rates(m)) >= 2)

        # The screen in a real terminal; then it crashes (SIGKILL).
        socket_path = tmp_path / "api.sock"
        tui = " ".join(roomctl_argv("tui", "--socket", str(socket_path)))
        tmux = Tmux(f"exec {tui}")
        screen = await tmux.wait_for(lambda s: "HR" in s and "Chest strap" in s)
        assert "connected" in screen
        os.kill(tmux.pane_pid(), signal.SIGKILL)
        seen = len(_heart_rates(sub.snapshot()))
        await sub.wait_for(lambda m: len(_heart_rates(m)) >= seen + 3)  # still monitoring and publishing
        assert daemon.returncode is None
        tmux.close()

        # The screen again, quit with q.
        tmux = Tmux(f"{tui}; echo TUI-EXIT=$?; sleep 60")
        await tmux.wait_for(lambda s: "HR" in s)
        tmux.send_keys("q")
        await tmux.wait_for(lambda s: "TUI-EXIT=0" in s)
        seen = len(_heart_rates(sub.snapshot()))
        await sub.wait_for(lambda m: len(_heart_rates(m)) >= seen + 3)
        await notify.wait_for("WATCHDOG=1", count=notify.count("WATCHDOG=1") + 1)  # still healthy
        assert daemon.returncode is None

        status = await stop_process(daemon)
        assert status == 0, log_path.read_text()
    finally:
        if tmux is not None:
            tmux.close()
        await stop_process(daemon)
        notify.drain()
        notify.close()
        sub_messages = sub.snapshot()
        sub.close()
        broker.stop()

    log = log_path.read_text()
    assert "STOPPING=1" in "\n".join(notify.messages)
    assert "lights at the safe level: ceiling=0.35,0.35 lamp=0.35" in log
    assert "stopped cleanly" in log
    assert "Traceback" not in log
    statuses = [m.payload for m in sub_messages if m.topic == f"{TOPIC}/status"]
    assert statuses[-1] == b"offline"  # said on the way out, not left to the will
    with sqlite3.connect(tmp_path / "roomctl.db") as db:
        (readings,) = db.execute("select count(*) from readings").fetchone()
    assert readings >= len(_heart_rates(sub_messages))  # nothing published that was not stored first


def test_config_errors_exit_2_without_a_traceback(tmp_path: Path) -> None:
    import subprocess

    bad = tmp_path / "room.toml"
    bad.write_text('[room]\nsite = "Clinic A"\n')
    done = subprocess.run(roomctl_argv("run", "--config", str(bad)), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "room.site" in done.stderr
    assert "room.room" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    missing = subprocess.run(
        roomctl_argv("run", "--config", str(tmp_path / "nope.toml")), capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
    assert sys.executable  # the child ran with this interpreter

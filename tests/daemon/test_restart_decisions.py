"""Restarts keep what the team decided (issue 22): a real Daemon on a fake clock, stopped, and a second Daemon started on
the same state folder within the session. What the first was told (limits set for this session, the patient's baseline, an
acknowledged pause) is what the second applies and shows."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from roomctl.alarms.signal import sounding
from roomctl.api.client import ApiClient, ApiUnavailable, send_once
from roomctl.commands import Acknowledge, Command, CommandResult, SetBaseline, SetLimit, StartSession
from roomctl.demo.launcher import roomctl_argv
from roomctl.models import Priority, Quantity
from roomctl.tui.app import RoomApp
from tests.daemon.helpers import stop_process
from tests.daemon.restart_run import ROOM, Run
from tests.tui.conftest import until, vital


async def test_limits_set_for_the_session_survive_a_restart_and_show_with_a_star(tmp_path: Path) -> None:
    async with Run(tmp_path) as first:
        await first.send(StartSession())
        result = await first.send(SetLimit(quantity=Quantity.SPO2, low=92))  # tightened for this patient
        assert result.message == "SpO2 limits for this session: low (medium) 92 (was 90)"
        await first.send(SetLimit(quantity=Quantity.SPO2, low=80, priority=Priority.HIGH))
        assert first.screen().limits_text(Quantity.SPO2) == "low 92*"
        stopped = first.clock.now()

    async with Run(tmp_path, wall=stopped + timedelta(seconds=20), monotonic_start=50.0) as second:
        low = second.limit(Quantity.SPO2, "low", Priority.MEDIUM)
        assert (low.limit, low.source) == (92, "session")
        high = second.limit(Quantity.SPO2, "low", Priority.HIGH)
        assert (high.limit, high.source) == (80, "session")
        assert second.screen().limits_text(Quantity.SPO2) == "low 92*"
        app = RoomApp(ApiClient(second.daemon.socket_path, min_backoff_s=0.05, max_backoff_s=0.2), clock=second.clock)
        async with app.run_test(size=(80, 24)) as pilot:  # the room's screen, connected to the restarted daemon
            await until(pilot, lambda: "low 92*" in vital(app, Quantity.SPO2, "label"))
        await second.hold(Quantity.SPO2, 91, 2, device="oxi")  # inside the room's 90, outside this patient's 92
        alarm = second.alarms()["spo2_low"]
        assert (alarm.priority, alarm.limit) == (Priority.MEDIUM, 92)
        await second.hold(Quantity.SPO2, 82, 2, device="oxi")  # above the room's 85: the session's 80 rules
        assert second.alarms()["spo2_low"].priority is Priority.MEDIUM


def session_events(tmp_path: Path, kind: str) -> list[dict[str, object]]:
    with sqlite3.connect(tmp_path / "roomctl.db") as db:
        rows = db.execute("select payload from outbox where kind = 'event'").fetchall()
    return [e for e in (json.loads(p) for (p,) in rows) if e["event"] == kind]


async def test_the_baseline_is_kept_with_the_session_and_a_restart_at_the_peak_takes_no_new_one(tmp_path: Path) -> None:
    async with Run(tmp_path) as first:
        await first.send(StartSession())
        await first.hold(Quantity.HEART_RATE, 70, 64, device="strap")  # the 60 s window, then the session's tick
        assert first.screen().limits_text(Quantity.HEART_RATE) == "40-140"  # proposed only: the absolute limits
        result = await first.send(SetBaseline(action="confirm"))
        assert result.message == "baseline confirmed: HR 70; the limits follow it"
        await first.until(lambda: first.screen().limits_text(Quantity.HEART_RATE) == "56-98")
        assert first.limit(Quantity.HEART_RATE, "high", Priority.MEDIUM, "strap").limit == 98  # 1.4 x 70
        assert first.screen().limits_text(Quantity.HEART_RATE) == "56-98"
        await first.until(lambda: session_events(tmp_path, "baseline"))
        stopped = first.clock.now()
    (recorded,) = session_events(tmp_path, "baseline")
    assert recorded["text"] == "Heart rate baseline 70 bpm (confirmed by the team)"
    assert recorded["data"] == {
        "quantity": "heart_rate",
        "value": 70.0,
        "device": None,
        "source": "confirmed",
        "taken_at": recorded["data"]["taken_at"],  # type: ignore[index]
        "window_s": 60.0,
    }

    # restarted at the dose peak: heart rate 120 for longer than the baseline window
    async with Run(tmp_path, wall=stopped + timedelta(minutes=40), monotonic_start=7.0) as second:
        await second.hold(Quantity.HEART_RATE, 120, 1, device="strap")  # the patient's baseline: the strap once heard
        high = second.limit(Quantity.HEART_RATE, "high", Priority.MEDIUM, "strap")
        assert (high.limit, high.source) == (98, "baseline")
        await second.hold(Quantity.HEART_RATE, 120, 89, device="strap")
        alarm = second.alarms()["heart_rate_high"]
        assert alarm.message == "Heart rate high: 120 bpm (limit 98 = 1.4 × baseline 70)"
        await second.hold(Quantity.HEART_RATE, 90, 10, device="strap")  # not low: 0.8 x 70 = 56, not 0.8 x 120
        assert "heart_rate_low" not in second.alarms()
        assert second.limit(Quantity.HEART_RATE, "low", Priority.MEDIUM, "strap").limit == 56
        assert second.screen().limits_text(Quantity.HEART_RATE) == "56-98"
    assert len(session_events(tmp_path, "baseline")) == 1  # no second baseline was taken


async def test_a_restart_in_an_acknowledged_pause_goes_on_from_the_acknowledgement(tmp_path: Path) -> None:
    async with Run(tmp_path) as first:
        await first.send(StartSession())
        await first.hold(Quantity.SPO2, 82, 2, device="oxi")
        assert first.alarms()["spo2_low"].priority is Priority.HIGH
        await first.send(Acknowledge())  # acknowledge all: the room's pause, 120 s
        acknowledged = first.clock.now()
        await first.hold(Quantity.SPO2, 82, 100, device="oxi")
        assert 19 <= first.daemon.alarms.audio_paused_s() <= 21
        await first.until(lambda: first.kept("audio_pause_until"))
        stopped = first.clock.now()

    async with Run(tmp_path, wall=stopped + timedelta(seconds=10), monotonic_start=3.0) as second:
        state = second.daemon.hub.state
        left = second.daemon.alarms.audio_paused_s()
        expected = 120 - (second.clock.now() - acknowledged).total_seconds()  # about 10 s
        assert 5 < expected < 11
        assert left == pytest.approx(expected, abs=0.5)  # 120 s from the acknowledgement, not from the restart
        assert second.screen().pause_remaining(second.clock.monotonic()) == pytest.approx(left)  # the countdown
        assert sounding(state.alarms.values(), state.audio_pause is not None) is None  # silent: still paused
        assert second.alarms()["spo2_low"].acknowledged_at is not None
        app = RoomApp(ApiClient(second.daemon.socket_path, min_backoff_s=0.05, max_backoff_s=0.2), clock=second.clock)
        async with app.run_test(size=(80, 24)) as pilot:  # the room's screen counts the rest of the pause down
            await until(pilot, lambda: f"audio paused 0:{int(left):02d}" in app.banner.shown)
            await second.hold(Quantity.SPO2, 82, 12, device="oxi")
            await until(pilot, lambda: "audio paused" not in app.banner.shown)
        assert state.audio_pause is None
        alarm = second.alarms()["spo2_low"]
        assert alarm.acknowledged_at is None  # re-annunciated: the condition goes on
        assert sounding(state.alarms.values(), state.audio_pause is not None) is Priority.HIGH


async def test_limits_set_at_the_same_moment_from_two_screens_are_all_kept_for_a_restart(tmp_path: Path) -> None:
    async with Run(tmp_path) as first:
        await first.send(StartSession())
        sock = tmp_path / "api.sock"
        results = await asyncio.gather(
            send_once(sock, SetLimit(quantity=Quantity.SPO2, low=92)),
            send_once(sock, SetLimit(quantity=Quantity.HEART_RATE, high=130)),
            send_once(sock, SetLimit(quantity=Quantity.SPO2, low=82, priority=Priority.HIGH)),
        )
        assert all(r.ok for r in results), [r.message for r in results]
        stopped = first.clock.now()

    async with Run(tmp_path, wall=stopped + timedelta(seconds=5)) as second:
        kept = {
            (x.quantity, x.direction, x.priority): x.limit
            for x in second.daemon.hub.state.limits.limits  # type: ignore[union-attr]
            if x.source == "session"
        }
        assert kept == {
            (Quantity.SPO2, "low", Priority.MEDIUM): 92,
            (Quantity.HEART_RATE, "high", Priority.MEDIUM): 130,
            (Quantity.SPO2, "low", Priority.HIGH): 82,
        }


async def send_when_up(socket: Path, command: Command, within_s: float = 60.0) -> CommandResult:
    """Send once the daemon's socket answers (a child process starting: nothing to await but its socket)."""
    async with asyncio.timeout(within_s):
        while True:
            try:
                return await send_once(socket, command)
            except ApiUnavailable:
                await asyncio.sleep(0.1)


async def test_limits_set_for_the_session_survive_sigkill_of_roomctl_run(tmp_path: Path) -> None:
    config = tmp_path / "room.toml"
    config.write_text(ROOM)  # storage and API socket land next to it
    log = (tmp_path / "daemon.log").open("wb")
    child = await asyncio.create_subprocess_exec(*roomctl_argv("run", "--config", str(config)), stdout=log, stderr=log)
    try:
        assert (await send_when_up(tmp_path / "api.sock", StartSession())).ok
        result = await send_once(tmp_path / "api.sock", SetLimit(quantity=Quantity.SPO2, low=92))
        assert result.ok, result.message  # answered once recorded: the kill right after loses nothing
        child.send_signal(signal.SIGKILL)
        assert await child.wait() != 0
    finally:
        await stop_process(child)
        log.close()

    async with Run(tmp_path, wall=datetime.now(UTC)) as second:  # the killed run's wall clock was the real one
        low = second.limit(Quantity.SPO2, "low", Priority.MEDIUM)
        assert (low.limit, low.source) == (92, "session")
        assert second.screen().limits_text(Quantity.SPO2) == "low 92*"

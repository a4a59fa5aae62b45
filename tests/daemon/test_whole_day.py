"""A dosing day from the keyboard (issue 23): the real daemon against the emulated wearables, the real screen in a real
terminal (tmux, 80×24), every step typed as the team would. Start, the baseline, the checklist, dose, supplemental
dose, a break with the oximeter off in standby (nothing raised for it, standby shown, a physiological alarm during the
break still raised), the break's end, the check done, an adverse event, the discharge check offered at the taper (and
refused, saying why, minutes after the doses), the session's end; then the day's report is rendered."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
from pathlib import Path

from roomctl.demo.launcher import demo_config, roomctl_argv
from roomctl.emulator.runner import Emulator
from tests.daemon.helpers import stop_process, type_adverse_event, type_temperature_and_distress
from tests.terminal import Tmux

OXIMETER = "C0:FF:EE:00:00:02"


def events(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT event FROM events ORDER BY ts, seq")]


async def test_a_dosing_day_from_the_keyboard(tmp_path: Path, emulator: Emulator) -> None:
    config = tmp_path / "room.toml"
    config.write_text(demo_config(None))
    log_path = tmp_path / "daemon.log"
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": emulator.bus_address}
    with log_path.open("wb") as log_file:
        daemon = await asyncio.create_subprocess_exec(
            *roomctl_argv("run", "--config", str(config)), env=env, stdout=log_file, stderr=log_file
        )
    tui = " ".join(roomctl_argv("tui", "--socket", str(tmp_path / "api.sock")))
    tmux = Tmux(f"exec {tui}", width=80, height=24)
    try:
        await tmux.wait_for(lambda s: "No session" in s and "Chest strap" in s, within_s=90)

        tmux.send_keys("S")
        await tmux.wait_for(lambda s: "d dosing" in s)
        tmux.send_keys("d")
        await tmux.wait_for(lambda s: "Dosing session" in s and "baseline? collecting" in s)
        tmux.send_keys("B")  # the baseline before the dose: entered by hand (confirming waits for the proposal)
        await tmux.wait_for(lambda s: "e enter by hand" in s)
        tmux.send_keys("e")
        await tmux.wait_for(lambda s: "Baseline entered by hand" in s)
        tmux.send_keys(*"hr 72 spo2 98", "Enter")
        await tmux.wait_for(lambda s: "baseline entered HR 72, SpO2 98" in s and "checklist 1/6 (C)" in s)
        tmux.send_keys("C")  # the pre-dose checklist: "baseline confirmed" ticked itself, the team ticks the rest
        await tmux.wait_for(lambda s: "[x] 3  baseline confirmed" in s)
        tmux.send_keys("1", "2", "4", "5", "6", "Enter")
        await tmux.wait_for(lambda s: "checklist 6/6 (C)" in s)
        tmux.send_keys("d")
        await tmux.wait_for(lambda s: "amount in mg" in s)
        tmux.send_keys("1", "2", "0", "Enter")
        await tmux.wait_for(lambda s: "since dose" in s)
        tmux.send_keys("D")
        await tmux.wait_for(lambda s: "amount in mg" in s)
        await tmux.wait_for(lambda s: "WARNING: 0 min after the" in s)  # the dialog wraps the rest
        tmux.send_keys("6", "0", "Enter")
        await tmux.wait_for(lambda s: "since dose 0:00 h, suppl. 0:00 h" in s)

        # a break with the oximeter off: standby holds its technical alarms, and says so
        tmux.send_keys("b")
        await tmux.wait_for(lambda s: "Standby for the wearables taken off" in s)
        tmux.send_keys("2")
        await tmux.wait_for(lambda s: "standby: Oximeter off for the break" in s and "ON BREAK" in s)
        emulator.drop_out(OXIMETER, 50)
        await tmux.wait_for(lambda s: re.search(r"Oximeter\s+(disconnected|connecting)", s) is not None, within_s=60)
        await asyncio.sleep(35)  # past the oximeter's lost_after_s (30 s): "wearable lost" would be raised by now
        screen = tmux.screen()
        assert "no alarms" in screen, screen
        assert "lost" not in screen.lower(), screen
        assert "standby: Oximeter off for the break" in screen, screen

        # a physiological alarm during the break is raised at once: a hypertensive crisis
        tmux.send_keys("p")
        await tmux.wait_for(lambda s: "systolic/diastolic" in s)
        tmux.send_keys(*"185/112", "Enter")
        screen = await tmux.wait_for(lambda s: "***" in s and "ystolic" in s)
        tmux.send_keys("a")
        await tmux.wait_for(lambda s: "audio paused" in s)

        # the break ends; the oximeter is back within the minute, standby ends without an alarm
        tmux.send_keys("b")
        await tmux.wait_for(lambda s: "ON BREAK" not in s)
        await tmux.wait_for(lambda s: re.search(r"Oximeter\s+connected", s) is not None, within_s=90)
        await tmux.wait_for(lambda s: "standby" not in s, within_s=90)
        assert "lost" not in tmux.screen().lower()

        # the check completed with a temperature and a distress rating (its blood pressure was taken in the break)
        await type_temperature_and_distress(tmux)

        # an adverse event: nausea, mild, an action from the list, no emergency services, a word kept on the Pi
        await type_adverse_event(tmux, "settled with water")

        # the effects taper: the phase moved on, the discharge check is offered, with the team's two ticks
        def phase(screen: str) -> str:
            found = re.search(r"Phase: (\S+)", screen)
            return found.group(1) if found else ""

        for _ in range(8):  # the next phase, one step at a time, until the taper
            now = phase(tmux.screen())
            if now == "Taper":
                break
            await tmux.press("]", until=lambda s, was=now: phase(s) not in ("", was))  # type: ignore[misc]
        await tmux.wait_for(lambda s: "X discharge" in s)
        await tmux.press("X", until=lambda s: "Discharge check" in s)
        await tmux.press("o", until=lambda s: "[x] o  oriented and grounded" in s)
        await tmux.press("s", until=lambda s: "[x] s  support person present" in s)
        # minutes after the doses the data cannot allow discharge: the check says why and records nothing
        await tmux.press("Enter", until=lambda s: "refused: not yet" in s)

        tmux.send_keys("E")
        await tmux.wait_for(lambda s: "End the dosing session?" in s)
        tmux.send_keys("y")
        await tmux.wait_for(lambda s: "No session" in s)
    finally:
        tmux.close()
        assert await stop_process(daemon) == 0, log_path.read_text()[-3000:]
    assert "Traceback" not in log_path.read_text()

    kinds = events(tmp_path / "roomctl.db")
    for kind in ("session_start", "baseline", "checklist", "dose", "supplemental_dose", "break_start", "standby_start",
                 "blood_pressure", "break_end", "standby_end", "temperature", "distress", "vitals_check", "adverse_event",
                 "session_end"):  # fmt: skip
        assert kind in kinds, (kind, kinds)
    assert "discharge_check" not in kinds  # refused: 3 h since the last dose, steady vitals and more were not there
    with sqlite3.connect(tmp_path / "roomctl.db") as conn:
        ((session_id,),) = conn.execute("SELECT id FROM sessions").fetchall()
        (standby_end,) = [
            row[0] for row in conn.execute("SELECT data FROM events WHERE event = 'standby_end'").fetchall()
        ]
    assert '"reason": "wearables back"' in standby_end
    report = tmp_path / "day.png"
    proc = await asyncio.create_subprocess_exec(
        *roomctl_argv("session", "report", session_id, "-o", str(report), "--db", str(tmp_path / "roomctl.db")),
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode == 0, err.decode()
    assert report.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

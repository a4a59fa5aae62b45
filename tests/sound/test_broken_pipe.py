"""An aplay that exits before reading its burst (a device it cannot open, as under a unit without audio access) breaks
the pipe roomctl writes the burst into. Debian 12's and Raspberry Pi OS's Python (3.11.2, what the Pi's virtualenv
runs) then leaves that BrokenPipeError in a future nobody awaits, and asyncio logs "Future exception was never
retrieved" for it at the next garbage collection: up to a line per high burst, every 5 s while a high alarm sounds
(CPython issue 105616; the 3.11.7 of this venv no longer logs it). So this runs on the system's Python, with this
checkout and its site-packages; a burst cancelled mid-write (aplay killed) is checked as well."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import AlsaFile

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"
PLAYS = 40  # a play breaks the pipe only when aplay exits while part of the burst waits to be written: 20-55 % do

SCRIPT = f"""
import asyncio, gc, sys
from roomctl.models import Priority
from roomctl.sound import BURSTS, SoundError
from roomctl.sound.players import AplayOutput

async def main():
    unretrieved, refused = [], 0
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: unretrieved.append(context["message"]))
    output = AplayOutput("nowhere")  # a high burst is 105 kB: more than a pipe holds
    for _ in range({PLAYS}):
        try:
            await output.play(BURSTS[Priority.HIGH], 1.0)
        except SoundError:
            refused += 1
        gc.collect()
    stuck = AplayOutput("default", aplay=sys.argv[1])  # never reads: cancelling the burst kills it mid-write
    for _ in range(3):
        play = asyncio.ensure_future(stuck.play(BURSTS[Priority.HIGH], 1.0))
        await asyncio.sleep(0.3)
        play.cancel()
        try:
            await play
        except asyncio.CancelledError:
            refused += 1
        gc.collect()
    await asyncio.sleep(0.2)
    gc.collect()
    print(sys.version_info[:3], refused, unretrieved)

asyncio.run(main())
"""


def test_an_aplay_that_exits_before_reading_leaves_no_unretrieved_broken_pipe(
    alsa_file: AlsaFile, tmp_path: Path
) -> None:
    stuck = tmp_path / "aplay"
    stuck.write_text("#!/bin/sh\nexec sleep 60\n")
    stuck.chmod(0o755)
    site = next(p for p in sys.path if p.endswith("site-packages"))
    env = {**alsa_file.environ, "PYTHONPATH": f"{ROOT}:{site}"}
    done = subprocess.run(
        [SYSTEM_PYTHON, "-c", SCRIPT, str(stuck)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(")", 1)[0].startswith("(3, 11,"), done.stdout  # the Python the Pi runs, not this venv's
    assert done.stdout.strip().endswith(f") {PLAYS + 3} []"), (
        done.stdout
    )  # every play refused in words, nothing left over
    assert "never retrieved" not in done.stderr

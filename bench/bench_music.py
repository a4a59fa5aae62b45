"""The daemon's CPU with the room's music on: ``roomctl demo --headless`` (its private MPD playing the demo's library),
against the same demo with ``--no-music``. Budget: the daemon with music stays at or under 1 % of one core in the
steady state (after the first phase's 120 s fade-in, while the playlist plays and tracks change every minute).
First, the duck's latency: from an alarm to MPD at ``duck_volume`` (goal: within 1 s), on a real MPD.

    .venv/bin/python bench/bench_music.py                  # fade-in window, then 120 s of steady state, each way
    .venv/bin/python bench/bench_music.py --steady 300
    .venv/bin/python bench/bench_music.py --duck-only      # the duck's latency alone (a few seconds)

The music player never polls MPD: it waits on MPD's ``idle`` (one ``ping`` every 30 s); during a fade it sends a
volume step when the whole percent changes, at most 4 a second.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_daemon import daemon_pid, sample

BUDGET_PERCENT = 1.0
FADE_S = 120.0  # the demo's lighting.phase_fade_s: the first phase's music fades in over it
SETTLE_S = 10.0


def run(music: bool, steady_s: float) -> tuple[float, float]:
    """(CPU % of one core during the fade-in window, CPU % in the steady state) of the demo's daemon."""
    with tempfile.TemporaryDirectory(prefix="roomctl-bench-music-") as tmp:
        state = Path(tmp) / "state"
        demo = subprocess.Popen(
            [sys.executable, "-m", "roomctl", "demo", "--headless", "--state-dir", str(state)]
            + ([] if music else ["--no-music"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            pid = daemon_pid(state)
            started = time.monotonic()
            time.sleep(SETTLE_S)
            t0, c0, _ = sample(pid)
            time.sleep(max(0.0, started + FADE_S + SETTLE_S - time.monotonic()))
            t1, c1, _ = sample(pid)
            time.sleep(steady_s)
            t2, c2, _ = sample(pid)
        finally:
            demo.send_signal(2)
            status = demo.wait(60)
        if status != 0:
            raise SystemExit(f"the demo exited with status {status}")
    return 100 * (c1 - c0) / (t1 - t0), 100 * (c2 - c1) / (t2 - t1)


async def duck_latency(alarms: int) -> list[float]:
    """Seconds from an alarm reaching the hub to MPD reporting the duck's volume (its own ``idle``), per alarm; each
    alarm is acknowledged and the music back up before the next. A real MPD (null output) and the real player."""
    import asyncio

    from mpd.asyncio import MPDClient

    from roomctl.clock import SystemClock
    from roomctl.config.music import MusicConfig, PhaseMusic
    from roomctl.hub import Hub
    from roomctl.models import Alarm, AlarmAction, AlarmCategory, AlarmEvent, Priority, SessionState
    from roomctl.music.library import DEMO_MOODS, make_library
    from roomctl.music.player import MusicPlayer
    from roomctl.music.server import MpdServer

    clock = SystemClock()
    with tempfile.TemporaryDirectory(prefix="roomctl-bench-duck-") as tmp:
        server = MpdServer(Path(tmp))
        make_library(server.music_dir, server.playlist_dir, {"onset": DEMO_MOODS["onset"]}, seconds=30)
        server.start()
        server.update()
        try:
            config = MusicConfig(
                enabled=True, host="127.0.0.1", port=server.port, duck_volume=0.1, duck_restore_s=0.5,
                playlists={"onset": PhaseMusic(playlist="Onset", volume=0.4)},
            )  # fmt: skip
            hub = Hub()
            player = MusicPlayer(config, hub, phase_fade_s=0.5, clock=clock)
            task = asyncio.create_task(player.run())
            watch = MPDClient()
            await watch.connect("127.0.0.1", server.port)

            async def volume_is(check: Any) -> None:
                async with asyncio.timeout(30):
                    if check(int((await watch.status())["volume"])):
                        return
                    changes = watch.idle(("mixer",))
                    try:
                        async for _ in changes:
                            if check(int((await watch.status())["volume"])):
                                return
                    finally:
                        await changes.aclose()

            hub.publish(SessionState(id="s1", phase="onset", started_at=clock.now()))
            await volume_is(lambda v: v == 40)
            took: list[float] = []
            for n in range(alarms):
                alarm = Alarm(
                    id=f"a{n}", condition="spo2_low", category=AlarmCategory.PHYSIOLOGICAL, priority=Priority.HIGH,
                    message="SpO2 low", raised_at=clock.now(),
                )  # fmt: skip
                t0 = time.perf_counter()
                hub.publish(AlarmEvent(action=AlarmAction.RAISED, alarm=alarm, ts=clock.now()))
                await volume_is(lambda v: v <= 10)
                took.append(time.perf_counter() - t0)
                hub.publish(AlarmEvent(action=AlarmAction.CLEARED, alarm=alarm, ts=clock.now()))
                await volume_is(lambda v: v == 40)
            watch.disconnect()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return took
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steady", type=float, default=120.0, help="seconds of steady state measured (default 120)")
    parser.add_argument("--alarms", type=int, default=20, help="alarms for the duck's latency (default 20)")
    parser.add_argument("--duck-only", action="store_true", help="only the duck's latency (no demo runs)")
    args = parser.parse_args()
    import asyncio

    took = asyncio.run(duck_latency(args.alarms))
    print(f"duck: alarm -> MPD at duck_volume, {len(took)} alarms on a real MPD: "
          f"median {1000 * statistics.median(took):.1f} ms, max {1000 * max(took):.1f} ms (goal: within 1 s)")  # fmt: skip
    duck_ok = max(took) <= 1.0
    if args.duck_only:
        return 0 if duck_ok else 1
    fade_on, steady_on = run(True, args.steady)
    fade_off, steady_off = run(False, args.steady)
    print(f"daemon CPU, `roomctl demo --headless`, {args.steady:.0f} s steady state after a {FADE_S:.0f} s fade-in:")
    print(f"  with music:    fade-in {fade_on:.2f} %, steady {steady_on:.2f} % of one core")
    print(f"  --no-music:    fade-in {fade_off:.2f} %, steady {steady_off:.2f} % of one core")
    print(f"  music's share: fade-in {fade_on - fade_off:+.2f} %, steady {steady_on - steady_off:+.2f} % points")
    ok = steady_on <= BUDGET_PERCENT
    print(
        f"  budget: daemon with music <= {BUDGET_PERCENT:.1f} % of one core in the steady state: {'ok' if ok else 'OVER'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

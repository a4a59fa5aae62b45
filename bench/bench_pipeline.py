"""The headline bar: CPU per reading of the whole roomctl pipeline against a naive bleak → decode → paho bridge.

One run on this machine, everything real: a private dbus-daemon, the BlueZ emulator in its own process (its CPU is not
counted) with one heart-rate strap notifying at ``--rate`` per second, and a mosquitto on a free loopback port.

* ``bleak`` — a child process with real bleak connected to the strap; the callback decodes with roomctl's decoder and
  publishes nothing (the floor any bridge pays).
* ``naive`` — the same, plus one paho QoS 1 publish per reading from the callback (VERSION2 callbacks, ``loop_start``).
* ``roomctl`` — the real daemon, ``roomctl run --config <generated>``: bleak → decode → hub → alarms → SQLite (outbox)
  → MQTT, with one local API client (this process) reading every event and an MQTT subscriber counting messages.

CPU is utime + stime of the measured process from /proc (all its threads) over the window from the first notification
to the last reading delivered (plus ``GRACE_S``), divided by the notifications sent. Start-up is left out.

    .venv/bin/python bench/bench_pipeline.py                        # 200/s, 10 s per side, ~45 s in all
    .venv/bin/python bench/bench_pipeline.py --runs 3 --duration 20
    .venv/bin/python bench/bench_pipeline.py --rr                   # each notification also carries an RR interval
    .venv/bin/python bench/bench_pipeline.py --sides roomctl --py-spy /tmp/spy   # where the time goes (pip install py-spy)
    .venv/bin/python bench/bench_pipeline.py --sides roomctl --py-spy /tmp/spy --py-spy-gil   # Python's own work only
    .venv/bin/python bench/bench_pipeline.py --sides roomctl,exp --roomctl-src /tmp/copy --runs 3   # A/B a change

The ``exp`` side runs the daemon from a patched copy of the package (``/tmp/copy/roomctl``), interleaved with ``roomctl``,
so a hot-path change can be measured before it is made. Figures vary by ±20 % on a shared machine: compare within a run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _pipeline_parts import (  # bench/ is sys.path[0] when run as a script
    ADDRESS,
    ROOMCTL_ROOT,
    Broker,
    Child,
    Counters,
    proc_cpu,
    proc_memory,
    proc_switches,
    roomctl_subscribed,
)

GRACE_S = 0.5  # after the last reading arrived: the storage flush and MQTT acks that belong to it
SETTLE_S = 2.0  # after everything is connected, before the window opens
SPY_HZ = 500  # py-spy samples per second
SPY_GIL_ONLY = False  # set by --py-spy-gil
RATIO_BAR = 0.70  # roomctl's CPU per reading at most this share of the naive bridge's (issue 15)

# ---------------------------------------------------------------------------------------------- the harness


@dataclass
class Result:
    side: str
    sent: int
    cpu_s: float
    sys_s: float
    window_s: float
    switches: int
    mqtt: int | None
    api: int | None
    rss_kib: int
    hwm_kib: int

    @property
    def us_per_reading(self) -> float:
        return self.cpu_s / self.sent * 1e6 if self.sent else float("nan")


def room_toml(port: int, pace: float) -> str:
    return f"""
[room]
site = "bench"
room = "pipeline"

[[wearables]]
id = "strap"
profile = "heart_rate"
address = "{ADDRESS}"
stale_after_s = 5
lost_after_s = 12
max_notify_hz = 2000  # the benchmark's strap notifies far faster than a real one: measured, not coalesced

[lighting]
pin_factory = "mock"

[alarms.sound]
outputs = []

[mqtt]
enabled = true
host = "127.0.0.1"
port = {port}
client_id = "roomctl-bench"
replay_rate_per_s = {pace}

[storage]
path = "roomctl.db"

[api]
socket_path = "api.sock"
"""


async def api_reader(socket_path: Path, counts: Counter[str], connected: asyncio.Event) -> None:
    """One local API client, as the screen: counts heart-rate readings among the events it receives."""
    from roomctl.api.client import ApiClient, Disconnected
    from roomctl.api.protocol import EventMessage, Hello

    async for update in ApiClient(socket_path).updates():
        if isinstance(update, Hello):
            connected.set()
        elif isinstance(update, EventMessage):
            event = update.event
            counts[getattr(event, "kind", "?")] += 1
        elif isinstance(update, Disconnected) and connected.is_set():
            return


@contextlib.asynccontextmanager
async def roomctl_on_strap(
    emulator: Child, state: Path, env: dict[str, str], *, start_after_s: float = 0.0
) -> AsyncIterator[tuple[asyncio.subprocess.Process, Counter[str]]]:
    """:func:`roomctl_subscribed`, and one local API client connected (:func:`api_reader`, its counts yielded)."""
    async with roomctl_subscribed(emulator, state, env, start_after_s=start_after_s) as daemon:
        api_counts: Counter[str] = Counter()
        api_up = asyncio.Event()
        api_task = asyncio.create_task(api_reader(state / "api.sock", api_counts, api_up))
        try:
            async with asyncio.timeout(60):
                await api_up.wait()
            yield daemon, api_counts
        finally:
            api_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await api_task


async def measure_window(
    emulator: Child, pid: int, count: int, delivered: Any, py_spy: Path | None
) -> tuple[int, tuple[float, float], float, int]:
    """Send ``count`` notifications; CPU of ``pid`` from the first until all are delivered (+ grace)."""
    spy = None
    if py_spy is not None:
        exe = Path(sys.executable).parent / "py-spy"
        spy = await asyncio.create_subprocess_exec(
            str(exe), "record", "--pid", str(pid), "--format", "raw", "--threads", "--rate", str(SPY_HZ), "--nonblocking",
            *(["--gil"] if SPY_GIL_ONLY else []), "--output", str(py_spy), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        await asyncio.sleep(1.0)
    cpu0, t0, sw0 = proc_cpu(pid), time.monotonic(), proc_switches(pid)
    await emulator.say(f"send {count}")
    sent = int((await emulator.expect("sent", timeout_s=count / 10 + 60))[1])
    deadline = time.monotonic() + 10
    while delivered() < sent and time.monotonic() < deadline:  # noqa: ASYNC110 (counted on other threads)
        await asyncio.sleep(0.02)
    await asyncio.sleep(GRACE_S)
    cpu1, t1, sw1 = proc_cpu(pid), time.monotonic(), proc_switches(pid)
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        await spy.wait()
    return sent, (cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]), t1 - t0, sw1 - sw0


async def run_naive(args: argparse.Namespace, bus: str, broker: Broker, counters: Counters, publish: bool) -> Result:
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus}
    emulator = await Child.start("emulator", "--emulator", bus, *_shape(args), env=env)
    bridge: Child | None = None
    try:
        await emulator.expect("ready")
        await asyncio.sleep(0.3)
        extra = [] if publish else ["--no-publish"]
        bridge = await Child.start("naive bridge", "--naive", str(broker.port), *extra, env=env)
        await emulator.say("wait")
        await emulator.expect("subscribed")
        await bridge.expect("subscribed")
        await asyncio.sleep(SETTLE_S)
        counters.counts.clear()
        messages_per = 2 if args.rr else 1
        received = {"n": 0}

        def delivered() -> int:
            return sum(counters.counts.values()) // messages_per if publish else received["n"]

        if not publish:  # nothing to count from outside: trust the window and ask the bridge at the end
            received["n"] = 1 << 30
        side = "naive" if publish else "bleak"
        spy = _spy_file(args, side)
        sent, cpu, window, switches = await measure_window(emulator, bridge.proc.pid, args.count, delivered, spy)
        rss, hwm = proc_memory(bridge.proc.pid)
        await bridge.say("stop")
        got = int((await bridge.expect("received"))[1])
        mqtt = sum(counters.counts.values()) // messages_per if publish else None
        result = Result(side, sent, sum(cpu), cpu[1], window, switches, mqtt, None, rss, hwm)
        if got != sent:
            print(f"  note: the {side} bridge received {got} of {sent} notifications")
        return result
    finally:
        if bridge is not None:
            await bridge.stop("stop")
        await emulator.stop()


async def run_roomctl(
    args: argparse.Namespace, bus: str, broker: Broker, counters: Counters, tmp: Path, side: str
) -> Result:
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus}
    if side == "exp":  # an experimental copy of the package, to measure a change before making it
        env["PYTHONPATH"] = str(args.roomctl_src)
    state = tmp / f"state-{time.monotonic_ns()}"
    state.mkdir()
    (state / "room.toml").write_text(room_toml(broker.port, args.mqtt_pace))
    emulator = await Child.start("emulator", "--emulator", bus, *_shape(args), env=env)
    try:
        async with roomctl_on_strap(emulator, state, env, start_after_s=0.3) as (daemon, api_counts):
            async with asyncio.timeout(60):
                while counters.counts[f"{ROOMCTL_ROOT}/status"] == 0:  # noqa: ASYNC110 (counted on paho's thread)
                    await asyncio.sleep(0.05)
            await asyncio.sleep(SETTLE_S)
            counters.counts.clear()
            api_counts.clear()
            hr_topic = f"{ROOMCTL_ROOT}/vitals/heart_rate"

            def delivered() -> int:
                return min(counters.counts[hr_topic], api_counts["reading"])

            sent, cpu, window, switches = await measure_window(
                emulator, daemon.pid, args.count, delivered, _spy_file(args, side)
            )
            rss, hwm = proc_memory(daemon.pid)
            return Result(
                side,
                sent,
                sum(cpu),
                cpu[1],
                window,
                switches,
                counters.counts[hr_topic],
                api_counts["reading"],
                rss,
                hwm,
            )
    finally:
        await emulator.stop()


def _spy_file(args: argparse.Namespace, side: str) -> Path | None:
    """Where py-spy records this side's window (the last run's), or None when not profiling."""
    return None if args.py_spy is None else args.py_spy / f"{side}.txt"


def _shape(args: argparse.Namespace) -> list[str]:
    return ["--rate", str(args.rate), *(["--rr"] if args.rr else [])]


def print_table(args: argparse.Namespace, results: list[Result]) -> None:
    per_note = "HR + RR (2 events)" if args.rr else "HR only (1 reading)"
    print(f"\n{args.rate:g} notifications/s, {args.count} per side per run, each notification {per_note}; CPU of the")
    print("measured process only (emulator, dbus-daemon, mosquitto and this harness not counted)\n")
    print(f"{'run':>3} {'side':<8} {'µs/reading':>10} {'CPU s':>7} {'sys %':>5} {'window s':>8} {'wake/rd':>7} {'sent':>6} {'MQTT':>6} {'API':>6} "
          f"{'RSS MiB':>8} {'HWM MiB':>8}")  # fmt: skip
    for i, r in enumerate(results):
        run = i // len(args.sides) + 1
        mqtt = "-" if r.mqtt is None else str(r.mqtt)
        api = "-" if r.api is None else str(r.api)
        print(
            f"{run:>3} {r.side:<8} {r.us_per_reading:>10.0f} {r.cpu_s:>7.2f} {100 * r.sys_s / max(r.cpu_s, 1e-9):>5.0f} {r.window_s:>8.1f} {r.switches / max(1, r.sent):>7.2f} {r.sent:>6} "
            f"{mqtt:>6} {api:>6} {r.rss_kib / 1024:>8.1f} {r.hwm_kib / 1024:>8.1f}"
        )
    by_side: dict[str, list[float]] = {}
    for r in results:
        by_side.setdefault(r.side, []).append(r.us_per_reading)
    medians = {side: sorted(v)[len(v) // 2] for side, v in by_side.items()}
    print()
    for side, v in by_side.items():
        runs = ", ".join(f"{x:.0f}" for x in v)
        print(f"{side:<8} median {medians[side]:.0f}, min {min(v):.0f} µs/reading over {len(v)} run(s): {runs}")
    if "naive" in medians and "roomctl" in medians:
        ratio = medians["roomctl"] / medians["naive"]
        verdict = "within" if ratio <= RATIO_BAR else "over"
        print(f"roomctl / naive = {ratio:.2f} ({verdict} the bar: at most {RATIO_BAR:.2f} x the naive bridge's CPU)")
    if "exp" in by_side and "roomctl" in by_side:
        pairs = [e - r for r, e in zip(by_side["roomctl"], by_side["exp"], strict=False)]
        print(f"exp − roomctl, run by run: {', '.join(f'{d:+.0f}' for d in pairs)} µs/reading")


async def bench(args: argparse.Namespace) -> None:
    from roomctl.emulator import PrivateBus

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="roomctl-bench-pipeline-") as folder:
        tmp = Path(folder)
        with PrivateBus() as bus, Broker(tmp) as broker:
            counters = Counters(broker.port)
            try:
                for run in range(args.runs):
                    for side in args.sides:
                        print(f"run {run + 1}/{args.runs}: {side} ...", flush=True)
                        if side in ("roomctl", "exp"):
                            results.append(await run_roomctl(args, bus.address, broker, counters, tmp, side))
                        else:
                            results.append(await run_naive(args, bus.address, broker, counters, side == "naive"))
            finally:
                counters.stop()
    print_table(args, results)
    if args.py_spy is not None:
        from _pyspy_top import summarise  # bench/ is sys.path[0] when run as a script

        print(f"\nwhere the time goes (py-spy at {SPY_HZ} Hz, last run; µs per reading, first match in the stack):")
        for side in args.sides:
            total, _, _, _, parts = summarise((args.py_spy / f"{side}.txt").read_text())
            top = ", ".join(f"{part} {n / SPY_HZ / args.count * 1e6:.0f}" for part, n in parts.most_common(6))
            print(f"  {side}: {total / SPY_HZ / args.count * 1e6:.0f} in all: {top}")
        print(f"  details: .venv/bin/python bench/_pyspy_top.py {args.py_spy}/<side>.txt --rate {SPY_HZ} "
              f"--readings {args.count}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0, help="notifications per second (default 200)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of notifications per side (default 10)")
    parser.add_argument("--runs", type=int, default=1, help="repeat every side this many times (default 1)")
    parser.add_argument(
        "--sides",
        default="bleak,naive,roomctl",
        help="comma list of bleak, naive, roomctl, exp (roomctl from --roomctl-src); default bleak,naive,roomctl",
    )
    parser.add_argument("--rr", action="store_true", help="notifications carry an RR interval too (2 events each)")
    parser.add_argument(
        "--mqtt-pace", type=float, default=200.0, help="roomctl's [mqtt] replay_rate_per_s (default 200, its default)"
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        metavar="DIR",
        help="profile each side's window with py-spy (pip install py-spy) into DIR",
    )
    parser.add_argument(
        "--py-spy-gil",
        action="store_true",
        help="with --py-spy: sample only the thread holding the GIL (Python's own work; without it, waits for the GIL "
        "and in epoll are counted too)",
    )
    parser.add_argument(
        "--roomctl-src",
        type=Path,
        metavar="DIR",
        help="side 'exp' runs the daemon from the roomctl package in DIR (to measure a change before making it)",
    )
    args = parser.parse_args()
    args.sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    unknown = set(args.sides) - {"bleak", "naive", "roomctl", "exp"}
    if unknown:
        parser.error(f"unknown side(s): {', '.join(sorted(unknown))}")
    if "exp" in args.sides and (args.roomctl_src is None or not (args.roomctl_src / "roomctl").is_dir()):
        parser.error("side 'exp' needs --roomctl-src DIR with a roomctl package in it")
    args.count = max(1, round(args.rate * args.duration))
    global SPY_GIL_ONLY
    SPY_GIL_ONLY = args.py_spy_gil
    if args.py_spy is not None:
        args.py_spy.mkdir(parents=True, exist_ok=True)
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()

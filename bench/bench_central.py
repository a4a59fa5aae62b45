"""The nursing station at facility scale: ``roomctl central`` against ``roomctl loadgen`` through a real mosquitto.

For each facility size: a private mosquitto on a free loopback port, the load generator (N simulated rooms through
roomctl's own publisher: 5 messages/s per room, device states, sessions, alarms, network cuts) and the station,
headless at 200x60, each in its own process. After a warm-up, for ``--seconds``:

- the station's CPU (% of one core) and RSS (at the end, and its peak), mosquitto's CPU, the load generator's CPU;
- alarm published -> tile updated: the load generator logs each raised/escalated alarm when it records it (before
  its publisher sends it), the station logs when that alarm first reached the screen (after the repaint); p50/p99.

Bars (issue 14): 200 rooms at <= 25 % of one core, RSS <= 200 MiB, p99 <= 1 s.

    .venv/bin/python bench/bench_central.py [--rooms 50 200] [--seconds 60] [--warmup 15]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as mqtt
from _budget import percentile
from paho.mqtt.enums import CallbackAPIVersion

from tests.mqtt.broker import Broker

TICK = os.sysconf("SC_CLK_TCK")
ALARM_EVERY_S = 600.0  # mean s between alarms per room: loadgen's default (one alarm every 3 s over 200 rooms)
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size in MiB."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def read_marks(path: Path) -> dict[tuple[str, str], float]:
    marks: dict[tuple[str, str], float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3:
                marks.setdefault((parts[0], parts[1]), float(parts[2]))
    return marks


@dataclass
class Result:
    rooms: int
    seconds: float
    central_cpu: float
    central_rss: float
    central_peak: float
    broker_cpu: float
    loadgen_cpu: float
    latencies: list[float]
    to_broker: list[float]
    from_broker: list[float]
    messages_s: float
    load: float


class AlarmWatch:
    """A plain paho subscriber (its own thread) noting when each alarm (id, priority) reached the broker's clients."""

    def __init__(self, port: int) -> None:
        self.arrived: dict[tuple[str, str], float] = {}
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-alarm-watch", protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("roomctl/+/+/alarms", qos=1)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        if body.get("action") in ("raised", "escalated"):
            self.arrived.setdefault((body["id"], body["priority"]), time.time())

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def roomctl(*args: str) -> list[str]:
    return [sys.executable, "-m", "roomctl", *args]


def run(rooms: int, seconds: float, warmup: float, directory: Path, alarm_every_s: float | None = None) -> Result:
    broker = Broker(directory / "broker")
    broker.start()
    watch = AlarmWatch(broker.port)
    alarm_log, trace = directory / "alarms.log", directory / "shown.log"
    config = directory / "central.toml"
    config.write_text(f'[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\n')
    alarm_every = ALARM_EVERY_S if alarm_every_s is None else alarm_every_s
    central = subprocess.Popen(
        roomctl("central", "--config", str(config), "--headless", "--size", "200x60", "--trace-alarms", str(trace)),
        stdout=subprocess.DEVNULL,
        stderr=(directory / "central.err").open("wb"),
    )
    loadgen = subprocess.Popen(
        roomctl(
            "loadgen", "--rooms", str(rooms), "--broker", f"127.0.0.1:{broker.port}", "--alarm-every",
            str(alarm_every), "--alarm-log", str(alarm_log), "--duration", str(warmup + seconds + 5),
        ),
        stdout=(directory / "loadgen.out").open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert broker.proc is not None
    try:
        time.sleep(warmup)  # the rooms connect, retained state settles (a fixed warm-up, not a wait for an event)
        start = time.monotonic()
        c0, b0, l0 = cpu_s(central.pid), cpu_s(broker.proc.pid), cpu_s(loadgen.pid)
        from_mark = time.time()
        time.sleep(seconds)
        elapsed = time.monotonic() - start
        c1, b1, l1 = cpu_s(central.pid), cpu_s(broker.proc.pid), cpu_s(loadgen.pid)
        rss, peak = rss_mib(central.pid)
        to_mark = time.time()
    finally:
        for proc in (loadgen, central):
            proc.send_signal(signal.SIGINT)
        for proc in (loadgen, central):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        watch.close()
        broker.stop()
    published, shown = read_marks(alarm_log), read_marks(trace)
    window = {k: t for k, t in published.items() if from_mark <= t <= to_mark - 2}
    latencies = [shown[k] - t for k, t in window.items() if k in shown]
    to_broker = [watch.arrived[k] - t for k, t in window.items() if k in watch.arrived]
    from_broker = [shown[k] - watch.arrived[k] for k in window if k in shown and k in watch.arrived]
    missing = [k for k, t in published.items() if from_mark <= t <= to_mark - 2 and k not in shown]
    if missing:
        print(f"  {len(missing)} alarm(s) published in the window never reached the screen: {missing[:5]}")
    return Result(
        rooms=rooms,
        seconds=elapsed,
        central_cpu=100 * (c1 - c0) / elapsed,
        central_rss=rss,
        central_peak=peak,
        broker_cpu=100 * (b1 - b0) / elapsed,
        loadgen_cpu=100 * (l1 - l0) / elapsed,
        latencies=latencies,
        to_broker=to_broker,
        from_broker=from_broker,
        messages_s=rooms * 5.0,
        load=os.getloadavg()[0],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--alarm-every", type=float, default=ALARM_EVERY_S, help="mean s between alarms per room")
    args = parser.parse_args()
    print(f"roomctl central vs roomctl loadgen through mosquitto, {args.seconds:.0f} s each after {args.warmup:.0f} s")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    ok = True
    for rooms in args.rooms:
        with tempfile.TemporaryDirectory(prefix="roomctl-bench-central-") as tmp:
            r = run(rooms, args.seconds, args.warmup, Path(tmp), args.alarm_every)
        lat = sorted(r.latencies)
        p50 = percentile(lat, 0.5) if lat else float("nan")
        p99 = percentile(lat, 0.99) if lat else float("nan")
        print(
            f"{rooms:4d} rooms (~{r.messages_s:.0f} msg/s published): central CPU {r.central_cpu:5.1f} % of a core, "
            f"RSS {r.central_rss:5.1f} MiB (peak {r.central_peak:.1f}); mosquitto CPU {r.broker_cpu:4.1f} %; "
            f"loadgen CPU {r.loadgen_cpu:5.1f} %; alarm -> tile n={len(lat)} p50={p50 * 1000:.0f} ms "
            f"p99={p99 * 1000:.0f} ms"
        )
        for name, part in (("loadgen -> broker", r.to_broker), ("broker -> tile", r.from_broker)):
            if part:
                print(
                    f"       {name}: p50={percentile(part, 0.5) * 1000:.0f} ms p99={percentile(part, 0.99) * 1000:.0f} ms"
                )
        print(f"       load average at the end: {r.load:.2f} (2 cores shared with other work)")
        if rooms == 200:
            bars = (r.central_cpu <= 25, r.central_peak <= 200, bool(lat) and p99 <= 1.0)
            print(
                "  bars at 200 rooms: CPU <= 25 % "
                + ("met" if bars[0] else "MISSED")
                + ", RSS <= 200 MiB "
                + ("met" if bars[1] else "MISSED")
                + ", p99 <= 1 s "
                + ("met" if bars[2] else "MISSED")
            )
            ok = ok and all(bars)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

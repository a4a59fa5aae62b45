"""The nursing station at facility scale: ``roomctl central`` against ``roomctl loadgen`` through a real mosquitto.

For each facility size: a private mosquitto on a free loopback port, the load generator (N simulated rooms through
roomctl's own publisher: 5 messages/s per room, device states, sessions, alarms, network cuts) and the station,
headless at 200x60, each in its own process. After a warm-up, for ``--seconds``:

- the station's CPU (% of one core) and RSS (at the end, and its peak), mosquitto's CPU, the load generator's CPU;
- alarm published -> tile updated: the load generator logs each raised/escalated alarm when it records it (before
  its publisher sends it), the station logs when that alarm first reached the screen (after the repaint); p50/p99.

Bars (issue 14): 200 rooms at <= 25 % of one core, RSS <= 200 MiB, p99 <= 1 s. Issue 21: the same bars for a
facility of 1,000 rooms (5,000 messages/s) and under the floods.

``--facility N``: N rooms from ``bench/_facility_feed.py`` instead of the load generator (the project's encoded
payloads from one cheap connection: 1,000 rooms' real publishers do not fit beside the station on 2 shared cores).
``--flood``: a facility of ``--flood-facility`` rooms (named in the station's ``[station] rooms``) plus the attacks:
30,000 retained device topics in one room's tree, 3,000 fake rooms with a high alarm "raised" in 2035, 1 MB payloads.

    .venv/bin/python bench/bench_central.py [--rooms 50 200] [--facility 1000] [--flood] [--seconds 60] [--warmup 15]
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


@dataclass(frozen=True)
class Feed:
    """What publishes: ``roomctl loadgen`` (``kind="loadgen"``) or ``bench/_facility_feed.py`` (``"facility"``), and
    for the latter the floods; ``expect``: the station is told the facility's rooms (``[station] rooms``)."""

    kind: str = "loadgen"
    flood_devices: int = 0
    flood_rooms: int = 0
    flood_big: int = 0
    expect: bool = False

    def command(self, rooms: int, port: int, alarm_every: float, alarm_log: Path, duration: float) -> list[str]:
        if self.kind == "loadgen":
            return roomctl(
                "loadgen", "--rooms", str(rooms), "--broker", f"127.0.0.1:{port}", "--alarm-every",
                str(alarm_every), "--alarm-log", str(alarm_log), "--duration", str(duration),
            )  # fmt: skip
        return [
            sys.executable, str(Path(__file__).with_name("_facility_feed.py")), "--port", str(port), "--rooms",
            str(rooms), "--alarm-every", str(alarm_every), "--alarm-log", str(alarm_log), "--duration", str(duration),
            "--flood-devices", str(self.flood_devices), "--flood-rooms", str(self.flood_rooms),
            "--flood-big", str(self.flood_big),
        ]  # fmt: skip

    def station_config(self, rooms: int, port: int) -> str:
        text = f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\n'
        if self.expect:
            listed = ", ".join(f'"loadgen/room-{i + 1:04d}"' for i in range(rooms))
            text = f'[station]\nsites = ["*"]\nrooms = [{listed}]\n' + text
        return text


def run(
    rooms: int,
    seconds: float,
    warmup: float,
    directory: Path,
    alarm_every_s: float | None = None,
    feed: Feed = Feed(),
) -> Result:
    broker = Broker(directory / "broker")
    broker.start()
    watch = AlarmWatch(broker.port)
    alarm_log, trace = directory / "alarms.log", directory / "shown.log"
    config = directory / "central.toml"
    config.write_text(feed.station_config(rooms, broker.port))
    alarm_every = ALARM_EVERY_S if alarm_every_s is None else alarm_every_s
    central = subprocess.Popen(
        roomctl("central", "--config", str(config), "--headless", "--size", "200x60", "--trace-alarms", str(trace)),
        stdout=subprocess.DEVNULL,
        stderr=(directory / "central.err").open("wb"),
    )
    loadgen = subprocess.Popen(
        feed.command(rooms, broker.port, alarm_every, alarm_log, warmup + seconds + 5),
        stdout=(directory / "loadgen.out").open("wb"),
        stderr=subprocess.STDOUT,
    )
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
    fakes = sum(1 for alarm_id, _ in shown if alarm_id.startswith("fake-"))
    if feed.flood_rooms:
        print(
            f"  flood: the alarms of {fakes} of {feed.flood_rooms} fake rooms reached the station (shown apart; "
            "the rest over its limits, dropped and counted)"
        )
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
    parser.add_argument("--rooms", type=int, nargs="*", default=[50, 200], help="loadgen facilities")
    parser.add_argument("--facility", type=int, nargs="*", default=[], help="facilities from _facility_feed.py")
    parser.add_argument("--flood", action="store_true", help="the floods on a facility of --flood-facility rooms")
    parser.add_argument("--flood-facility", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--alarm-every", type=float, default=ALARM_EVERY_S, help="mean s between alarms per room")
    args = parser.parse_args()
    print(f"roomctl central through mosquitto, {args.seconds:.0f} s each after {args.warmup:.0f} s")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    cases = [(f"{n} rooms (loadgen)", n, Feed()) for n in args.rooms]
    cases += [(f"{n} rooms (facility feed)", n, Feed("facility")) for n in args.facility]
    if args.flood:
        flood = Feed("facility", flood_devices=30_000, flood_rooms=3_000, flood_big=20, expect=True)
        cases.append((f"{args.flood_facility} rooms + floods", args.flood_facility, flood))
    ok = True
    for name, rooms, feed in cases:
        with tempfile.TemporaryDirectory(prefix="roomctl-bench-central-") as tmp:
            r = run(rooms, args.seconds, args.warmup, Path(tmp), args.alarm_every, feed)
        lat = sorted(r.latencies)
        p50 = percentile(lat, 0.5) if lat else float("nan")
        p99 = percentile(lat, 0.99) if lat else float("nan")
        print(
            f"{name} (~{r.messages_s:.0f} msg/s published): central CPU {r.central_cpu:5.1f} % of a core, "
            f"RSS {r.central_rss:5.1f} MiB (peak {r.central_peak:.1f}); mosquitto CPU {r.broker_cpu:4.1f} %; "
            f"feed CPU {r.loadgen_cpu:5.1f} %; alarm -> tile n={len(lat)} p50={p50 * 1000:.0f} ms "
            f"p99={p99 * 1000:.0f} ms"
        )
        for part_name, part in (("feed -> broker", r.to_broker), ("broker -> tile", r.from_broker)):
            if part:
                print(
                    f"       {part_name}: p50={percentile(part, 0.5) * 1000:.0f} ms "
                    f"p99={percentile(part, 0.99) * 1000:.0f} ms"
                )
        print(f"       load average at the end: {r.load:.2f} (2 cores shared with other work)")
        if rooms >= 200:
            bars = (r.central_cpu <= 25, r.central_peak <= 200, bool(lat) and p99 <= 1.0)
            words = ("met" if bar else "MISSED" for bar in bars)
            print("  bars: CPU <= 25 % {}, RSS <= 200 MiB {}, p99 <= 1 s {}".format(*words))
            ok = ok and all(bars)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

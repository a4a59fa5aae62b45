"""MQTT publisher benchmark: CPU per published reading, and reading-to-subscriber latency (p50/p99).

Runs a private mosquitto on a free loopback port and a subscriber in a separate process; the publisher reads an
in-memory outbox (storage is measured by its own benchmark).

1. Throughput: N readings waiting in the outbox (a replay after an outage, pacing off) -> publisher -> mosquitto;
   CPU (process_time) of this process per reading, until all are acknowledged and marked sent.
2. Live: readings added at RATE per second, in batches as storage commits them (every 0.5 s), then one at a time;
   latency = subscriber receive time - the reading's ts
   (outbox -> publisher -> broker -> subscriber); CPU of this process per reading at that rate.

    .venv/bin/python bench/bench_mqtt.py [--readings 20000] [--rate 200] [--seconds 10] [--batch-s 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from roomctl.config import MqttConfig, RoomSection
from roomctl.hub import Hub
from roomctl.models import iso_ms
from roomctl.mqtt.publisher import MqttPublisher
from roomctl.storage.outbox import OutboxRecord
from tests.mqtt.broker import Broker

ROOM = RoomSection(site="bench", room="r1")
TOPIC = "roomctl/bench/r1/vitals/#"

SUBSCRIBER = r"""
import json, sys, time
import paho.mqtt.client as mqtt
port, expected = int(sys.argv[1]), int(sys.argv[2])
lat = []
def on_connect(c, u, f, rc, p):
    c.subscribe(sys.argv[3], qos=1)
def on_subscribe(c, u, mid, rcs, p):
    print("ready", flush=True)
def on_message(c, u, m):
    lat.append((json.loads(m.payload)["seq"], time.time()))
    if len(lat) >= expected:
        c.disconnect()
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
c.connect("127.0.0.1", port)
c.loop_forever()
print(json.dumps(lat), flush=True)
"""


class BenchOutbox:
    """The smallest outbox: a list of records and the set of those sent (pending skips them, as storage does)."""

    def __init__(self) -> None:
        self.records: list[OutboxRecord] = []
        self.added_at: list[float] = []  # wall time each record was added, by seq - 1
        self.done: set[int] = set()
        self._new = asyncio.Event()
        self.all_sent = asyncio.Event()

    def add(self, payload: str) -> None:
        self.records.append(OutboxRecord(len(self.records) + 1, "reading", "s1", payload))
        self.added_at.append(time.time())
        self.all_sent.clear()
        self._new.set()

    @property
    def last_seq(self) -> int:
        return len(self.records)

    async def pending(self, after_seq: int, limit: int) -> list[OutboxRecord]:
        out: list[OutboxRecord] = []
        for record in self.records[after_seq:]:
            if record.seq not in self.done:
                out.append(record)
                if len(out) >= limit:
                    break
        return out

    async def append(self, kind: str, payload: str) -> int:
        self.records.append(OutboxRecord(len(self.records) + 1, kind, None, payload))
        self.added_at.append(time.time())
        self._new.set()
        return len(self.records)

    async def mark_sent(self, seqs: Sequence[int]) -> None:
        self.done.update(seqs)
        if len(self.done) >= len(self.records):
            self.all_sent.set()

    async def wait_new(self, after_seq: int) -> None:
        while len(self.records) <= after_seq:
            self._new.clear()
            await self._new.wait()


def reading_json(value: float) -> str:
    ts = iso_ms(datetime.now(UTC))
    return (
        f'{{"kind":"reading","quantity":"heart_rate","value":{value},"unit":"bpm","device":"strap",'
        f'"ts":"{ts}","quality":"ok"}}'
    )


async def start_subscriber(port: int, expected: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SUBSCRIBER, str(port), str(expected), TOPIC, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    assert await asyncio.wait_for(proc.stdout.readline(), 30) == b"ready\n"
    return proc


async def run_publisher(config: MqttConfig, outbox: BenchOutbox) -> tuple[MqttPublisher, asyncio.Task[None]]:
    publisher = MqttPublisher(config, ROOM, outbox, Hub())
    task = asyncio.create_task(publisher.run())
    await asyncio.wait_for(publisher.connected.wait(), 30)
    return publisher, task


async def throughput(port: int, n: int) -> float:
    outbox = BenchOutbox()
    for i in range(n):
        outbox.add(reading_json(60 + i % 40))
    sub = await start_subscriber(port, n)
    # pacing as loose as the configuration allows (10 000/s): the backlog goes out as fast as the broker takes it
    config = MqttConfig(enabled=True, host="127.0.0.1", port=port, replay_rate_per_s=10_000)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    publisher, task = await run_publisher(config, outbox)
    await asyncio.wait_for(outbox.all_sent.wait(), 300)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await asyncio.wait_for(sub.communicate(), 60)
    print(f"throughput: {n} readings in {wall:.2f} s ({n / wall:,.0f}/s), acknowledged {publisher.stats.acknowledged}")
    return cpu / n * 1e6


async def live(port: int, rate: float, seconds: float, batch_s: float) -> tuple[float, list[float]]:
    n = int(rate * seconds)
    outbox = BenchOutbox()
    sub = await start_subscriber(port, n)
    config = MqttConfig(enabled=True, host="127.0.0.1", port=port)
    _publisher, task = await run_publisher(config, outbox)
    cpu0 = time.process_time()
    start = time.perf_counter()
    per_batch = max(1, round(rate * batch_s))
    for i in range(0, n, per_batch):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        for j in range(i, min(n, i + per_batch)):
            outbox.add(reading_json(60 + j % 40))
    await asyncio.wait_for(outbox.all_sent.wait(), 60)
    cpu = time.process_time() - cpu0
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    out, _ = await asyncio.wait_for(sub.communicate(), 60)
    received: list[tuple[int, float]] = json.loads(out.decode().splitlines()[-1])
    return cpu / n * 1e6, [t - outbox.added_at[seq - 1] for seq, t in received]


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp))
        broker.start()
        try:
            per_reading = await throughput(broker.port, args.readings)
            print(f"throughput: CPU per published reading (publisher process): {per_reading:.1f} µs")
            for batch_s in (args.batch_s, 0.0):
                live_cpu, lat = await live(broker.port, args.rate, args.seconds, batch_s)
                q = statistics.quantiles(lat, n=100)
                how = f"in outbox batches every {batch_s} s" if batch_s else "one at a time"
                print(f"live at {args.rate:.0f}/s for {args.seconds:.0f} s, {how}:")
                print(f"  CPU per reading {live_cpu:.1f} µs (this process, including the producer's own wake-ups)")
                print(
                    f"  latency outbox -> subscriber: p50 {q[49] * 1e3:.2f} ms, p99 {q[98] * 1e3:.2f} ms, max {max(lat) * 1e3:.2f} ms ({len(lat)} readings)"
                )
        finally:
            broker.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readings", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch-s", type=float, default=0.5, help="outbox batch interval, as storage flushes (0.5 s)")
    asyncio.run(main(parser.parse_args()))

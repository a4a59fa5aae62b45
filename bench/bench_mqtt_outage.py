"""After a broker outage: how fast live vitals come back, how long the backlog drains, how honest the expiries are.

A heart-rate strap streams at 20 Hz throughout and an oximeter at 10 Hz during the outage only; the chain is real
(hub -> SQLite outbox -> publisher -> mosquitto with persistence -> a persistent-session subscriber). Prints:

- the time from the broker's return to the first live vital at the subscriber;
- how long the oximeter's backlog took to drain (paced at ``replay_rate_per_s``);
- readings not published live (past their life / overtaken by a live one: the history lane's) and delivered;
- the largest ``expiry - life left`` seen at the subscriber (mosquitto counts expiry in whole seconds).

    .venv/bin/python bench/bench_mqtt_outage.py [--outage 45] [--expiry 30] [--rate 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from roomctl.hub import Hub
from roomctl.models import Quantity, Reading
from roomctl.mqtt.publisher import MqttPublisher
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter
from tests.mqtt.broker import Broker
from tests.mqtt.helpers import ROOM, ROOT, mqtt_config
from tests.mqtt.subscriber import Subscriber


async def stream(hub: Hub, quantity: Quantity, device: str, hz: float) -> None:
    unit = "bpm" if quantity is Quantity.HEART_RATE else "%"
    while True:
        hub.publish(Reading(quantity=quantity, value=70, unit=unit, device=device, ts=datetime.now(UTC)))
        await asyncio.sleep(1 / hz)


def ts_of(body: dict[str, object]) -> float:
    return datetime.fromisoformat(str(body["ts"])).timestamp()


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp) / "broker", persistence=True)
        broker.start()
        dashboard = Subscriber(broker.port, (f"{ROOT}/vitals/#",), client_id="dashboard", persistent=True)
        await dashboard.wait_subscribed()
        hub = Hub()
        config = mqtt_config(broker.port, vitals_expiry_s=args.expiry, reconnect_max_s=0.5, keepalive_s=5,
                             replay_rate_per_s=args.rate)  # fmt: skip
        try:
            async with Store(Path(tmp) / "room.db") as store:
                writer = StorageWriter(store, hub, flush_interval_s=0.1)
                await writer.start()
                publisher = MqttPublisher(config, ROOM, store, hub)
                task = asyncio.create_task(publisher.run())
                strap = asyncio.create_task(stream(hub, Quantity.HEART_RATE, "strap", 20))
                await dashboard.wait_for(lambda ms: len(ms) >= 10)
                await asyncio.to_thread(broker.stop)
                oximeter = asyncio.create_task(stream(hub, Quantity.SPO2, "oxi", 10))
                await asyncio.sleep(args.outage)
                oximeter.cancel()
                await asyncio.to_thread(broker.start)
                returned = time.time()
                got = await dashboard.wait_for(
                    lambda ms: any(m.topic.endswith("/heart_rate") and ts_of(m.json()) >= returned for m in ms), 60
                )
                first_live = next(m for m in got if m.topic.endswith("/heart_rate") and ts_of(m.json()) >= returned)
                async with asyncio.timeout(120):
                    while await store.pending(0, 1):  # noqa: ASYNC110  (polling the database)
                        await asyncio.sleep(0.05)
                strap.cancel()
                await asyncio.sleep(1.0)
                got = dashboard.snapshot()
                backlog = [m for m in got if m.topic.endswith("/spo2")]
                worst = max(m.expiry - (ts_of(m.json()) + args.expiry - m.at) for m in got if m.expiry is not None)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await writer.stop()
        finally:
            dashboard.close()
            broker.stop()
    stats = publisher.stats
    print(f"outage {args.outage:.0f} s, vitals_expiry_s {args.expiry}, replay_rate_per_s {args.rate:g}")
    print(f"first live vital at the subscriber: {first_live.at - returned:.2f} s after the broker's return")
    if backlog:
        print(
            f"oximeter backlog: {len(backlog)} delivered, the last {backlog[-1].at - returned:.2f} s after the return"
        )
    print(
        f"not published live (history lane): {stats.expired} past their life, {stats.superseded} overtaken by live readings"
    )
    print(f"largest expiry minus life left at arrival: {worst:+.2f} s (whole-second rounding in mosquitto)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outage", type=float, default=45.0)
    parser.add_argument("--expiry", type=int, default=30)
    parser.add_argument("--rate", type=float, default=50.0)
    logging.getLogger("roomctl").setLevel(logging.ERROR)  # the outage's reconnect warnings are expected here
    asyncio.run(main(parser.parse_args()))

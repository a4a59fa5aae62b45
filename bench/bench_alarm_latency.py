"""How long from a reading to its alarm event, on the local API and on MQTT, beyond the condition delay.

Everything real, in one process: the daemon's own composition (hub, alarm engine, storage writer, local API server, MQTT
publisher, supervisor) on a temporary state folder, a mosquitto on a free loopback port, one local API client (the
screen's protocol) and one paho MQTT subscriber (its own thread). Readings are put into the hub where a wearable link
puts them, at a known monotonic time; each side notes the monotonic time its copy of the alarm event arrives.

Two paths, because an alarm begins in one of two ways:

* ``inline``: the reading that completes the condition raises the alarm inside the hub (here a rule with
  ``condition_delay_s = 0``, so the figure is all that is added beyond the delay);
* ``tick``: the condition delay elapses between readings (one crossing reading, then silence; ``condition_delay_s = 2``);
  the daemon's once-a-second tick raises it. The figure is the time after the delay ran out.

The MQTT path includes the storage writer's flush (at most 0.5 s: nothing is published that is not on disk first).

    .venv/bin/python bench/bench_alarm_latency.py                 # 100 inline + 20 tick trials, ~1 min
    .venv/bin/python bench/bench_alarm_latency.py --inline 300 --tick 40
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _pipeline_parts import Broker  # bench/ is sys.path[0] when run as a script

from roomctl.api.client import ApiClient
from roomctl.api.protocol import EventMessage
from roomctl.config import parse_config
from roomctl.daemon.app import Daemon
from roomctl.models import UNITS, AlarmAction, AlarmEvent, Quantity, Reading
from tests.builders import room_toml

ROOT = "roomctl/bench/latency"
DELAY_S = 2.0
BAR_S = 1.0
TIMEOUT_S = 30.0


def bench_room(port: int) -> str:
    return room_toml(
        site="bench",
        room="latency",
        name=None,
        rules=[
            {"quantity": "spo2", "low": 90, "priority": "high", "condition_delay_s": 0},
            {"quantity": "heart_rate", "high": 120, "condition_delay_s": DELAY_S},
        ],
        extra=f'[alarms]\nlatching = false\n\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
        'client_id = "roomctl-bench-latency"',
    )


class Arrivals:
    """Monotonic arrival time of each (condition, action) alarm event, per side; awaitable from the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.seen: dict[tuple[str, str, str], float] = {}
        self._changed = asyncio.Event()

    def note(self, side: str, condition: str, action: str, at: float) -> None:
        """Called on the loop (API) or from paho's thread (MQTT)."""
        self.loop.call_soon_threadsafe(self._record, (side, condition, action), at)

    def _record(self, key: tuple[str, str, str], at: float) -> None:
        self.seen.setdefault(key, at)
        self._changed.set()

    def forget(self) -> None:
        self.seen.clear()

    async def wait(self, keys: list[tuple[str, str, str]]) -> None:
        async with asyncio.timeout(TIMEOUT_S):
            while not all(k in self.seen for k in keys):
                self._changed.clear()
                await self._changed.wait()


def mqtt_subscriber(port: int, arrivals: Arrivals, ready: threading.Event) -> Any:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        at = time.monotonic()
        body = json.loads(msg.payload)
        arrivals.note("mqtt", body["condition"], body["action"], at)

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-latency-sub")
    client.on_message = on_message
    client.on_subscribe = lambda *_: ready.set()
    client.on_connect = lambda c, *_: c.subscribe(f"{ROOT}/alarms", qos=1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


async def api_reader(socket_path: Path, arrivals: Arrivals, connected: asyncio.Event) -> None:
    async for update in ApiClient(socket_path).updates():
        if isinstance(update, EventMessage):
            event = update.event
            if isinstance(event, AlarmEvent):
                arrivals.note("api", event.alarm.condition, event.action.value, time.monotonic())
        else:
            connected.set()


def reading(daemon: Daemon, quantity: Quantity, value: float, device: str) -> Reading:
    return Reading(quantity=quantity, value=value, unit=UNITS[quantity], device=device, ts=daemon.clock.now())


async def trials(
    daemon: Daemon,
    arrivals: Arrivals,
    n: int,
    quantity: Quantity,
    bad: float,
    good: float,
    condition: str,
    delay_s: float,
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"api": [], "mqtt": []}
    raised = AlarmAction.RAISED.value
    cleared = AlarmAction.CLEARED.value
    for _ in range(n):
        arrivals.forget()
        t0 = time.monotonic()
        daemon.hub.publish(reading(daemon, quantity, bad, "bench"))
        await arrivals.wait([("api", condition, raised), ("mqtt", condition, raised)])
        for side in out:
            out[side].append(arrivals.seen[(side, condition, raised)] - (t0 + delay_s))
        daemon.hub.publish(reading(daemon, quantity, good, "bench"))  # back inside: it clears (not latching)
        await arrivals.wait([("api", condition, cleared), ("mqtt", condition, cleared)])
    return out


def report(name: str, figures: dict[str, list[float]]) -> list[str]:
    lines = []
    for side, values in figures.items():
        ms = np.array(values) * 1000
        p50, p99 = np.percentile(ms, [50, 99])
        verdict = "within" if p99 <= BAR_S * 1000 else "OVER"
        lines.append(
            f"{name:6} {side:4}  n={len(ms):4}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {ms.max():7.1f} ms"
            f"  ({verdict} the {BAR_S:g} s bar)"
        )
    return lines


async def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR)  # a room with no wearables: the scanner's complaints are not the subject
    with tempfile.TemporaryDirectory(prefix="roomctl-bench-latency-") as tmp_name, Broker(Path(tmp_name)) as broker:
        tmp = Path(tmp_name)
        loop = asyncio.get_running_loop()
        arrivals = Arrivals(loop)
        subscribed = threading.Event()
        client = mqtt_subscriber(broker.port, arrivals, subscribed)
        daemon = Daemon(parse_config(bench_room(broker.port)), state_dir=tmp)
        run = asyncio.create_task(daemon.run())
        connected = asyncio.Event()
        reader: asyncio.Task[None] | None = None
        try:
            await asyncio.wait_for(daemon.ready.wait(), TIMEOUT_S)
            reader = asyncio.create_task(api_reader(tmp / "api.sock", arrivals, connected))
            await asyncio.wait_for(connected.wait(), TIMEOUT_S)
            await asyncio.wait_for(asyncio.to_thread(subscribed.wait, TIMEOUT_S), TIMEOUT_S + 1)
            inline = await trials(daemon, arrivals, args.inline, Quantity.SPO2, 80, 97, "spo2_low", 0.0)
            tick = await trials(daemon, arrivals, args.tick, Quantity.HEART_RATE, 130, 90, "heart_rate_high", DELAY_S)
        finally:
            if reader is not None:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
            daemon.request_stop()
            await run
            client.loop_stop()
            client.disconnect()
    print("reading -> alarm event, beyond the condition delay (monotonic clock, one process, loopback broker)")
    for line in report("inline", inline) + report("tick", tick):
        print(line)
    worst = max(np.percentile(np.array(v), 99) for f in (inline, tick) for v in f.values())
    return 0 if worst <= BAR_S or not args.strict else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inline", type=int, default=100, help="trials where the reading itself raises the alarm")
    parser.add_argument("--tick", type=int, default=20, help="trials where the delay elapses between readings")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a p99 is over the bar")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse_args())))

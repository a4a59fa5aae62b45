"""The pieces bench_pipeline.py runs: the emulated strap and the naive bridge (child processes), mosquitto, an MQTT
counter, and the /proc readings of a process's CPU, wake-ups and memory.

Run as a script it is one of the children: ``--emulator BUS`` (the strap; commands on stdin) or ``--naive PORT``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if TYPE_CHECKING:
    from roomctl.emulator import Emulator

ADDRESS = "C0:FF:EE:00:00:01"
HRM = "00002a37-0000-1000-8000-00805f9b34fb"
TICK = os.sysconf("SC_CLK_TCK")
NAIVE_TOPIC = "naive/strap"
ROOMCTL_ROOT = "roomctl/bench/pipeline"

# ---------------------------------------------------------------------------------------------- child: the emulator


async def strap_child(bus: str, send: Callable[[Emulator, list[str]], Awaitable[str]]) -> None:
    """The strap, silent unless told. Commands on stdin: ``wait`` (until subscribed), ``send ...`` (``send(emulator,
    words)`` sends and returns what to report), ``quit``."""
    from roomctl.emulator import Emulator, Scenario
    from roomctl.emulator.devices import HeartRateStrap

    scenario = Scenario(seed=1, artefact_chance=0.0)
    strap = HeartRateStrap(ADDRESS, "Bench Strap", scenario, interval_s=3600.0)  # silent unless we send
    async with Emulator([strap], scenario, bus_address=bus) as emu:
        _say("ready")
        while True:
            words = (await asyncio.to_thread(sys.stdin.readline)).split()
            if not words or words[0] == "quit":
                return
            if words[0] == "wait":
                while not emu.subscribed(ADDRESS, HRM):  # noqa: ASYNC110 (the emulator has no event for this)
                    await asyncio.sleep(0.05)
                _say("subscribed")
            elif words[0] == "send":
                _say(await send(emu, words[1:]))


async def emulator_child(bus: str, rate: float, rr: bool) -> None:
    """The strap for the pipeline: ``send N`` sends N notifications at ``rate``."""
    from roomctl.sensors.vendors import sig_heart_rate

    payloads = [
        sig_heart_rate.encode_heart_rate(bpm, [60.0 / bpm] if rr else (), contact=True) for bpm in range(68, 77)
    ]

    async def send(emu: Emulator, words: list[str]) -> str:
        sent, start = 0, time.monotonic()
        for i in range(int(words[0])):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent += emu.send(ADDRESS, HRM, payloads[i % len(payloads)])
        return f"sent {sent} {time.monotonic() - start:.3f}"

    await strap_child(bus, send)


# ---------------------------------------------------------------------------------------------- child: the naive bridge


async def naive_child(host: str, port: int, publish: bool) -> None:
    """bleak → decode → (paho QoS 1 publish per reading). Stdin closes or a line arrives: report the count and stop."""
    from datetime import UTC, datetime

    from bleak import BleakClient, BleakScanner

    from roomctl.sensors.vendors import DECODERS

    decode = DECODERS["heart_rate"]
    mqttc: Any = None
    if publish:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        mqttc = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="naive-bridge")
        mqttc.connect(host, port)
        mqttc.loop_start()
    notifications = 0

    def on_notify(_char: Any, data: bytearray) -> None:
        nonlocal notifications
        notifications += 1
        ts = datetime.now(UTC).isoformat()
        for m in decode(bytes(data)):
            if mqttc is None:
                continue
            for quantity, value in m.values.items():
                body = {"ts": ts, "value": value, "device": "strap", "quality": m.quality}
                mqttc.publish(f"{NAIVE_TOPIC}/{quantity}", json.dumps(body), qos=1)

    device = await BleakScanner.find_device_by_address(ADDRESS, timeout=30)
    if device is None:
        raise SystemExit("naive bridge: the emulated strap was not found")
    async with BleakClient(device) as client:
        await client.start_notify(HRM, on_notify)
        _say("subscribed")
        await asyncio.to_thread(sys.stdin.readline)
        _say(f"received {notifications}")
    if mqttc is not None:
        mqttc.loop_stop()
        mqttc.disconnect()


def _say(line: str) -> None:
    print(line, flush=True)


# ---------------------------------------------------------------------------------------------- harness pieces


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu(pid: int) -> tuple[float, float]:
    """(utime, stime) of the whole process (every thread, including finished ones), seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def proc_switches(pid: int) -> int:
    """Voluntary context switches of the live threads: about one per event-loop (or thread) wake-up."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        with contextlib.suppress(OSError):
            for line in status.read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    total += int(line.split()[1])
    return total


def proc_memory(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])


class Broker:
    """mosquitto on a free loopback port, config written here: ``user root``, no persistence."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\nuser root\npersistence false\n"
            "max_queued_messages 100000\nmax_inflight_messages 0\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Broker:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([exe, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return self
            time.sleep(0.05)
        raise SystemExit("mosquitto did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


class Counters:
    """An MQTT subscriber (paho, its own thread) counting messages per topic."""

    def __init__(self, port: int) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.counts: Counter[str] = Counter()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-counter")
        self.client.on_message = lambda _c, _u, msg: self.counts.update((msg.topic,))
        self.client.on_connect = lambda c, *_: c.subscribe([("naive/#", 1), (f"{ROOMCTL_ROOT}/#", 1)])
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Child:
    """A line-speaking child process (the emulator or the naive bridge)."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc, self.name = proc, name

    @classmethod
    async def start(cls, name: str, *args: str, env: dict[str, str]) -> Child:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, *args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        return cls(proc, name)

    async def say(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def expect(self, word: str, timeout_s: float = 60) -> list[str]:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout_s):
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    raise SystemExit(f"{self.name} exited before saying {word!r}")
                words = line.decode().split()
                if words and words[0] == word:
                    return words

    async def stop(self, line: str = "quit") -> None:
        with contextlib.suppress(ConnectionError):
            await self.say(line)
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


@contextlib.asynccontextmanager
async def roomctl_subscribed(
    emulator: Child, state: Path, env: dict[str, str], *, start_after_s: float = 0.0, within_s: float = 90.0
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``roomctl run`` on ``state/room.toml`` once the emulated strap is ready (and ``start_after_s`` more), until it
    has subscribed to the strap; stopped at the end (SIGTERM; SIGKILL after 30 s). Its log is ``state/daemon.log``,
    whose tail is printed on a failure."""
    log = (state / "daemon.log").open("wb")
    daemon: asyncio.subprocess.Process | None = None
    try:
        await emulator.expect("ready", timeout_s=within_s)
        await asyncio.sleep(start_after_s)
        daemon = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "roomctl", "run", "--config", str(state / "room.toml"),
            env=env, stdout=log, stderr=log, cwd=state,
        )  # fmt: skip
        await emulator.say("wait")
        await emulator.expect("subscribed", timeout_s=within_s)
        yield daemon
    except BaseException:
        log.flush()
        print((state / "daemon.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        if daemon is not None and daemon.returncode is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(daemon.wait(), 30)
            except TimeoutError:
                daemon.kill()
                await daemon.wait()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emulator", metavar="BUS")
    parser.add_argument("--naive", metavar="PORT", type=int)
    parser.add_argument("--no-publish", action="store_true")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--rr", action="store_true")
    args = parser.parse_args()
    if args.emulator:
        asyncio.run(emulator_child(args.emulator, args.rate, args.rr))
    elif args.naive:
        asyncio.run(naive_child("127.0.0.1", args.naive, not args.no_publish))
    else:
        parser.error("give --emulator BUS or --naive PORT")


if __name__ == "__main__":
    main()

"""Local API cost per reading: the daemon-side CPU (hub fan-out, JSON, socket write) with screens attached.

A client process reads the socket (as `roomctl tui` would, minus drawing); readings are published in bursts of 5
every 5 ms, the way wearables deliver them. Prints µs of daemon CPU per reading for 0, 1 and 2 clients.

    .venv/bin/python bench/bench_api.py [--readings 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from roomctl.api.server import ApiServer
from roomctl.commands import Command, CommandResult
from roomctl.config import demo_config_text, parse_config
from roomctl.daemon.room_info import room_info
from roomctl.hub import Hub
from roomctl.models import Quantity, Reading

READER = "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\nwhile s.recv(65536): pass"


class Ok:
    async def handle(self, command: Command, source: str) -> CommandResult:
        return CommandResult(ok=True)


async def run(clients: int, readings: int, sock: Path) -> float:
    hub = Hub()
    info = room_info(parse_config(demo_config_text()))
    async with ApiServer(hub, Ok(), info, sock) as server:
        procs = [await asyncio.create_subprocess_exec(sys.executable, "-c", READER, str(sock)) for _ in range(clients)]
        while server.client_count < clients:  # noqa: ASYNC110 - a benchmark waiting for its readers
            await asyncio.sleep(0.01)
        ts = datetime.now(UTC)
        start = time.process_time()
        for i in range(readings):
            hub.publish(Reading(quantity=Quantity.HEART_RATE, value=60 + i % 40, unit="bpm", device="strap", ts=ts))
            if i % 5 == 4:
                await asyncio.sleep(0.005)
        while any(len(s) for s in hub.subscriptions):  # noqa: ASYNC110 - until every client got everything
            await asyncio.sleep(0.001)
        used = time.process_time() - start
        idle_start = time.process_time()
        await asyncio.sleep(readings / 5 * 0.005)  # the same wall time with nothing published: the loop's own cost
        idle = time.process_time() - idle_start
        for p in procs:
            p.terminate()
            await p.wait()
    return (used - idle) / readings * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readings", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = 0.0
        for clients in (0, 1, 2):
            us = asyncio.run(run(clients, args.readings, Path(tmp) / f"api{clients}.sock"))
            base = base or us
            extra = f"  (the API's share: {us - base:5.1f} µs)" if clients else "  (making and publishing the reading)"
            print(f"{clients} client(s): {us:6.1f} µs daemon CPU per reading{extra}")


if __name__ == "__main__":
    main()

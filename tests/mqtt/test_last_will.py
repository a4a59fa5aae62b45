"""SIGKILL of the publishing process: the broker publishes its last will, so the retained status reads "offline"."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from tests.mqtt.broker import Broker
from tests.mqtt.helpers import ROOT
from tests.mqtt.subscriber import Subscriber

REPO = Path(__file__).resolve().parents[2]


async def test_sigkill_leaves_status_offline(broker: Broker, subscribers: list[Subscriber]) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.mqtt.child_publisher", str(broker.port), cwd=REPO, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 30)
        assert line == b"connected\n"
        watcher = Subscriber(broker.port, (f"{ROOT}/status",))
        subscribers.append(watcher)
        await watcher.wait_for(lambda ms: any(m.payload == b"online" for m in ms))
        child.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(child.wait(), 10) == -signal.SIGKILL
        # the broker notices the dead socket at once (the kernel closes it) and publishes the will
        got = await watcher.wait_for(lambda ms: ms[-1].payload == b"offline", within_s=30)
        assert got[-1].retain
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    late = Subscriber(broker.port, (f"{ROOT}/status",))
    subscribers.append(late)
    retained = await late.wait_for(lambda ms: len(ms) >= 1)
    assert (retained[0].payload, retained[0].retain) == (b"offline", True)

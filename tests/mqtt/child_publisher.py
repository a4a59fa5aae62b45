"""A publisher in its own process, for the SIGKILL test: ``python -m tests.mqtt.child_publisher PORT``.

Prints ``connected`` once the broker has accepted it, then runs until killed.
"""

from __future__ import annotations

import asyncio
import sys

from roomctl.hub import Hub
from roomctl.mqtt.publisher import MqttPublisher
from tests.mqtt.helpers import ROOM, mqtt_config
from tests.mqtt.memory_outbox import MemoryOutbox


async def main(port: int) -> None:
    publisher = MqttPublisher(mqtt_config(port, keepalive_s=5), ROOM, MemoryOutbox(), Hub())
    task = asyncio.create_task(publisher.run())
    await publisher.connected.wait()
    print("connected", flush=True)
    await task


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))

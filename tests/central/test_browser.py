"""The station in a real browser: Debian's headless Chromium loads the served page, the rooms render, an alarm appears.

What a person sees is read from screenshots (the terminal is drawn on a canvas) with OCR; the page's DOM says when
the first bytes arrived. Screenshots stay in the test's folder for a look.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from pathlib import Path

from roomctl.clock import SystemClock
from roomctl.config.mqtt import MqttConfig
from roomctl.loadgen.room import Rates, SimRoom
from tests.central.browser import Chromium
from tests.central.served import Served, central_config, central_serve_argv
from tests.mqtt.broker import Broker


async def tick(rooms: list[SimRoom], clock: SystemClock) -> None:
    while True:
        for room in rooms:
            room.tick(clock.now())
        await asyncio.sleep(1.0)  # the rooms' own 1 Hz


async def test_station_in_chromium_shows_rooms_then_an_alarm(
    tmp_path: Path, start_broker: Callable[..., Broker]
) -> None:
    broker = start_broker()
    clock = SystemClock()
    config = MqttConfig(enabled=True, host="127.0.0.1", port=broker.port)
    rooms = [
        SimRoom("harbor", name, config, clock, random.Random(i), Rates(0, 0, 0, 0))
        for i, name in enumerate(("ash", "birch", "willow"))
    ]
    publishers = []
    for room in rooms:
        room.start_session(clock.now())
        publishers.append(room.start_publisher())
    ticking = asyncio.create_task(tick(rooms, clock))
    server = Served(central_serve_argv(central_config(tmp_path, broker.port)), tmp_path)
    shots = tmp_path / "shots"
    shots.mkdir()
    try:
        await server.listening()
        async with Chromium(tmp_path / "profile") as browser:
            await browser.open(f"{server.url}/?fontsize=16")
            await browser.wait_for_class("-first-byte")  # the page got the app's first screen
            assert "-closed" not in await browser.evaluate("document.body.className")

            live = r"HR \d+ Sp[O0]+2 \d+"  # a live heart rate and SpO2, not "no data"
            calm = await browser.wait_for_text(
                ["Harbor clinic", "calm 3", "Room ash", "Room birch", "Room willow", rf"{live}.*{live}.*{live}"], shots
            )
            assert "no data" not in calm

            rooms[2].raise_alarm(clock.now(), hold=True)  # willow: SpO2 low, medium priority
            await browser.wait_for_text(
                [
                    r"ALARMING 1 \(1 medium\)",
                    r"Room willow +Room ash +Room birch",  # the alarming room comes first, on one row of tiles
                    r"\*\* Sp[O0]+2 [Ll]ow: \d+ % .*no alarms +no alarms",
                ],
                shots,
            )
            assert server.apps(), "one app process serves the page"
    finally:
        ticking.cancel()
        for publisher in publishers:
            publisher.cancel()
        await asyncio.gather(ticking, *publishers, return_exceptions=True)
        with contextlib.suppress(Exception):
            server.stop()

"""The shipped ACL (config/brokers/roomctl.acl) loaded into a real mosquitto: a room's credentials write only its own
site and room; the readers write nothing; the station sees only what the rooms may write."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from roomctl.central.state import Facility
from roomctl.central.subscriber import FeedReader
from roomctl.config.mqtt import BrokerConfig
from tests.central.credentials import ACL, NOT_AUTHORIZED, USERS, Publisher, accepted
from tests.mqtt.broker import Broker


async def test_a_room_writes_only_its_own_site_and_room(start_broker: Callable[..., Broker]) -> None:
    broker = start_broker(users=USERS, acl=ACL.read_text())
    willow = await asyncio.to_thread(Publisher, broker.port, "harbor-clinic/willow")
    try:
        own = ["roomctl/harbor-clinic/willow/status", "roomctl/harbor-clinic/willow/alarms/active"]
        own += ["roomctl/harbor-clinic/willow/devices/oximeter", "roomctl-bridge/harbor-clinic/willow"]
        for topic in own:
            assert accepted(await asyncio.to_thread(willow.reason, topic)), topic
        others = [
            "roomctl/harbor-clinic/oak/status",  # another room of its site
            "roomctl/other-site/willow/status",  # its own room id at another site: the old ACL allowed this
            "roomctl/fake-0001/willow/alarms/active",
            "roomctl/harbor-clinic/status",  # the site level
            "roomctl/harbor-clinic",
            "roomctl-bridge/harbor-clinic/oak",
            "roomctl-bridge/other-site/willow",
            "homeassistant/sensor/x/y/config",
            "elsewhere",
        ]
        for topic in others:
            assert await asyncio.to_thread(willow.reason, topic) == NOT_AUTHORIZED, topic
    finally:
        await asyncio.to_thread(willow.close)


async def test_readers_write_nothing_not_even_a_site_named_after_them(start_broker: Callable[..., Broker]) -> None:
    broker = start_broker(users=USERS, acl=ACL.read_text())
    for user in ("station", "dashboard", "region"):
        reader = await asyncio.to_thread(Publisher, broker.port, user)
        try:
            for topic in (
                f"roomctl/{user}/x/status",  # what the pattern alone would have let it write
                "roomctl/harbor-clinic/willow/status",
                f"roomctl-bridge/{user}/x",
                "roomctl-bridge/harbor-clinic/willow",
            ):
                assert await asyncio.to_thread(reader.reason, topic) == NOT_AUTHORIZED, (user, topic)
        finally:
            await asyncio.to_thread(reader.close)


async def test_the_station_sees_only_what_rooms_may_write(start_broker: Callable[..., Broker], tmp_path: Path) -> None:
    broker = start_broker(users=USERS, acl=ACL.read_text())
    credentials = tmp_path / "station-credentials"
    credentials.write_text("station\npw-station\n")
    willow = await asyncio.to_thread(Publisher, broker.port, "harbor-clinic/willow")
    site = await asyncio.to_thread(Publisher, broker.port, "harbor-clinic")
    try:
        for i in range(50):  # an attempt at fake rooms: every one refused, retained nowhere
            await asyncio.to_thread(willow.reason, f"roomctl/fake-{i:04d}/willow/status")
        assert accepted(await asyncio.to_thread(willow.reason, "roomctl/harbor-clinic/willow/status"))
        # a regional broker's facility bridge writes its own site's rooms, and no other site
        assert accepted(await asyncio.to_thread(site.reason, "roomctl/harbor-clinic/oak/status"))
        assert await asyncio.to_thread(site.reason, "roomctl/other-site/oak/status") == NOT_AUTHORIZED
        facility = Facility()
        changed = asyncio.Event()
        config = BrokerConfig(host="127.0.0.1", port=broker.port, credentials_file=credentials)
        reader = FeedReader(config, ("*",))
        task = asyncio.create_task(reader.run(facility, lambda key, urgent: changed.set()))
        try:
            async with asyncio.timeout(30):
                while len(facility.rooms) < 2 or not reader.status.connected:
                    changed.clear()
                    await changed.wait()
            # the retained state is all delivered on subscribing; a last look after the reader has it all
            assert accepted(await asyncio.to_thread(willow.reason, "roomctl/harbor-clinic/willow/status", b"offline"))
            async with asyncio.timeout(30):
                while facility.rooms[("harbor-clinic", "willow")].status != "offline":
                    changed.clear()
                    await changed.wait()
            assert set(facility.rooms) == {("harbor-clinic", "willow"), ("harbor-clinic", "oak")}
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await asyncio.to_thread(willow.close)
        await asyncio.to_thread(site.close)

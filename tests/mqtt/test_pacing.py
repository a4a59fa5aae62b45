"""Replay after an outage is paced (token bucket) and bounded in flight, so neither paho's RAM queue nor the broker floods."""

from __future__ import annotations

import asyncio
import time

import pytest

from roomctl.clock import FakeClock
from roomctl.hub import Hub
from roomctl.mqtt.pacing import TokenBucket
from tests.mqtt.broker import Broker
from tests.mqtt.conftest import Subscribe
from tests.mqtt.events import reading
from tests.mqtt.helpers import ROOT, mqtt_config, running
from tests.mqtt.memory_outbox import MemoryOutbox


def test_token_bucket_allows_a_one_second_burst_then_the_rate(clock: FakeClock) -> None:
    bucket = TokenBucket(10, clock)
    assert [bucket.take() for _ in range(10)] == [0.0] * 10
    assert bucket.take() == pytest.approx(0.1)  # the 11th waits one token's time
    clock.advance(0.1)
    assert bucket.take() == pytest.approx(0.1)  # still owed: one token came back, and it was the one already taken
    clock.advance(5)
    assert bucket.take() == 0.0


async def test_replay_is_paced_and_in_flight_is_capped(broker: Broker, subscribe: Subscribe, hub: Hub) -> None:
    sub = await subscribe(broker.port, (f"{ROOT}/vitals/#",))
    outbox = MemoryOutbox()
    backlog = [outbox.add(reading(i)).seq for i in range(50)]  # a backlog, as after an outage
    config = mqtt_config(broker.port, replay_rate_per_s=20, max_inflight=5)
    async with running(config, outbox, hub) as publisher:
        start = time.monotonic()
        got = await sub.wait_for(lambda ms: len(ms) >= 50)
        elapsed = time.monotonic() - start
        await asyncio.wait_for(outbox.wait_all_sent(), 20)
    assert [m.json()["seq"] for m in got] == backlog
    assert elapsed >= 1.3  # 20 at once (one second's burst), then 30 more at 20/s
    assert 1 <= publisher.stats.peak_inflight <= 5


async def test_live_rows_are_not_paced_only_the_backlog_is(broker: Broker, subscribe: Subscribe, hub: Hub) -> None:
    sub = await subscribe(broker.port, (f"{ROOT}/vitals/#",))
    outbox = MemoryOutbox()
    config = mqtt_config(broker.port, replay_rate_per_s=5, max_inflight=20)
    async with running(config, outbox, hub) as publisher:
        await asyncio.wait_for(publisher.connected.wait(), 20)
        start = time.monotonic()
        added = [outbox.add(reading(i)).seq for i in range(60)]  # live: written after the connection was made
        got = await sub.wait_for(lambda ms: len(ms) >= 60)
        elapsed = time.monotonic() - start
    assert [m.json()["seq"] for m in got] == added
    assert elapsed < 8  # paced at 5/s these would take 11 s; live rows go out as they come

"""A facility's feed for ``bench_central.py``, cheap enough to run 1,000 rooms beside the station on a shared 2-core
machine (``roomctl loadgen`` runs each room's real publisher and outbox: ~0.23 % of a core per room, too much here).

Every payload is made by the project's encoder (:class:`tests.central.script.RoomScript`, the bytes a room's
publisher sends); a room's five vitals a second (HR, RR intervals, SpO2, pulse rate, perfusion index) reuse each
encoded reading with its ``ts``, ``value`` and ``seq`` filled in anew. One MQTT v5 connection sends every room's
messages at QoS 0 (vitals with their message expiry), batched per 100 ms slot; retained state (status, info, session,
devices, alarms/active) is retained. Alarms are raised at random (a third high), each cleared 20-60 s later; each is
logged ("id priority time") just before it is sent.

Floods (the attacks of issue 21): ``--flood-devices N`` retained device topics in one room's tree,
``--flood-rooms N`` fake rooms (site ``flood``) each with a retained high alarm "raised" in 2035,
``--flood-big N`` messages of 1 MB.

    python bench/_facility_feed.py --port P --rooms 1000 --duration 90 [--alarm-every 600] [--alarm-log FILE]
"""

from __future__ import annotations

import argparse
import random
import re
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from roomctl.models import AlarmAction, DeviceState, LinkState, Priority, Quantity, Reading, RRIntervals, iso_ms
from roomctl.mqtt.room_client import remaining_length
from tests.central.script import Message, RoomScript

SITE = "loadgen"
SLOTS = 10  # per second


def _string(text: bytes) -> bytes:
    return len(text).to_bytes(2, "big") + text


class RawPublisher:
    """MQTT v5 QoS 0 over one socket: CONNECT, then PUBLISH packets written in batches (no keepalive, nothing read
    after the CONNACK)."""

    def __init__(self, port: int, client_id: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        body = _string(b"MQTT") + bytes([5, 0x02]) + (0).to_bytes(2, "big") + b"\x00" + _string(client_id.encode())
        self.sock.sendall(b"\x10" + remaining_length(len(body)) + body)
        connack = self.sock.recv(64)
        if len(connack) < 4 or connack[0] != 0x20 or connack[3] != 0:
            raise RuntimeError(f"the broker refused the connection: {connack!r}")

    @staticmethod
    def packet(topic: str, payload: bytes, *, retain: bool, expiry: float | None) -> bytes:
        props = b"\x05\x02" + int(expiry).to_bytes(4, "big") if expiry else b"\x00"
        body = _string(topic.encode()) + props + payload
        return bytes([0x30 | int(retain)]) + remaining_length(len(body)) + body

    def send(self, packets: list[bytes]) -> None:
        if packets:
            self.sock.sendall(b"".join(packets))

    def close(self) -> None:
        self.sock.sendall(b"\xe0\x00")
        self.sock.close()


def retained(topic: str) -> bool:
    return "/vitals/" not in topic and not topic.endswith("/alarms")


def packets(messages: list[Message]) -> list[bytes]:
    return [RawPublisher.packet(t, p, retain=retained(t), expiry=e) for t, p, e in messages]


def template(message: Message) -> tuple[bytes, str, float | None]:
    """(topic prefix of a PUBLISH, payload with {ts}, {value}, {seq} to fill, expiry)."""
    topic, payload, expiry = message
    text = payload.decode().replace("{", "{{").replace("}", "}}")
    text = re.sub(r'"ts":"[^"]*"', '"ts":"{ts}"', text)
    text = re.sub(r'"value":[-0-9.eE]+', '"value":{value}', text)
    text = re.sub(r'"seq":\d+', '"seq":{seq}', text)
    return topic.encode(), text, expiry


class Room:
    def __init__(self, site: str, name: str, rng: random.Random, now: datetime) -> None:
        self.script = RoomScript(site, name, f"Room {name.rsplit('-', 1)[-1].lstrip('0')}")
        self.rng = rng
        self.slot = rng.randrange(SLOTS)
        self.start = self.script.online(now)
        s = self.script
        vitals = [
            s.record(Reading(quantity=Quantity.HEART_RATE, value=80, unit="bpm", device="chest-strap", ts=now)),
            s.record(RRIntervals(device="chest-strap", ts=now, intervals=(0.75,))),
            s.record(Reading(quantity=Quantity.SPO2, value=97, unit="%", device="oximeter", ts=now)),
            s.record(Reading(quantity=Quantity.PULSE_RATE, value=80, unit="bpm", device="oximeter", ts=now)),
            s.record(Reading(quantity=Quantity.PERFUSION_INDEX, value=3, unit="%", device="oximeter", ts=now)),
        ]
        self.vitals = [template(m[0]) for m in vitals]
        self.base = (80.0, 0.0, 97.0, 80.0, 3.0)
        self.alarm_at = float("inf")
        self.clear_at = float("inf")
        self.alarms = 0

    def tick(self, now: datetime) -> list[bytes]:
        ts = iso_ms(now)
        out = []
        for (topic, text, expiry), base in zip(self.vitals, self.base, strict=True):
            self.script.seq += 1
            value = base + self.rng.randint(-3, 3) if base else 0.75
            payload = text.format(ts=ts, value=value, seq=self.script.seq).encode()
            out.append(RawPublisher.packet(topic.decode(), payload, retain=False, expiry=expiry))
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=90.0)
    parser.add_argument("--alarm-every", type=float, default=600.0)
    parser.add_argument("--alarm-log", type=Path)
    parser.add_argument("--flood-devices", type=int, default=0)
    parser.add_argument("--flood-rooms", type=int, default=0)
    parser.add_argument("--flood-big", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    rooms = [Room(SITE, f"room-{i + 1:04d}", random.Random(rng.random()), now) for i in range(args.rooms)]
    pub = RawPublisher(args.port, "bench-facility-feed")
    log = args.alarm_log.open("a", encoding="utf-8") if args.alarm_log else None
    for room in rooms:
        pub.send(packets(room.start))
        room.alarm_at = (
            time.monotonic() + rng.expovariate(1 / args.alarm_every) if args.alarm_every > 0 else room.alarm_at
        )
    flood(pub, rooms[0] if rooms else None, args, now)
    sent, begin = 0, time.monotonic()
    next_slot = begin
    slot = 0
    while time.monotonic() - begin < args.duration:
        next_slot += 1 / SLOTS
        delay = next_slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        now, mono = datetime.now(UTC), time.monotonic()
        batch: list[bytes] = []
        for room in rooms:
            if room.slot == slot:
                batch += room.tick(now)
            if mono >= room.alarm_at:
                room.alarms += 1
                priority = Priority.HIGH if rng.random() < 1 / 3 else Priority.MEDIUM
                messages = room.script.alarm(AlarmAction.RAISED, now, priority=priority, alarm_id=f"a{room.alarms}")
                if log is not None:
                    log.write(f"{room.script.room}-a{room.alarms} {priority.value} {time.time():.6f}\n")
                    log.flush()
                batch += packets(messages)
                room.alarm_at, room.clear_at = float("inf"), mono + rng.uniform(20, 60)
            elif mono >= room.clear_at:
                batch += packets(room.script.alarm(AlarmAction.CLEARED, now, alarm_id=f"a{room.alarms}"))
                room.clear_at, room.alarm_at = float("inf"), mono + rng.expovariate(1 / args.alarm_every)
        pub.send(batch)
        sent += len(batch)
        slot = (slot + 1) % SLOTS
    pub.close()
    elapsed = time.monotonic() - begin
    print(f"facility feed: {args.rooms} rooms, {sent} messages in {elapsed:.0f} s ({sent / elapsed:.0f}/s)")
    return 0


def flood(pub: RawPublisher, victim: Room | None, args: argparse.Namespace, now: datetime) -> None:
    if victim is not None and args.flood_devices:
        script = victim.script
        for i in range(0, args.flood_devices, 1000):
            batch = []
            for j in range(i, min(i + 1000, args.flood_devices)):
                batch += script.record(DeviceState(device=f"flood-{j:05d}", profile="plx", state=LinkState.CONNECTED))
            pub.send(packets(batch))
    future = datetime(2035, 1, 1, tzinfo=UTC)
    for i in range(args.flood_rooms):
        fake = RoomScript("flood", f"fake-{i + 1:04d}", f"Fake {i + 1}")
        pub.send(packets(fake.online(now) + fake.alarm(AlarmAction.RAISED, future, priority=Priority.HIGH)))
    if victim is not None:
        for _ in range(args.flood_big):
            pub.send(packets([(victim.script.topics.info, b"{" + b" " * 1_000_000 + b"}", None)]))


if __name__ == "__main__":
    raise SystemExit(main())

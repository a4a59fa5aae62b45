"""Rooms and readers with their own broker credentials, under the shipped ACL (config/brokers/roomctl.acl)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ACL = Path(__file__).resolve().parents[2] / "config" / "brokers" / "roomctl.acl"
USERS = {
    "harbor-clinic/willow": "pw-willow",
    "harbor-clinic/oak": "pw-oak",
    "harbor-clinic": "pw-site",  # a regional broker's facility bridge (regional-bridge.conf)
    "station": "pw-station",
    "dashboard": "pw-dashboard",
    "region": "pw-region",
}
NOT_AUTHORIZED = 135


class Publisher:
    """A plain paho MQTT v5 client with one user's credentials, noting each PUBACK's reason code."""

    def __init__(self, port: int, user: str) -> None:
        self.acks: dict[int, int] = {}
        self._done = threading.Condition()
        client_id = f"acl-{user.replace('/', '-')}"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(user, USERS[user])
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, rc: Any, props: Any) -> None:
        with self._done:
            self.acks[mid] = rc.value
            self._done.notify_all()

    def reason(self, topic: str, payload: bytes = b"online", retain: bool = True) -> int:
        """Publish at QoS 1 and wait for the broker's PUBACK: its reason code (0 or 16 accepted, 135 refused)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        with self._done:
            assert self._done.wait_for(lambda: info.mid in self.acks, timeout=30), f"no PUBACK for {topic}"
            return self.acks[info.mid]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def accepted(code: int) -> bool:
    return code in (0, 16)  # success, or success with no subscribers

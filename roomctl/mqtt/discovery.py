"""Home Assistant MQTT discovery (opt-in): sensors announced as ``<prefix>/sensor/<node>/<object>/config``.

A vital's sensor is announced the first time that quantity is published; a wearable's link sensor the first time its
state is. Every sensor is unavailable while ``status`` is ``offline``; vitals also expire after ``vitals_expiry_s``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from roomctl import __version__
from roomctl.config.mqtt import MqttConfig
from roomctl.config.room import RoomSection
from roomctl.mqtt.topics import Topics, dumps, topic_safe


@dataclass(frozen=True, slots=True)
class HaSensor:
    name: str
    unit: str | None
    device_class: str | None = None
    icon: str | None = None


HA_SENSORS: dict[str, HaSensor] = {
    "heart_rate": HaSensor("Heart rate", "bpm", icon="mdi:heart-pulse"),
    "spo2": HaSensor("SpO2", "%", icon="mdi:water-percent"),
    "pulse_rate": HaSensor("Pulse rate", "bpm", icon="mdi:pulse"),
    "perfusion_index": HaSensor("Perfusion index", "%", icon="mdi:waveform"),
    "spo2_fast": HaSensor("SpO2 (fast)", "%", icon="mdi:water-percent"),
    "pulse_rate_fast": HaSensor("Pulse rate (fast)", "bpm", icon="mdi:pulse"),
    "spo2_slow": HaSensor("SpO2 (slow)", "%", icon="mdi:water-percent"),
    "pulse_rate_slow": HaSensor("Pulse rate (slow)", "bpm", icon="mdi:pulse"),
    "temperature": HaSensor("Temperature", "°C", device_class="temperature"),
    "systolic": HaSensor("Systolic pressure", "mmHg", device_class="pressure"),
    "diastolic": HaSensor("Diastolic pressure", "mmHg", device_class="pressure"),
    "mean_arterial_pressure": HaSensor("Mean arterial pressure", "mmHg", device_class="pressure"),
    "energy_expended": HaSensor("Energy expended", "kJ", device_class="energy"),
    "battery": HaSensor("Battery", "%", device_class="battery"),
}


class Discovery:
    def __init__(self, config: MqttConfig, room: RoomSection, topics: Topics) -> None:
        self._config = config
        self._topics = topics
        self.node = topic_safe(f"roomctl_{room.site}_{room.room}")
        self._device = {
            "identifiers": [self.node],
            "name": f"roomctl {room.name or room.room} ({room.site})",
            "manufacturer": "roomctl",
            "model": "room controller (not a medical device)",
            "sw_version": __version__,
        }

    def _config_message(self, object_id: str, body: dict[str, Any]) -> tuple[str, bytes]:
        topic = f"{self._config.ha_discovery_prefix}/sensor/{self.node}/{object_id}/config"
        body = {
            "unique_id": f"{self.node}_{object_id}",
            # (object_id is deprecated since HA 2025.10; entity ids allow only a-z, 0-9 and _)
            "default_entity_id": f"sensor.{self.node}_{object_id}".lower().replace("-", "_"),
            "availability_topic": self._topics.status,
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": self._device,
        } | body
        return topic, dumps(body)

    def vital(self, quantity: str) -> tuple[str, bytes] | None:
        sensor = HA_SENSORS.get(quantity)
        if sensor is None:
            return None  # rr_intervals and anything without one number
        body: dict[str, Any] = {
            "name": sensor.name,
            "state_topic": self._topics.vital(quantity),
            "value_template": "{{ value_json.value }}",
            "unit_of_measurement": sensor.unit,
            "state_class": "measurement",
            "expire_after": self._config.vitals_expiry_s,
        }
        if sensor.device_class:
            body["device_class"] = sensor.device_class
        if sensor.icon:
            body["icon"] = sensor.icon
        return self._config_message(quantity, body)

    def device(self, device: str) -> tuple[str, bytes]:
        return self._config_message(
            f"device_{topic_safe(device)}",
            {
                "name": f"Wearable {device}",
                "state_topic": self._topics.device(device),
                "value_template": "{{ value_json.state }}",
                "icon": "mdi:bluetooth",
            },
        )

    def room(self) -> list[tuple[str, bytes]]:
        """The room's own entities (announced on every connect)."""
        return [self.active_alarms()]

    def active_alarms(self) -> tuple[str, bytes]:
        return self._config_message(
            "active_alarms",
            {
                "name": "Active alarms",
                "state_topic": self._topics.alarms_active,
                "value_template": "{{ value_json.alarms | length }}",
                "icon": "mdi:alarm-light",
            },
        )

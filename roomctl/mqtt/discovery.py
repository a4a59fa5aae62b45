"""Home Assistant MQTT discovery (opt-in): ``<prefix>/<component>/<node>/<object>/config``, retained.

What a Home Assistant user would otherwise write by hand, checked against Home Assistant's own rules (the device class
↔ unit ↔ state class tables of ``homeassistant/components/sensor/const.py`` and the MQTT sensor's
``validate_sensor_state_and_device_class_config``; see ``tests/mqtt/test_discovery.py``):

- the room (announced on every connect): *any alarm* (binary sensor, ``problem``), the highest alarm priority (``enum``)
  with its text (attribute ``message``, and a text sensor), the number of active alarms, the session's kind (``enum``),
  phase and last dose (``timestamp``: Home Assistant shows the time since), and the light scene;
- one sensor per vital quantity, the first time it is published; heart rate, SpO2 and blood pressure carry no device
  class (``pressure`` would be converted to inHg on a US-unit install; bpm and % have none), ``energy_expended`` is an
  ``energy`` counter (``total_increasing``);
- per wearable, from ``devices/<id>``: connectivity (binary sensor), battery (``battery``, %), and its link state;
- a room with music: the title playing (artist, playlist, state and volume as attributes), from ``music``, the first
  time a music state is published.

Every entity is unavailable while ``status`` is ``offline`` (``availability_topic``), subscribes with QoS 1, and names
roomctl as its ``origin``. Vitals also set ``expire_after = vitals_expiry_s``.
"""

from __future__ import annotations

from typing import Any

from roomctl import __version__
from roomctl.config.mqtt import MqttConfig
from roomctl.config.room import RoomSection
from roomctl.mqtt.feed import BY_NAME, Topics, dumps, topic_safe
from roomctl.quantities import DESCRIPTIONS, VitalDescription

HA_SENSORS: dict[str, VitalDescription] = {q: d for q, d in DESCRIPTIONS.items() if d.home_assistant}
"""Vitals with a sensor. ``battery`` has none here: each wearable's battery is its own entity, from ``devices/<id>``."""

PRIORITIES = ("none", "low", "medium", "high")
SESSION_KINDS = ("none", "preparation", "dosing", "integration")
LINK_STATES = ("connecting", "connected", "stale", "disconnected")

_TOP_ALARMS = (
    "{% set a = value_json.alarms %}"
    "{% set top = (a | selectattr('priority', 'eq', 'high') | list)"
    " + (a | selectattr('priority', 'eq', 'medium') | list)"
    " + (a | selectattr('priority', 'eq', 'low') | list) %}"
)
HIGHEST_PRIORITY = _TOP_ALARMS + "{{ top[0].priority if top else 'none' }}"
HIGHEST_MESSAGE = _TOP_ALARMS + "{{ (top[0].message if top else 'No alarm')[:255] }}"
HIGHEST_ATTRIBUTES = _TOP_ALARMS + "{{ {'message': top[0].message if top else None, 'count': a | length} | tojson }}"

Config = tuple[str, bytes]  # (discovery topic, retained payload)


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
        self._origin = {"name": "roomctl", "sw_version": __version__}

    def _config_message(self, component: str, object_id: str, body: dict[str, Any]) -> Config:
        topic = f"{self._config.ha_discovery_prefix}/{component}/{self.node}/{object_id}/config"
        entity = f"{self.node}_{object_id}".lower().replace("-", "_")  # entity ids allow only a-z, 0-9 and _
        body = {
            "unique_id": f"{self.node}_{object_id}",
            # The entity id, as each supported Home Assistant reads it: `object_id` up to 2025.9 (deprecated in
            # 2025.10, ignored from 2026.4), `default_entity_id` from 2025.10 (unknown keys are dropped before).
            "object_id": entity,
            "default_entity_id": f"{component}.{entity}",
            "availability_topic": self._topics.status,
            "payload_available": "online",
            "payload_not_available": "offline",
            "qos": 1,
            "device": self._device,
            "origin": self._origin,
        } | body
        return topic, dumps(body)

    # ------------------------------------------------------------------ the room
    def room(self) -> list[Config]:
        """The room's own entities (announced on every connect)."""
        active, session, lighting = self._topics.alarms_active, self._topics.session, self._topics.lighting
        return [
            self._config_message(
                "binary_sensor",
                "any_alarm",
                {
                    "name": "Any alarm",
                    "state_topic": active,
                    "value_template": "{{ 'ON' if value_json.alarms | length > 0 else 'OFF' }}",
                    "device_class": "problem",
                },
            ),
            self._config_message(
                "binary_sensor",
                "vitals_arriving",
                {
                    # Every vital topic: on while any reading arrives, unavailable once none came for a vital's
                    # life. Unavailable while the room is online and a wearable connected: the room stopped
                    # publishing (a hung daemon keeps its `status` online until the broker's keepalive ends).
                    "name": "Vitals arriving",
                    "state_topic": self._topics.every(BY_NAME["vital"]),
                    "value_template": "{{ 'ON' }}",
                    "device_class": "connectivity",
                    "expire_after": self._config.vitals_expiry_s,
                },
            ),
            self._config_message(
                "sensor",
                "alarm_priority",
                {
                    "name": "Highest alarm priority",
                    "state_topic": active,
                    "value_template": HIGHEST_PRIORITY,
                    "device_class": "enum",
                    "options": list(PRIORITIES),
                    "json_attributes_topic": active,
                    "json_attributes_template": HIGHEST_ATTRIBUTES,
                    "icon": "mdi:alarm-light",
                },
            ),
            self._config_message(
                "sensor",
                "alarm_message",
                {
                    "name": "Highest alarm",
                    "state_topic": active,
                    "value_template": HIGHEST_MESSAGE,
                    "icon": "mdi:alarm-light-outline",
                },
            ),
            self._config_message(
                "sensor",
                "active_alarms",
                {
                    "name": "Active alarms",
                    "state_topic": active,
                    "value_template": "{{ value_json.alarms | length }}",
                    "state_class": "measurement",
                    "icon": "mdi:alarm-light",
                },
            ),
            self._config_message(
                "sensor",
                "session_kind",
                {
                    "name": "Session kind",
                    "state_topic": session,
                    "value_template": "{{ value_json.kind or 'none' }}",
                    "device_class": "enum",
                    "options": list(SESSION_KINDS),
                    "icon": "mdi:account-clock",
                },
            ),
            self._config_message(
                "sensor",
                "session_phase",
                {
                    "name": "Session phase",
                    "state_topic": session,
                    "value_template": "{{ value_json.phase or 'none' }}",
                    "icon": "mdi:timeline-clock",
                },
            ),
            self._config_message(
                "sensor",
                "last_dose",
                {
                    "name": "Last dose",
                    "state_topic": session,
                    # "None" is Home Assistant's empty state (PAYLOAD_NONE): unknown before the first dose
                    "value_template": "{{ value_json.dose_times[-1] if value_json.dose_times else 'None' }}",
                    "device_class": "timestamp",
                    "icon": "mdi:pill",
                },
            ),
            self._config_message(
                "sensor",
                "light_scene",
                {
                    "name": "Light scene",
                    "state_topic": lighting,
                    "value_template": "{{ value_json.scene or 'none' }}",
                    "json_attributes_topic": lighting,
                    "json_attributes_template": "{{ {'reason': value_json.reason, 'levels': value_json.levels} | tojson }}",
                    "icon": "mdi:lightbulb-group",
                },
            ),
        ]

    def music(self) -> list[Config]:
        """The room's music (when it has music): the title playing, with the artist, playlist, state and volume."""
        music = self._topics.music
        return [
            self._config_message(
                "sensor",
                "music_title",
                {
                    "name": "Music title",
                    "state_topic": music,
                    # "None" is Home Assistant's empty state: unknown while nothing plays
                    "value_template": "{{ (value_json.title or 'None')[:255] if value_json.state == 'play' else 'None' }}",
                    "json_attributes_topic": music,
                    "json_attributes_template": "{{ {'artist': value_json.artist, 'playlist': value_json.playlist,"
                    " 'state': value_json.state, 'volume': value_json.volume} | tojson }}",
                    "icon": "mdi:music",
                },
            )
        ]

    # ------------------------------------------------------------------ vitals and wearables
    def vital(self, quantity: str) -> list[Config]:
        vital = HA_SENSORS.get(quantity)
        if vital is None or vital.home_assistant is None:
            return []  # rr_intervals (a list), battery (per wearable, below)
        sensor = vital.home_assistant
        body: dict[str, Any] = {
            "name": vital.name,
            "state_topic": self._topics.vital(quantity),
            "value_template": "{{ value_json.value }}",
            "unit_of_measurement": vital.unit,
            "state_class": sensor.state_class,
            "suggested_display_precision": vital.decimals,  # "72 bpm", not "72.0 bpm"
            "expire_after": self._config.vitals_expiry_s,
            "json_attributes_topic": self._topics.vital(quantity),
            "json_attributes_template": "{{ {'quality': value_json.quality, 'device': value_json.device,"
            " 'ts': value_json.ts} | tojson }}",
        }
        if sensor.device_class:
            body["device_class"] = sensor.device_class
        if sensor.icon:
            body["icon"] = sensor.icon
        return [self._config_message("sensor", quantity, body)]

    def device(self, device: str) -> list[Config]:
        """One wearable: its connectivity, its battery and its link state, all from ``devices/<id>``."""
        topic, slug = self._topics.device(device), topic_safe(device)
        return [
            self._config_message(
                "binary_sensor",
                f"{slug}_connected",
                {
                    "name": f"Wearable {device} connected",
                    "state_topic": topic,
                    "value_template": "{{ 'ON' if value_json.available else 'OFF' }}",
                    "device_class": "connectivity",
                },
            ),
            self._config_message(
                "sensor",
                f"{slug}_battery",
                {
                    "name": f"Wearable {device} battery",
                    "state_topic": topic,
                    "value_template": "{{ value_json.battery }}",
                    "unit_of_measurement": "%",
                    "device_class": "battery",
                    "state_class": "measurement",
                },
            ),
            self._config_message(
                "sensor",
                f"device_{slug}",
                {
                    "name": f"Wearable {device}",
                    "state_topic": topic,
                    "value_template": "{{ value_json.state }}",
                    "device_class": "enum",
                    "options": list(LINK_STATES),
                    "icon": "mdi:bluetooth",
                },
            ),
        ]

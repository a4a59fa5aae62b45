"""Every Home Assistant discovery config roomctl publishes, checked against Home Assistant's own rules.

The rules are quoted from home-assistant/core (read at commit 00eb6680fbf6bdf7af2499095f2e74fca980a148):

- ``homeassistant/components/sensor/const.py``: ``DEVICE_CLASS_UNITS`` (which units a device class accepts),
  ``DEVICE_CLASS_STATE_CLASSES`` (which state classes it accepts; an empty set: none), ``NON_NUMERIC_DEVICE_CLASSES``;
- ``homeassistant/components/mqtt/sensor.py``, ``validate_sensor_state_and_device_class_config``: "An empty options
  list is not allowed"; "Specifying `options` is not allowed together with the `state_class` or
  `unit_of_measurement` option"; "The option `options` must be used together with device class `enum`";
- ``homeassistant/components/mqtt/schemas.py``: ``MQTT_ORIGIN_INFO_SCHEMA`` (``vol.Required(CONF_NAME)``);
- ``homeassistant/components/binary_sensor/__init__.py``: ``BinarySensorDeviceClass`` (``CONNECTIVITY``: "On means
  connected, Off means disconnected"; ``PROBLEM``: "On means problem detected, Off means no problem (OK)").

Only the rows for the device classes roomctl uses are copied; a device class outside them fails the test (check it in
the source, then add its row). Each value template is also rendered (Jinja, as Home Assistant does, with
``value_json``) against the message roomctl really published on its state topic.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from typing import Any

import jinja2

from roomctl.hub import Hub
from roomctl.models import (
    AlarmAction,
    DeviceState,
    LightingState,
    LinkState,
    MusicPlay,
    MusicState,
    Quantity,
    Reading,
    SessionKind,
    SessionState,
)
from tests.mqtt.broker import Broker
from tests.mqtt.conftest import Subscribe
from tests.mqtt.events import alarm, one_of_each
from tests.mqtt.helpers import ROOT, mqtt_config, running
from tests.mqtt.memory_outbox import MemoryOutbox

UNIT_OF_ENERGY = {"J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal", "Mcal", "Gcal"}
DEVICE_CLASS_UNITS: dict[str, set[str | None]] = {
    "battery": {"%"},  # SensorDeviceClass.BATTERY: {PERCENTAGE}
    "temperature": {"°C", "°F", "K"},  # SensorDeviceClass.TEMPERATURE: set(UnitOfTemperature)
    "energy": set(UNIT_OF_ENERGY),  # SensorDeviceClass.ENERGY: set(UnitOfEnergy)
}
DEVICE_CLASS_STATE_CLASSES: dict[str, set[str]] = {
    "battery": {"measurement"},  # SensorDeviceClass.BATTERY: {SensorStateClass.MEASUREMENT}
    "temperature": {"measurement"},  # SensorDeviceClass.TEMPERATURE: {SensorStateClass.MEASUREMENT}
    "energy": {"total", "total_increasing"},  # SensorDeviceClass.ENERGY: {TOTAL, TOTAL_INCREASING}
    "enum": set(),  # SensorDeviceClass.ENUM: set()
    "timestamp": set(),  # SensorDeviceClass.TIMESTAMP: set()
}
NON_NUMERIC_DEVICE_CLASSES = {"date", "enum", "timestamp"}
STATE_CLASSES = {"measurement", "total", "total_increasing"}  # SensorStateClass
BINARY_SENSOR_DEVICE_CLASSES = {"connectivity", "problem"}  # rows of BinarySensorDeviceClass roomctl uses
PAYLOAD_NONE = "None"  # homeassistant/components/mqtt/const.py: a rendered "None" makes the state unknown

TEMPLATES = jinja2.Environment(autoescape=False)


def render(template: str, payload: bytes) -> str:
    return TEMPLATES.from_string(template).render(value_json=json.loads(payload))


def check_sensor(topic: str, c: dict[str, Any]) -> None:
    dc, unit, sc = c.get("device_class"), c.get("unit_of_measurement"), c.get("state_class")
    if sc is not None:
        assert sc in STATE_CLASSES, (topic, sc)
    if dc is not None:
        assert dc in DEVICE_CLASS_STATE_CLASSES, f"{topic}: device class {dc} not checked against the HA source"
        if dc in DEVICE_CLASS_UNITS:
            assert unit in DEVICE_CLASS_UNITS[dc], (topic, dc, unit)
        if sc is not None:
            assert sc in DEVICE_CLASS_STATE_CLASSES[dc], f"{topic}: state class {sc} impossible for {dc}"
        if dc in NON_NUMERIC_DEVICE_CLASSES:
            assert unit is None, (topic, "a non-numeric device class has no unit")
            assert sc is None, (topic, "a non-numeric device class has no state class")
    if (options := c.get("options")) is not None:
        assert options, "An empty options list is not allowed"
        assert sc is None, (topic, "options not allowed together with state_class")
        assert unit is None, (topic, "options not allowed together with unit_of_measurement")
        assert dc == "enum", (topic, "options must be used together with device class enum")
    if "expire_after" in c:
        assert isinstance(c["expire_after"], int), topic
        assert c["expire_after"] > 0, topic


def check_common(topic: str, c: dict[str, Any], component: str) -> None:
    assert topic == f"homeassistant/{component}/roomctl_clinic_willow/{topic.split('/')[3]}/config"
    assert re.fullmatch(r"[a-zA-Z0-9_-]+", topic.split("/")[3]), topic  # discovery's TOPIC_MATCHER object_id
    assert c["availability_topic"] == f"{ROOT}/status"
    assert (c["payload_available"], c["payload_not_available"]) == ("online", "offline")
    assert c["qos"] == 1
    assert c["origin"]["name"] == "roomctl"  # MQTT_ORIGIN_INFO_SCHEMA: vol.Required(CONF_NAME)
    assert c["device"]["identifiers"] == ["roomctl_clinic_willow"]
    assert re.fullmatch(rf"{component}\.[a-z0-9_]+", c["default_entity_id"]), c["default_entity_id"]
    # Home Assistant up to 2025.9 names the entity from object_id, from 2025.10 from default_entity_id: the same id
    assert f"{component}.{c['object_id']}" == c["default_entity_id"]
    assert c["state_topic"].startswith(ROOT + "/")
    assert "#" not in c["state_topic"]
    if "+" in c["state_topic"]:  # only the one sensor that listens to every vital
        assert c["state_topic"] == f"{ROOT}/vitals/+", c["state_topic"]


def check_rendered(c: dict[str, Any], payload: bytes, component: str) -> str:
    state = render(c["value_template"], payload)
    if component == "binary_sensor":
        assert state in ("ON", "OFF"), state
    elif c.get("options"):
        assert state in c["options"], (c["name"], state)
    elif c.get("device_class") == "timestamp":
        assert state == PAYLOAD_NONE or datetime.fromisoformat(state), state
    elif c.get("unit_of_measurement") is not None or c.get("state_class") is not None:
        assert state == PAYLOAD_NONE or float(state) == float(state), (c["name"], state)  # numeric, as HA expects
    else:
        assert len(state) <= 255, c["name"]  # HA's check_state_too_long
    if "json_attributes_template" in c:
        assert isinstance(json.loads(render(c["json_attributes_template"], payload)), dict)
    return state


async def test_every_discovery_config_follows_home_assistants_rules(
    broker: Broker,
    subscribe: Subscribe,
    hub: Hub,
) -> None:
    sub = await subscribe(broker.port, (f"{ROOT}/#", "homeassistant/#"))
    outbox, now = MemoryOutbox(), datetime.now(UTC)
    for event in one_of_each(now)[:5]:  # session, device, SpO2, pulse rate, RR
        outbox.add(event, session="s1")
    for quantity, value in (
        (Quantity.HEART_RATE, 72.0), (Quantity.ENERGY_EXPENDED, 12.0), (Quantity.SYSTOLIC, 121.0),
        (Quantity.DIASTOLIC, 79.0), (Quantity.MEAN_ARTERIAL_PRESSURE, 93.0), (Quantity.TEMPERATURE, 36.8),
        (Quantity.BATTERY, 80.0),
    ):  # fmt: skip
        unit = {"heart_rate": "bpm", "energy_expended": "kJ", "temperature": "°C", "battery": "%"}
        outbox.add(Reading(quantity=quantity, value=value, unit=unit.get(quantity, "mmHg"), device="cuff", ts=now))
    outbox.add(DeviceState(device="strap", profile="heart_rate", state=LinkState.CONNECTED, battery=None))
    outbox.add(SessionState(id="s2", session_kind=SessionKind.DOSING, phase="onset", started_at=now))
    outbox.add(LightingState(scene="calm", levels={"ceiling": 0.3}, reason="phase"))
    outbox.add(
        MusicState(state=MusicPlay.PLAY, playlist="Onset", title="Slow Water", artist="Ensemble", volume=0.4, ts=now)
    )
    async with running(mqtt_config(broker.port, ha_discovery=True), outbox, hub) as publisher:
        await asyncio.wait_for(publisher.connected.wait(), 20)
        outbox.add(alarm(AlarmAction.RAISED, now))  # raised in this run: alarms/active lists it
        await asyncio.wait_for(outbox.wait_all_sent(), 20)
        got = await sub.wait_for(
            lambda ms: (
                sum(1 for m in ms if m.topic.startswith("homeassistant/")) >= 24
                and any(m.topic == f"{ROOT}/alarms/active" and b'"priority"' in m.payload for m in ms)
                and {f"{ROOT}/session", f"{ROOT}/lighting", f"{ROOT}/devices/strap"} <= {m.topic for m in ms}
            )
        )
    latest = {m.topic: m.payload for m in got}
    configs: dict[str, dict[str, Any]] = {m.topic: m.json() for m in got if m.topic.startswith("homeassistant/")}

    for topic, c in configs.items():
        component = topic.split("/")[1]
        assert component in ("sensor", "binary_sensor"), topic
        check_common(topic, c, component)
        if component == "sensor":
            check_sensor(topic, c)
        else:
            assert c.get("device_class") in BINARY_SENSOR_DEVICE_CLASSES, topic
    assert len({c["unique_id"] for c in configs.values()}) == len(configs)

    def config(component: str, object_id: str) -> dict[str, Any]:
        return configs[f"homeassistant/{component}/roomctl_clinic_willow/{object_id}/config"]

    def shown(component: str, object_id: str) -> str:
        c = config(component, object_id)
        topic = c["state_topic"].replace("+", "heart_rate")  # the one wildcard: any vital's message
        return check_rendered(c, latest[topic], component)

    # the defects, one by one
    energy = config("sensor", "energy_expended")
    # no device class: Home Assistant 2024.3's energy class knows no kJ (UnitOfEnergy: GJ, kWh, MJ, MWh, Wh)
    assert "device_class" not in energy
    assert (energy["state_class"], energy["unit_of_measurement"]) == ("total_increasing", "kJ")
    # whole numbers shown whole ("72 bpm", not "72.0 bpm"), from each vital's one description
    assert config("sensor", "heart_rate")["suggested_display_precision"] == 0
    assert config("sensor", "temperature")["suggested_display_precision"] == 1
    arriving = config("binary_sensor", "vitals_arriving")
    assert (arriving["state_topic"], arriving["expire_after"]) == (f"{ROOT}/vitals/+", 30)
    for bp in ("systolic", "diastolic", "mean_arterial_pressure"):
        assert "device_class" not in config("sensor", bp)  # "pressure" would become inHg on a US-unit install
        assert config("sensor", bp)["unit_of_measurement"] == "mmHg"
    assert not any(t.endswith("/battery/config") for t in configs)  # no shared vitals/battery sensor
    for wearable in ("oxi", "strap"):  # one battery and one connectivity entity per wearable, from devices/<id>
        assert config("sensor", f"{wearable}_battery")["state_topic"] == f"{ROOT}/devices/{wearable}"
        assert config("binary_sensor", f"{wearable}_connected")["device_class"] == "connectivity"
    # what a Home Assistant user would otherwise write by hand, rendered from what roomctl published
    for component, object_id in [(t.split("/")[1], t.split("/")[3]) for t in configs]:
        shown(component, object_id)
    assert shown("binary_sensor", "any_alarm") == "ON"
    assert shown("binary_sensor", "vitals_arriving") == "ON"
    assert shown("sensor", "alarm_priority") == "high"
    assert shown("sensor", "alarm_message") == "SpO2 low"
    assert shown("sensor", "session_kind") == "dosing"
    assert shown("sensor", "session_phase") == "onset"
    assert shown("sensor", "last_dose") == PAYLOAD_NONE  # session s2 has no dose yet: unknown
    assert shown("sensor", "oxi_battery") == "80.0"
    assert shown("sensor", "strap_battery") == PAYLOAD_NONE
    assert shown("binary_sensor", "oxi_connected") == "ON"
    assert shown("sensor", "energy_expended") == "12.0"
    assert shown("sensor", "light_scene") == "calm"
    assert shown("sensor", "music_title") == "Slow Water"
    assert json.loads(render(config("sensor", "music_title")["json_attributes_template"], latest[f"{ROOT}/music"])) == {
        "artist": "Ensemble",
        "playlist": "Onset",
        "state": "play",
        "volume": 0.4,
    }


def test_the_highest_priority_and_its_text_follow_the_list() -> None:
    from roomctl.mqtt.discovery import HIGHEST_MESSAGE, HIGHEST_PRIORITY

    def active(*alarms: tuple[str, str]) -> bytes:
        return json.dumps({"alarms": [{"priority": p, "message": m} for p, m in alarms]}).encode()

    assert render(HIGHEST_PRIORITY, active()) == "none"
    assert render(HIGHEST_MESSAGE, active()) == "No alarm"
    mixed = active(("low", "Battery low"), ("high", "SpO2 low"), ("medium", "HR high"))
    assert render(HIGHEST_PRIORITY, mixed) == "high"
    assert render(HIGHEST_MESSAGE, mixed) == "SpO2 low"


def test_the_dashboard_card_uses_only_entities_roomctl_announces() -> None:
    """examples/home-assistant/card.yaml, for site harbor-clinic, room willow, the demo's two wearables."""
    from pathlib import Path

    from roomctl.config import MqttConfig, RoomSection
    from roomctl.mqtt.discovery import HA_SENSORS, Discovery
    from roomctl.mqtt.feed import Topics

    config, room = MqttConfig(ha_discovery=True), RoomSection(site="harbor-clinic", room="willow")
    discovery = Discovery(config, room, Topics(config, room))
    announced = [*discovery.room(), *discovery.device("chest-strap"), *discovery.device("oximeter")]
    for quantity in HA_SENSORS:
        announced += discovery.vital(quantity)
    ids = {json.loads(payload)["default_entity_id"] for _, payload in announced}
    card = (Path(__file__).resolve().parents[2] / "examples" / "home-assistant" / "card.yaml").read_text()
    used = set(re.findall(r"entity: (\S+)", card))
    assert used
    assert used <= ids, sorted(used - ids)

"""The dashboard examples agree with the feed they read (the Node-RED flow runs for real in ``make examples-check``).

Telegraf is not run here; its example is checked against the options Telegraf documents for ``json_v2``
(plugins/parsers/json_v2/README.md: metric ``measurement_name``, ``timestamp_path``, ``timestamp_format``; object
``path``, ``included_keys``, ``tags``, ``fields``; testdata ``null``: an object's null values are dropped) and against
the vital schema: every key it reads exists, and it subscribes to no topic without a ``value``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from roomctl.models import Quantity
from roomctl.mqtt.schemas import all_schemas

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
METRIC_OPTIONS = {"measurement_name", "measurement_name_path", "timestamp_path", "timestamp_format",
                  "timestamp_timezone", "object", "field", "tag"}  # fmt: skip
OBJECT_OPTIONS = {"path", "optional", "disable_prepend_keys", "included_keys", "excluded_keys", "tags", "renames",
                  "fields", "timestamp_key", "timestamp_format", "timestamp_timezone"}  # fmt: skip


def test_telegraf_reads_only_numeric_vitals_with_their_quality() -> None:
    conf: dict[str, Any] = tomllib.loads((EXAMPLES / "telegraf" / "roomctl.conf").read_text())
    consumer = conf["inputs"]["mqtt_consumer"][0]
    vital = all_schemas(strict=True)["vital"]["properties"]
    topics = consumer["topics"]
    quantities = {t.rsplit("/", 1)[1] for t in topics}
    assert quantities <= {q.value for q in Quantity} - {"rr_intervals"}  # rr_intervals has no value
    assert {"heart_rate", "spo2", "systolic", "diastolic", "temperature"} <= quantities
    lanes: dict[str, set[str]] = {}
    for t in topics:
        prefix, quantity = t.rsplit("/", 1)
        lanes.setdefault(prefix, set()).add(quantity)
    assert lanes == {"roomctl/+/+/vitals": quantities, "roomctl/+/+/history": quantities}  # the complete series
    parsed = {p["topic"]: p["tags"] for p in consumer["topic_parsing"]}
    assert parsed == {f"{lane}/+": "_/site/room/_/quantity" for lane in lanes}  # the lane is no tag: copies overwrite
    assert consumer["qos"] == 1
    assert consumer["data_format"] == "json_v2"
    (metric,) = consumer["json_v2"]
    assert set(metric) <= METRIC_OPTIONS
    assert metric["timestamp_path"] == "ts"
    assert "field" not in metric  # a field on "value" fails on null; an object drops nulls
    (obj,) = metric["object"]
    assert set(obj) <= OBJECT_OPTIONS
    assert set(obj["included_keys"]) <= set(vital)
    assert "quality" in obj["tags"]  # doubtful readings stay distinguishable
    assert set(obj["tags"]) <= set(obj["included_keys"])
    assert set(obj["fields"]) <= set(obj["included_keys"])


def test_node_red_flow_is_importable_and_reads_the_documented_topics() -> None:
    flow = json.loads((EXAMPLES / "node-red" / "flow.json").read_text())
    ids = {node["id"] for node in flow}
    assert len(ids) == len(flow)
    for node in flow:
        for wires in node.get("wires", []):
            assert set(wires) <= ids, node["id"]
    subscribed = {n["topic"] for n in flow if n["type"] == "mqtt in"}
    assert subscribed == {
        "roomctl/+/+/vitals/+",
        "roomctl/+/+/history/+",
        "roomctl/+/+/alarms/active",
        "roomctl/+/+/status",
    }
    series = next(n for n in flow if n.get("name") == "complete series" and n["type"] == "function")
    feeding = {n["topic"] for n in flow if n["type"] == "mqtt in" and any(series["id"] in w for w in n["wires"])}
    assert feeding == {"roomctl/+/+/vitals/+", "roomctl/+/+/history/+"}  # both lanes
    assert "body.seq <= (highest[msg.topic] ?? 0)" in series["func"]  # per topic
    assert "kept.includes(body.seq)" in series["func"]  # and across the two, each seq once
    live = next(n for n in flow if n.get("name") == "vitals with quality" and n["type"] == "function")
    assert not any(live["id"] in w for n in flow if n.get("topic") == "roomctl/+/+/history/+" for w in n["wires"])
    assert all(n["qos"] == "1" for n in flow if n["type"] == "mqtt in")
    panel = next(n for n in flow if n.get("name") == "alarm panel" and n["type"] == "function")
    assert "body.seq <= (highest[topic] ?? 0)" in panel["func"]  # the rule of docs/mqtt.md

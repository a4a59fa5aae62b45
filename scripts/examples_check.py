"""``make examples-check``: the Node-RED example and Home Assistant run for real (not part of ``make test``: they
download from npm and PyPI). ``--only node-red`` or ``--only home-assistant`` runs one of them.

Node-RED:

1. installs Node-RED from npm into a temporary folder (``ROOMCTL_NODE_RED_DIR``: reuse an installed one);
2. starts a mosquitto on a free loopback port and Node-RED headless with ``examples/node-red/flow.json``;
3. runs ``roomctl demo --headless --mqtt`` against it, while a plain subscriber captures ``alarms/active`` too;
4. checks what the flow's three outputs printed (its debug nodes log to the console): vitals with their quality (a
   missing or invalid value is never shown as a number), the alarm panel (exactly the ``alarms/active`` messages the
   documented de-duplication rule keeps, in ``seq`` order), and the room going offline when the demo stops.

Home Assistant: see ``scripts/home_assistant_check.py``.

Prints what it measured and exits 0 when every check holds. Telegraf is not run here (see docs/mqtt.md, "What was
run").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from tests.mqtt.broker import Broker, free_port  # noqa: E402

NODE_RED = "node-red@4.1.8"  # Node-RED 5 needs Node.js 22; Debian 12/13 ship 18/20
DEMO_S = float(os.environ.get("ROOMCTL_EXAMPLES_DEMO_S", "75"))
DEBUG_LINE = re.compile(r"\[debug:(vitals|alarm panel|room status)\] (\{.*\})\s*$")


def say(text: str) -> None:
    print(f"examples-check: {text}", flush=True)


def install_node_red(tmp: Path) -> Path:
    given = os.environ.get("ROOMCTL_NODE_RED_DIR")
    if given:
        return Path(given) / "node_modules" / "node-red" / "red.js"
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"examples-check: {tool} is missing; on Debian: sudo apt install nodejs npm")
    say(f"installing {NODE_RED} from npm into {tmp} (a minute or two)")
    subprocess.run(
        ["npm", "install", "--prefix", str(tmp), "--no-audit", "--no-fund", "--loglevel=error", NODE_RED],
        check=True,
        timeout=900,
    )
    return tmp / "node_modules" / "node-red" / "red.js"


def wait_for(what: str, check: Callable[[], bool], within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"examples-check: FAILED: {what} within {within_s:.0f} s")
        time.sleep(0.2)  # polling a log file and a process: nothing to await


class Capture:
    """A plain subscriber to the rooms' feed, on paho's thread: ``alarms/active`` as a list (what the panel should
    have shown), and the latest JSON message of every topic."""

    def __init__(self, port: int) -> None:
        self.messages: list[dict[str, Any]] = []
        self.latest: dict[str, dict[str, Any]] = {}
        self.ready = threading.Event()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.on_connect = lambda c, u, f, rc, p: c.subscribe("roomctl/+/+/#", qos=1)
        client.on_subscribe = lambda c, u, mid, rcs, p: self.ready.set()
        client.on_message = self._message
        client.connect("127.0.0.1", port)
        client.loop_start()
        self.client = client

    def _message(self, client: mqtt.Client, userdata: Any, m: mqtt.MQTTMessage) -> None:
        if m.topic.endswith("/status"):
            return  # plain text
        message = json.loads(m.payload)
        self.latest["/".join(m.topic.split("/")[3:])] = message
        if m.topic.endswith("/alarms/active"):
            self.messages.append({"topic": m.topic, **message})

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def docs_rule(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """docs/mqtt.md: per topic, ignore a seq at or below the highest processed."""
    highest: dict[str, int] = {}
    kept = []
    for m in messages:
        if m["seq"] <= highest.get(m["topic"], 0):
            continue
        highest[m["topic"]] = m["seq"]
        kept.append(m)
    return kept


def main() -> int:
    parser = argparse.ArgumentParser(description="run the examples for real against the demo's feed")
    parser.add_argument("--only", choices=("node-red", "home-assistant"), help="run only this one")
    only = parser.parse_args().only
    failures: list[str] = []
    started = time.monotonic()
    if only in (None, "node-red"):
        failures += node_red_check()
    if only in (None, "home-assistant"):
        failures += home_assistant()
    for failure in failures:
        say(f"FAILED: {failure}")
    say(f"took {time.monotonic() - started:.0f} s")
    say("all checks hold" if not failures else f"{len(failures)} check(s) failed")
    return 0 if not failures else 1


def home_assistant() -> list[str]:
    from scripts.home_assistant_check import check

    tmp = Path(tempfile.mkdtemp(prefix="roomctl-examples-ha-"))
    broker = Broker(tmp / "broker")
    capture: Capture | None = None
    try:
        broker.start()
        capture = Capture(broker.port)
        capture.ready.wait(20)
        latest = capture.latest
        return check(broker.port, tmp, DEMO_S, lambda tail: latest.get(tail))
    finally:
        if capture is not None:
            capture.close()
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def node_red_check() -> list[str]:
    tmp = Path(tempfile.mkdtemp(prefix="roomctl-examples-"))
    broker = Broker(tmp / "broker")
    node_red: subprocess.Popen[bytes] | None = None
    capture: Capture | None = None
    failures: list[str] = []
    try:
        red = install_node_red(tmp)
        broker.start()
        say(f"mosquitto on 127.0.0.1:{broker.port}")
        user_dir = tmp / "node-red"
        user_dir.mkdir()
        shutil.copy(ROOT / "examples" / "node-red" / "flow.json", user_dir / "flows.json")
        log_path = tmp / "node-red.log"
        env = os.environ | {"ROOMCTL_MQTT_HOST": "127.0.0.1", "ROOMCTL_MQTT_PORT": str(broker.port)}
        with log_path.open("wb") as log:
            node_red = subprocess.Popen(
                ["node", str(red), "--userDir", str(user_dir), "--port", str(free_port()), "flows.json"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        wait_for("Node-RED connected to the broker", lambda: "Connected to broker" in log_path.read_text(), 120)
        say("Node-RED runs the flow headless and is connected")
        capture = Capture(broker.port)
        capture.ready.wait(20)
        started = time.monotonic()
        demo = subprocess.run(
            [sys.executable, "-m", "roomctl", "demo", "--headless", "--duration", str(DEMO_S),
             "--mqtt", f"127.0.0.1:{broker.port}", "--state-dir", str(tmp / "state")],
            capture_output=True, text=True, timeout=DEMO_S + 180,
        )  # fmt: skip
        if demo.returncode != 0:
            failures.append(f"roomctl demo exited {demo.returncode}: {demo.stderr[-500:]}")
        say(f"roomctl demo ran {time.monotonic() - started:.0f} s")
        wait_for("the flow showing the room offline", lambda: "ROOM OFFLINE" in log_path.read_text(), 30)
        time.sleep(1.0)  # the last messages in flight reach the log
        outputs: dict[str, list[dict[str, Any]]] = {"vitals": [], "alarm panel": [], "room status": []}
        for line in log_path.read_text().splitlines():
            if match := DEBUG_LINE.search(line):
                outputs[match[1]].append(json.loads(match[2]))
        vitals, panel, status = outputs["vitals"], outputs["alarm panel"], outputs["room status"]

        # vitals with quality: never a number for a missing or invalid value
        if len(vitals) < 50:
            failures.append(f"only {len(vitals)} vitals shown")
        for v in vitals:
            if v["quality"] not in ("ok", "questionable", "invalid"):
                failures.append(f"vital without a quality: {v}")
            number_shown = not v["shown"].startswith("--")
            if number_shown != (v["value"] is not None and v["quality"] != "invalid"):
                failures.append(f"vital shown wrongly: {v}")
            if v["quality"] == "questionable" and "?" not in v["shown"]:
                failures.append(f"questionable vital not marked: {v}")
        if any(v["quantity"] == "rr_intervals" for v in vitals):
            failures.append("rr_intervals shown as a vital")
        per_topic: dict[str, list[int]] = {}
        for v in vitals:
            per_topic.setdefault(f"{v['room']}/{v['quantity']}", []).append(v["seq"])
        for topic, seqs in per_topic.items():
            if seqs != sorted(set(seqs)):
                failures.append(f"{topic}: vitals not in seq order after de-duplication")
        # the alarm panel: exactly what the documented rule keeps of alarms/active
        expected = [(m["seq"], len(m["alarms"])) for m in docs_rule(capture.messages)]
        shown = [(p["seq"], p["count"]) for p in panel]
        if shown != expected:
            failures.append(f"alarm panel showed {shown}, the rule keeps {expected}")
        # room offline
        if not status or not status[0]["online"] or status[-1]["online"]:
            failures.append(f"room status went {[s['online'] for s in status]}, expected online ... offline")

        qualities = {q: sum(1 for v in vitals if v["quality"] == q) for q in ("ok", "questionable", "invalid")}
        say(f"vitals shown: {len(vitals)} on {len(per_topic)} topics; quality {qualities}")
        say(f"alarm panel updates: {len(panel)} (highest: {sorted({p['highest'] for p in panel})})")
        say(f"room status: {' -> '.join('online' if s['online'] else 'offline' for s in status)}")
        say("not run here: Telegraf (examples/telegraf/roomctl.conf)")
    finally:
        if capture is not None:
            capture.close()
        if node_red is not None:
            node_red.terminate()
            try:
                node_red.wait(20)
            except subprocess.TimeoutExpired:
                node_red.kill()
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return failures


if __name__ == "__main__":
    sys.exit(main())

"""The Home Assistant half of ``make examples-check``: a real Home Assistant against the demo's feed.

1. installs Home Assistant from PyPI into its own virtualenv, kept outside the checkout (``ROOMCTL_HA_VENV``, default
   ``~/.cache/roomctl/home-assistant-<version>``), and lets it install its frontend's requirements on its first start;
2. starts it headless on a free port, onboards a user and adds its MQTT integration through its REST API, pointed at
   the given broker (discovery on, prefix ``homeassistant``);
3. runs ``roomctl demo --headless --mqtt … --ha-discovery`` and reads the entities and their states from the REST API:
   every entity the shipped card (``examples/home-assistant/card.yaml``) names exists, the values match the feed, the
   display precision follows each vital's description, and no "Invalid state message" or MQTT error is logged;
4. stops the demo and checks that every roomctl entity becomes unavailable within 5 s.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

VERSION = "2024.3.3"  # the newest Home Assistant that runs on Python 3.11 (Debian 12's)
REQUIREMENTS = (f"homeassistant=={VERSION}", "josepy<2")  # josepy 2 removed what 2024.3's acme imports
PYTHON_PIN = (3, 11)
NODE = "roomctl_demo_clinic_demo_room"  # the demo's site and room, as discovery names them
CARD_NODE = "roomctl_harbor_clinic_willow"  # the card's example room
UNAVAILABLE_WITHIN_S = 5.0


def say(text: str) -> None:
    print(f"examples-check (Home Assistant): {text}", flush=True)


def venv_dir() -> Path:
    given = os.environ.get("ROOMCTL_HA_VENV")
    return Path(given) if given else Path.home() / ".cache" / "roomctl" / f"home-assistant-{VERSION}"


def install() -> Path:
    venv = venv_dir()
    hass = venv / "bin" / "hass"
    if hass.exists():
        return hass
    if sys.version_info[:2] != PYTHON_PIN:
        raise SystemExit(
            f"examples-check: Home Assistant {VERSION} needs Python 3.11; this is {sys.version.split()[0]}"
        )
    say(f"installing Home Assistant {VERSION} into {venv} (a few minutes, once)")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True, timeout=600)
    subprocess.run([*pip, *REQUIREMENTS], check=True, timeout=1800)
    return hass


class Api:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token = ""

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, *, form: bool = False) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = None
        if body is not None and form:
            data = "&".join(f"{k}={v}" for k, v in body.items()).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def up(self) -> bool:
        try:
            self.call("GET", "/api/onboarding")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False
        return True

    def onboard(self) -> None:
        client = f"{self.base}/"
        user = {"client_id": client, "name": "check", "username": "check", "password": "check-only", "language": "en"}
        code = self.call("POST", "/api/onboarding/users", user)["auth_code"]
        token = self.call("POST", "/auth/token", {"grant_type": "authorization_code", "code": code,
                                                  "client_id": client}, form=True)  # fmt: skip
        self.token = token["access_token"]

    def add_mqtt(self, broker_port: int) -> None:
        flow = self.call("POST", "/api/config/config_entries/flow", {"handler": "mqtt"})
        done = self.call("POST", f"/api/config/config_entries/flow/{flow['flow_id']}",
                         {"broker": "127.0.0.1", "port": broker_port})  # fmt: skip
        if done.get("type") != "create_entry":
            raise SystemExit(f"examples-check: FAILED: Home Assistant's MQTT set-up answered {done}")

    def states(self) -> dict[str, dict[str, Any]]:
        return {s["entity_id"]: s for s in self.call("GET", "/api/states") if NODE in s["entity_id"]}


def wait_for(what: str, check: Callable[[], bool], within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"examples-check: FAILED: {what} within {within_s:.0f} s")
        time.sleep(0.5)  # polling a REST API: nothing to await


def enter_blood_pressure(socket: Path) -> None:
    """As the team would on the screen: a blood pressure taken by hand, through the daemon's local API."""
    import asyncio

    from roomctl.api.client import ApiClient
    from roomctl.commands import EnterBloodPressure
    from roomctl.errors import RoomctlError

    async def send() -> None:
        client = ApiClient(socket)

        async def read() -> None:  # keeps reading, so the answer arrives
            async for _ in client.updates():
                pass

        reader = asyncio.create_task(read())
        why = ""
        try:
            for _ in range(60):
                try:
                    result = await client.send(EnterBloodPressure(systolic=122, diastolic=78))
                except RoomctlError as e:
                    why = str(e)
                else:
                    if result.ok:
                        return
                    why = result.message
                await asyncio.sleep(1)  # the daemon is still starting
            raise SystemExit(f"examples-check: FAILED: the demo took no blood pressure: {why}")
        finally:
            reader.cancel()
            await client.close()

    asyncio.run(send())


def card_entities() -> set[str]:
    card = (ROOT / "examples" / "home-assistant" / "card.yaml").read_text()
    return {e.replace(CARD_NODE, NODE) for e in re.findall(r"entity: (\S+)", card)}


def precision(config_dir: Path, entity_id: str) -> int | None:
    registry = json.loads((config_dir / ".storage" / "core.entity_registry").read_text())
    for entity in registry["data"]["entities"]:
        if entity["entity_id"] == entity_id:
            value = (entity.get("options") or {}).get("sensor", {}).get("suggested_display_precision")
            return int(value) if value is not None else None
    return None


def check(broker_port: int, tmp: Path, demo_s: float, latest: Callable[[str], dict[str, Any] | None]) -> list[str]:
    """Run Home Assistant and the demo against the broker on ``broker_port``; ``latest(topic_tail)`` is the last
    message a plain subscriber saw below the demo room's root. Returns the failures, in words."""
    from tests.mqtt.broker import free_port

    failures: list[str] = []
    hass = install()
    config_dir, port = tmp / "home-assistant", free_port()
    config_dir.mkdir()
    (config_dir / "configuration.yaml").write_text(
        "homeassistant:\n  name: roomctl check\n  time_zone: UTC\n  unit_system: metric\n"
        "  latitude: 0\n  longitude: 0\n  elevation: 0\n"
        f"http:\n  server_host: 127.0.0.1\n  server_port: {port}\n"
        "api:\nconfig:\nonboarding:\nlogger:\n  default: warning\n"
    )
    log_path = tmp / "home-assistant.log"
    api = Api(port)
    started = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen([str(hass), "-c", str(config_dir)], stdout=log, stderr=subprocess.STDOUT)
    demo: subprocess.Popen[str] | None = None
    try:
        wait_for("Home Assistant answering", api.up, 900)  # its first start installs the frontend's requirements
        say(f"Home Assistant {VERSION} up in {time.monotonic() - started:.0f} s on 127.0.0.1:{port}")
        api.onboard()
        api.add_mqtt(broker_port)
        say("onboarded; MQTT integration added (discovery on)")
        state_dir = tmp / "ha-state"
        demo = subprocess.Popen(
            [sys.executable, "-m", "roomctl", "demo", "--headless", "--duration", str(demo_s), "--mqtt",
             f"127.0.0.1:{broker_port}", "--ha-discovery", "--state-dir", str(state_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        wait_for("the demo's local API", lambda: any(state_dir.glob("*.sock")), 60)
        enter_blood_pressure(next(state_dir.glob("*.sock")))  # the card shows one; no wearable here measures it
        wanted = card_entities()
        try:
            wait_for("every entity of the card announced", lambda: wanted <= api.states().keys(), demo_s)
        except SystemExit:
            say(f"missing: {sorted(wanted - api.states().keys())}; announced: {sorted(api.states())}")
            raise
        hr = f"sensor.{NODE}_heart_rate"
        wait_for("a heart rate shown", lambda: api.states()[hr]["state"] not in ("unknown", "unavailable"), 60)
        states = api.states()
        say(f"{len(states)} roomctl entities; the card's {len(wanted)} all present")
        # values match the feed: the last heart rate published, the dose, the phase
        shown_hr, published = states[hr]["state"], latest("vitals/heart_rate")
        if published is None or float(shown_hr) != float(published["value"] or "nan"):
            failures.append(f"heart rate shown {shown_hr}, last published {published}")
        if states[hr]["attributes"].get("unit_of_measurement") != "bpm":
            failures.append(f"heart rate unit {states[hr]['attributes']}")
        session = latest("session") or {}
        dose = states[f"sensor.{NODE}_last_dose"]["state"]
        if not session.get("dose_times") or not _same_time(dose, session["dose_times"][-1]):
            failures.append(f"last dose shown {dose}, the feed's session says {session.get('dose_times')}")
        if states[f"sensor.{NODE}_session_phase"]["state"] != session.get("phase"):
            failures.append(f"phase shown {states[f'sensor.{NODE}_session_phase']['state']}, feed {session}")
        if states[f"binary_sensor.{NODE}_vitals_arriving"]["state"] != "on":
            failures.append("'vitals arriving' is not on while the demo publishes")
        registry = config_dir / ".storage" / "core.entity_registry"
        wait_for("Home Assistant's entity registry saved", registry.exists, 60)  # saved after a delay
        for entity, decimals in ((hr, 0), (f"sensor.{NODE}_spo2", 0), (f"sensor.{NODE}_perfusion_index", 1)):
            if entity in states and precision(config_dir, entity) != decimals:
                failures.append(f"{entity}: display precision {precision(config_dir, entity)}, expected {decimals}")
        say(f"heart rate {shown_hr} bpm (feed {published and published['value']}), last dose {dose}, "
            f"phase {session.get('phase')}")  # fmt: skip
        demo.wait(demo_s + 180)
        stopped = time.monotonic()
        wait_for("every roomctl entity unavailable after the demo stopped",
                 lambda: all(s["state"] == "unavailable" for s in api.states().values()), 30)  # fmt: skip
        took = time.monotonic() - stopped
        if took > UNAVAILABLE_WITHIN_S:
            failures.append(f"entities went unavailable {took:.1f} s after the demo stopped")
        say(f"all {len(api.states())} roomctl entities unavailable {took:.1f} s after the demo stopped")
    finally:
        if demo is not None and demo.poll() is None:
            demo.terminate()
            demo.wait(30)
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    log_text = log_path.read_text(errors="replace")
    complaints = [
        line
        for line in log_text.splitlines()
        if ("Invalid state message" in line or "homeassistant.components.mqtt" in line)
        and (" WARNING " in line or " ERROR " in line)
        and "roomctl" in line
    ]
    failures += [f"Home Assistant logged: {line[:300]}" for line in complaints]
    say(f"log: {len(complaints)} MQTT warnings or errors about roomctl")
    if failures:
        kept = venv_dir().parent / "home-assistant-last.log"
        shutil.copy(log_path, kept)
        say(f"its log is kept in {kept}")
    return failures


def _same_time(state: str, iso: str) -> bool:
    """Home Assistant states a timestamp to the second (``…T09:00:00+00:00``); the feed has milliseconds and ``Z``."""
    from datetime import datetime

    try:
        shown = datetime.fromisoformat(state)
    except ValueError:
        return False
    return abs((shown - datetime.fromisoformat(iso.replace("Z", "+00:00"))).total_seconds()) < 1

"""The de-duplication rule exactly as docs/mqtt.md writes it, applied to a captured feed of the real demo.

``roomctl demo --headless --duration 120 --mqtt`` runs for two minutes against a mosquitto (persistence on); a
persistent-session subscriber captures everything below the room's root. After ``CAPTURE_OUTAGE_AT_S`` the broker
stops for ``ROOMCTL_MQTT_DEDUP_OUTAGE_S`` seconds (default 30, as the issue asks), then comes back; the demo ends with a
clean stop. The rule from the docs:

    Per topic, remember the highest ``seq`` you have processed. A message whose ``seq`` is at or below it is a
    duplicate: ignore it. Otherwise process it and remember its ``seq``.

It must drop no update of any topic (everything it ignores is a byte-for-byte repeat of a message it kept) and keep
no duplicate (no two kept messages share a topic and a seq); every alarm, event and state record of the room's
outbox must be among the kept messages, and every reading (on ``vitals/…`` or, past its life, ``history/…``), the last lighting state before ``offline`` must be the safe level (the clean
stop published it), and nothing may be left unsent in the outbox.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from tests.mqtt.broker import Broker
from tests.mqtt.conftest import Subscribe
from tests.mqtt.subscriber import Received

DEMO_S = 150  # 90 s after the broker is back: the paced history lane has long drained before the clean stop
OUTAGE_AT_S = 30.0
OUTAGE_S = float(os.environ.get("ROOMCTL_MQTT_DEDUP_OUTAGE_S", "30"))
ROOT = "roomctl/demo-clinic/demo-room"


def docs_rule(messages: list[Received]) -> tuple[list[Received], list[Received]]:
    """The rule as docs/mqtt.md words it: (kept, ignored)."""
    highest: dict[str, int] = {}
    kept: list[Received] = []
    ignored: list[Received] = []
    for m in messages:
        if m.topic == f"{ROOT}/status":
            kept.append(m)  # plain text, no seq
            continue
        seq = m.json().get("seq")
        if seq is None:
            kept.append(m)  # info, cmd/result: no record, no seq
            continue
        if seq <= highest.get(m.topic, 0):
            ignored.append(m)
            continue
        highest[m.topic] = seq
        kept.append(m)
    return kept, ignored


async def test_the_documented_rule_drops_no_update_and_keeps_no_duplicate(
    start_broker: Callable[..., Broker], tmp_path: Path, subscribe: Subscribe
) -> None:
    broker = start_broker(persistence=True)
    capture = await subscribe(broker.port, (f"{ROOT}/#",), client_id="capture", persistent=True)
    state = tmp_path / "state"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "roomctl", "demo", "--headless", "--duration", str(DEMO_S),
        "--mqtt", f"127.0.0.1:{broker.port}", "--state-dir", str(state),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await capture.wait_for(lambda ms: any("/vitals/" in m.topic for m in ms), within_s=90)
        await asyncio.sleep(OUTAGE_AT_S)  # a stretch of live feed before the outage: time, not an event
        await asyncio.to_thread(broker.stop)
        await asyncio.sleep(OUTAGE_S)  # the outage itself
        await asyncio.to_thread(broker.start)
        _, err = await asyncio.wait_for(proc.communicate(), DEMO_S + 120)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    got = await capture.wait_for(lambda ms: bool(ms) and ms[-1].payload == b"offline", within_s=30)

    kept, ignored = docs_rule(got)
    # no duplicate kept
    keys = [(m.topic, m.json()["seq"]) for m in kept if m.topic != f"{ROOT}/status" and "seq" in m.json()]
    assert len(keys) == len(set(keys))
    # no update dropped: whatever the rule ignored repeats, byte for byte, a message it kept on that topic
    kept_bytes = {(m.topic, m.payload) for m in kept}
    dropped = [(m.topic, m.payload.decode()[:120]) for m in ignored if (m.topic, m.payload) not in kept_bytes]
    assert not dropped, dropped[:5]
    assert ignored, "the capture holds repeats (retained state after the reconnect), or the test shows nothing"

    # every alarm, event and state record of the outbox was delivered and kept
    db = next(state.rglob("*.db"))
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT seq, kind, sent, payload FROM outbox ORDER BY seq").fetchall()
    assert [r[0] for r in rows if not r[2]] == []  # the clean stop flushed everything
    kept_seqs = {seq for _, seq in keys}
    stateful = [(seq, kind) for seq, kind, _, payload in rows if kind not in ("reading", "rr_intervals")]
    missing = [(seq, kind) for seq, kind in stateful if seq not in kept_seqs and kind != "alarms_active"]
    assert not missing, missing[:10]
    readings = [seq for seq, kind, _, _ in rows if kind in ("reading", "rr_intervals")]
    unseen = [seq for seq in readings if seq not in kept_seqs]
    assert not unseen, unseen[:10]  # every reading too: live, or on history when it could not go live
    kinds = {kind for _, kind in stateful}
    assert {"device", "session", "lighting"} <= kinds, kinds
    # the feed spans the outage: the broker came back and the room carried on
    statuses = [m.payload for m in got if m.topic == f"{ROOT}/status"]
    assert statuses.count(b"online") >= 2
    assert statuses[-1] == b"offline"
    # the clean stop published the lights' safe level before "offline"
    lighting = [json.loads(m.payload) for m in kept if m.topic == f"{ROOT}/lighting"]
    assert lighting[-1]["reason"] == "safe", lighting[-1]

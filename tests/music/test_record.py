"""The room's music in the daemon: every track change is a ``music`` record of the session; the export and the report
list what played when; the MQTT ``music`` payload fits its shipped schema."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path

import jsonschema
from matplotlib.table import Table

from roomctl.commands import EndSession, MusicCommand, SetPhase, StartSession
from roomctl.config import demo_config_text, parse_config
from roomctl.daemon.app import Daemon
from roomctl.models import MusicPlay, MusicState, event_json
from roomctl.mqtt.feed import BY_NAME, encode
from roomctl.mqtt.feed import Topics as FeedTopics
from roomctl.music.server import MpdServer
from roomctl.report.data import load
from roomctl.report.export import export
from roomctl.report.render import figure
from roomctl.storage.database import Database
from roomctl.storage.outbox import OutboxRecord
from tests.builders import T0
from tests.music.conftest import playing

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "mqtt"


def room_with_music(server: MpdServer) -> str:
    """The demo room without its wearables, quick phase fades, and music from the test's MPD."""
    text = re.sub(r"\[\[wearables\]\].*?(?=\n\[lighting\])", "", demo_config_text(), flags=re.S)
    text = text.replace("[lighting]\n", "[lighting]\nphase_fade_s = 1.0\n", 1)
    return text + (
        f'\n[music]\nenabled = true\nhost = "127.0.0.1"\nport = {server.port}\nend_fade_s = 0.5\n'
        '[music.playlists.arrival]\nplaylist = "Onset"\nvolume = 0.3\n'
        '[music.playlists.onset]\nplaylist = "Peak"\nvolume = 0.5\n'
    )


async def test_the_record_export_and_report_list_what_played_when(mpd_server: MpdServer, tmp_path: Path) -> None:
    from tests.music.conftest import MpdWatch

    daemon = Daemon(parse_config(room_with_music(mpd_server)), state_dir=tmp_path)
    task = asyncio.create_task(daemon.run())
    watch = MpdWatch(mpd_server)
    await watch.connect()
    try:
        async with asyncio.timeout(60):
            await daemon.ready.wait()
            await daemon.music.connected.wait()
        assert "music" in daemon.parts
        await daemon.dispatcher.handle(StartSession(), "test")  # the first phase: arrival -> Onset
        await watch.until(playing("Onset", 30))
        result = await daemon.dispatcher.handle(MusicCommand(action="next"), "test")
        assert result.ok, result.message
        await watch.until(lambda s: s["song"].get("file") == "onset/02.wav")
        await daemon.dispatcher.handle(SetPhase(phase="onset"), "test")
        await watch.until(playing("Peak", 50))
        await daemon.dispatcher.handle(EndSession(), "test")
        await watch.until(lambda s: s["state"] == "stop")
        async with asyncio.timeout(30):
            while daemon.hub.state.music is None or daemon.hub.state.music.state is not MusicPlay.STOP:
                await daemon.hub.wait_changed(daemon.hub.version)
        await daemon.writer.flush()
    finally:
        watch.close()
        daemon.request_stop()
        async with asyncio.timeout(60):
            await task

    db = Database(tmp_path / "roomctl.db", readonly=True)
    try:
        ((session_id, _),) = db.conn.execute("SELECT id, kind FROM sessions").fetchall()
        states = [row[2] for row in db.music(session_id)]
        assert "play" in states
        # the fade-out runs after the end: its stop is recorded too, outside the session
        assert db.conn.execute("SELECT state, session FROM music ORDER BY seq DESC LIMIT 1").fetchone() == (
            "stop",
            None,
        )
        out = io.StringIO()
        export(db, session_id, "csv", out)
        music_rows = [line for line in out.getvalue().splitlines() if ",music," in line]
        assert [r.split(",")[2] for r in music_rows] == [
            "Onset 1 — roomctl demo",
            "Onset 2 — roomctl demo",
            "Peak 1 — roomctl demo",
        ]
        assert "file=peak/01.wav; playlist=Peak; phase=onset" in music_rows[-1]
        out = io.StringIO()
        export(db, session_id, "json", out)
        played = json.loads(out.getvalue())["music"]
        assert [(t["title"], t["phase"], t["playlist"]) for t in played] == [
            ("Onset 1", "arrival", "Onset"),
            ("Onset 2", "arrival", "Onset"),
            ("Peak 1", "onset", "Peak"),
        ]
        assert played[0]["ts"] < played[1]["ts"] < played[2]["ts"]

        rec = load(db, session_id)
        fig, _summary = figure(rec)
        cells = [
            cell.get_text().get_text()
            for ax in fig.axes
            for t in ax.tables
            if isinstance(t, Table)
            for cell in t.get_celld().values()
        ]
        assert "Peak 1 — roomctl demo" in cells
        assert "Onset 2 — roomctl demo" in cells
        assert any(ax.get_title(loc="left") == "Music (3 track(s))" for ax in fig.axes)
    finally:
        db.close()


def test_the_mqtt_music_payload_fits_its_schema() -> None:
    from roomctl.config import MqttConfig, RoomSection

    schema = json.loads((SCHEMAS / "music.json").read_text())
    topics = FeedTopics(MqttConfig(enabled=True), RoomSection(site="clinic", room="room-1"))
    for state in (
        MusicState(
            state=MusicPlay.PLAY,
            phase="onset",
            playlist="Onset",
            title="Slow Water",
            artist="Ensemble",
            file="onset/01.flac",
            volume=0.4,
            elapsed_s=3.2,
            duration_s=300,
            ts=T0,
        ),
        MusicState(state=MusicPlay.UNREACHABLE, ts=T0),
    ):
        record = OutboxRecord(seq=7, kind="music", session="s1", payload=event_json(state))
        message, _event = encode(topics, record)
        body = json.loads(message.payload)
        jsonschema.validate(body, schema)
        assert message.topic == "roomctl/clinic/room-1/music"
        assert message.retain
        assert set(body) == {"state", "playlist", "title", "artist", "volume", "ts", "seq"}
        assert "file" not in body  # file names stay in the record
    assert BY_NAME["music"].retained


async def test_a_daemon_without_its_mpd_monitors_and_shows_a_low_alarm(tmp_path: Path) -> None:
    from roomctl.models import Priority
    from roomctl.music.server import MpdServer, free_port

    nobody = MpdServer(tmp_path / "none", port=free_port())  # never started: nothing answers on its port
    daemon = Daemon(parse_config(room_with_music(nobody)), state_dir=tmp_path)
    task = asyncio.create_task(daemon.run())
    try:
        async with asyncio.timeout(60):
            await daemon.ready.wait()
            while "music_unreachable" not in {a.condition for a in daemon.hub.state.alarms.values()}:
                await daemon.hub.wait_changed(daemon.hub.version)
        (alarm,) = [a for a in daemon.hub.state.alarms.values() if a.condition == "music_unreachable"]
        assert alarm.priority is Priority.LOW
        assert daemon.problems() == []  # the watchdog is still pinged: music is not monitoring
        result = await daemon.dispatcher.handle(StartSession(), "test")
        assert result.ok  # the session and everything else go on
        refused = await daemon.dispatcher.handle(MusicCommand(action="toggle"), "test")
        assert not refused.ok
        assert "music player unreachable" in refused.message
    finally:
        daemon.request_stop()
        async with asyncio.timeout(60):
            assert await task == 0


async def test_a_room_without_music_refuses_the_music_keys_in_words(tmp_path: Path) -> None:
    text = re.sub(r"\[\[wearables\]\].*?(?=\n\[lighting\])", "", demo_config_text(), flags=re.S)
    daemon = Daemon(parse_config(text), state_dir=tmp_path)
    task = asyncio.create_task(daemon.run())
    try:
        async with asyncio.timeout(60):
            await daemon.ready.wait()
        assert "music" not in daemon.parts
        result = await daemon.dispatcher.handle(MusicCommand(action="next"), "test")
        assert (result.ok, result.message) == (False, "'music' is not available: this room runs no music")
    finally:
        daemon.request_stop()
        async with asyncio.timeout(60):
            assert await task == 0

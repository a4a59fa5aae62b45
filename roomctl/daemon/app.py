"""The daemon: every part of the room composed, supervised, and stopped gracefully.

Start order (stop is the reverse, so nothing is ever produced that storage cannot keep):

1. the hub, with the alarm engine as an inline processor (alarms can never lag or drop);
2. storage: the database, then the writer that commits hub events in batches;
3. the session (resumed when one was open), lighting, MQTT and the local API;
4. the supervised services: alarm tick, session tick, wearable links, MQTT, the watchdog.

SIGTERM or SIGINT stops it: systemd hears STOPPING, the services are cancelled in reverse, the API closes, the lights go
to the safe level, then MQTT (kept till here) publishes what is pending — the safe-level state among it — and says
"offline", and the writer flushes everything to disk before the database closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from roomctl import __version__
from roomctl.alarms.engine import AlarmEngine
from roomctl.alarms.restore import shown_after
from roomctl.api.server import ApiServer
from roomctl.clock import Clock, SystemClock
from roomctl.commands import Acknowledge, Command, CommandResult, SetLimit
from roomctl.config import RoomConfig
from roomctl.daemon.dispatch import CommandDispatcher
from roomctl.daemon.health import WearableFreshness, service_health_problems
from roomctl.daemon.preflight import state_paths
from roomctl.daemon.room_info import room_info
from roomctl.daemon.supervisor import Supervisor
from roomctl.daemon.systemd import Notifier, Watchdog, watchdog_interval
from roomctl.errors import ConfigError, RoomctlError, StorageError
from roomctl.hub import Hub
from roomctl.lighting.controller import LightingController
from roomctl.models import AlarmEvent, ServiceHealth
from roomctl.sensors.links import SensorService
from roomctl.session.manager import SessionManager
from roomctl.storage.schema import NewerDatabase
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter

log = logging.getLogger(__name__)

ALARM_TICK_S = 0.25
"""How often the alarm engine's clock tick runs: a condition delay that runs out between readings raises its alarm at most
this late (a 1 s tick plus the screen's coalescing could exceed the 1 s bar: bench/bench_alarm_latency.py)."""
LAST_SERVICES = ("mqtt",)
"""Services the supervisor's stop leaves running: stopped by :meth:`Daemon._stop_feed` after the lights are safe."""

CRITICAL_HEALTH = ("alarms",)
"""Parts whose own ``ServiceHealth`` must be ok for the watchdog to be pinged. The watchdog stands for *monitoring*
(links, hub, alarm engine, sound, local API), never the record: a full or failing disk, or a broker outage, is a
technical alarm while monitoring goes on (a restart would only stop the watch). An alarm engine that raised never
reports ok again in this run: the watchdog stops and systemd restarts the daemon."""
RECORDER_SERVICES = ("storage-writer",)
"""Supervised loops the watchdog leaves out: the record's failing is its own alarm, not a reason to restart."""

CRITICAL_SERVICES = {"alarm-tick": "alarms", "storage-writer": "storage"}
"""Supervised loops whose failure is reported as the failure of that part (a high-priority technical alarm)."""


class Daemon:
    def __init__(
        self,
        config: RoomConfig,
        *,
        clock: Clock | None = None,
        pin_factory: Any = None,
        bus_address: str | None = None,
        state_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.pin_factory = pin_factory
        self.bus_address = bus_address
        # Relative paths in the configuration (the demo's) live in the state folder; absolute ones are kept.
        self.db_path, self.socket_path = state_paths(config, state_dir)
        self.hub = Hub()
        self.notifier = Notifier(environ)
        self.watchdog_timeout_s = watchdog_interval(environ)
        self.supervisor = Supervisor(clock=self.clock, on_health=self._service_health)
        self.freshness = WearableFreshness(self.hub, config.wearables, clock=self.clock)
        self.ready = asyncio.Event()
        self._engine_failed = False
        self.hub.on_processor_error = self._processor_failed
        self.api: ApiServer | None = None
        self.parts: list[str] = []  # what this room runs, in start order (for the log and the tests)
        self._stop = asyncio.Event()

    def request_stop(self) -> None:
        """Begin a graceful shutdown (what SIGTERM and SIGINT do)."""
        self._stop.set()

    def _service_health(self, name: str, ok: bool, detail: str) -> None:
        """A supervised service failed or came back: the screen and MQTT hear it (a healthy start is no news)."""
        part = CRITICAL_SERVICES.get(name)
        if part is not None:
            if not ok:  # not cleared by a restart: the watchdog stops and systemd restarts the whole daemon
                what = f"the {name} loop failed: {detail}"
                self.hub.publish(ServiceHealth(service=part, ok=False, detail=what, ts=self.clock.now()))
            return
        key = f"service:{name}"
        if ok and key not in self.hub.state.health:
            return
        self.hub.publish(ServiceHealth(service=key, ok=ok, detail=detail, ts=self.clock.now()))

    def _processor_failed(self, processor: object, error: Exception) -> None:
        """A hub processor raised. The alarm engine raising is a high-priority technical alarm and stops the watchdog."""
        if processor is self.alarms and not self._engine_failed:
            self._engine_failed = True
            detail = f"the alarm engine failed ({type(error).__name__}: {error}); roomctl must restart"
            self.hub.publish(ServiceHealth(service="alarms", ok=False, detail=detail, ts=self.clock.now()))

    def problems(self) -> list[str]:
        """Everything that keeps the daemon from calling itself healthy; empty when healthy."""
        return [
            *self.supervisor.problems(ignore=RECORDER_SERVICES),
            *service_health_problems(self.hub, CRITICAL_HEALTH),
            *self.freshness.problems(),
            *(self.api.problems() if self.api is not None else []),
        ]

    async def run(self) -> int:
        """Run until asked to stop; return the exit status (0 after a clean shutdown)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        try:
            async with contextlib.AsyncExitStack() as stack:
                await self._compose(stack)
                # first out: the services, in reverse order; MQTT later, after the lights' safe level (_stop_feed)
                stack.push_async_callback(self.supervisor.stop, keep=LAST_SERVICES)
                self.supervisor.start()
                status = f"monitoring {len(self.config.wearables)} wearable(s); parts: {', '.join(self.parts)}"
                log.info("roomctl %s ready: %s", __version__, status)
                self.notifier.ready(status)
                self.ready.set()
                await self._stop.wait()
                log.info("shutting down")
                self.notifier.stopping()
                # leaving the stack: services stopped (MQTT "offline"), API closed, lights safe, writer flushed,
                # database closed: the reverse of the start
            log.info("stopped cleanly")
            return 0
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    async def _compose(self, stack: contextlib.AsyncExitStack) -> None:
        cfg, hub, clock = self.config, self.hub, self.clock

        # 1. alarms inline, before anything publishes
        alarms = AlarmEngine(cfg.alarms, cfg.wearables, clock=clock)
        hub.add_processor(alarms)
        self.alarms = alarms
        self.supervisor.add("alarm-tick", self._alarm_tick)
        self.parts.append("alarms")

        # 2. storage: first in, last out. A disk that refuses leaves the store without a record (an alarm, retried)
        try:
            store = await stack.enter_async_context(Store(self.db_path, clock=clock))
        except NewerDatabase as e:  # staff must act: exit 2, no restart loop
            raise ConfigError([f"storage.path: {e}"]) from e
        self.store = store
        writer = StorageWriter(
            store,
            hub,
            clock=clock,
            flush_interval_s=min(cfg.storage.flush_interval_s, 0.5),
            retention_days=cfg.storage.retention_days,
        )
        await writer.start()
        stack.push_async_callback(self._stop_writer, writer)
        self.writer = writer
        self.supervisor.add("storage-writer", writer)  # cancelling it leaves the loop to _stop_writer's flush
        stack.push_async_callback(self._stop_feed, writer)  # runs after the lights are safe, before the writer stops
        self.parts.append("storage")

        # 3. the session (resumed where it was), then the lights that follow it
        session = SessionManager(cfg, hub, store, clock=clock, writer=writer)
        if store.available:
            await self._resume(store, session)
        else:
            log.error("no record to resume a session from (%s); monitoring without one", store.problem)
            hub.publish(session.state)
        self.supervisor.add("session", session.run)
        self.parts.append("session")

        lighting = LightingController(
            cfg.lighting,
            hub,
            phase_scenes={p.id: p.scene for p in cfg.session.phases if p.scene is not None},
            pin_factory=self.pin_factory,
            clock=clock,
            state_file=self.db_path.parent / "lighting.json",
        )
        stack.callback(self._log_lights, lighting)  # runs after the lighting has stopped
        await stack.enter_async_context(lighting)  # on the way out: every channel to the safe level
        self.lighting = lighting
        self.supervisor.add("lighting", lighting)  # cancelling it leaves the loop to the safe-level stop
        self.parts.append("lighting")

        music = None
        if cfg.music.enabled:
            from roomctl.music.player import MusicPlayer  # python-mpd2 only when the room has music

            music = MusicPlayer(cfg.music, hub, phase_fade_s=cfg.lighting.phase_fade_s, clock=clock)
            self.music = music
            self.supervisor.add("music", music.run)  # MPD away is its own low technical alarm, retried with backoff
            self.parts.append("music")

        dispatcher = CommandDispatcher(
            session=session, lighting=lighting, alarms=_AlarmCommands(alarms, hub, session), music=music
        )
        self.dispatcher = dispatcher

        # 4. producers and consumers that run as supervised services
        if self.bus_address is not None:
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address  # bleak's only seam for the bus
        sensors = SensorService(cfg.wearables, cfg.ble, hub, clock=clock)
        self.supervisor.add("ble-scanner", sensors.scanner)
        for link in sensors.links:
            self.supervisor.add(f"wearable:{link.id}", link)
        self.freshness.watch(sensors.links)
        self.parts.append("sensors")

        if cfg.mqtt.enabled:
            from roomctl.mqtt.publisher import MqttPublisher  # paho costs ~26 MiB: only when MQTT is on

            publisher = MqttPublisher(
                cfg.mqtt, cfg.room, store, hub, commands=dispatcher, clock=clock, config_summary=cfg.summary()
            )
            self.supervisor.add("mqtt", publisher)  # cancelled on stop: publishes "offline" and disconnects
            self.parts.append("mqtt")

        api = ApiServer(
            hub,
            dispatcher,
            room_info(cfg),
            self.socket_path,
            socket_group=cfg.api.socket_group,
            clock=clock,
            pause_remaining=alarms.audio_paused_s,
        )
        await stack.enter_async_context(api)
        self.api = api
        self.parts.append("api")

        if cfg.alarms.sound.outputs:
            from roomctl.sound.annunciator import SoundService, build_outputs

            outputs = build_outputs(cfg.alarms.sound, clock=clock, pin_factory=self._buzzer_pins())
            for output in outputs:
                stack.callback(output.close)
            self.sound = SoundService(cfg.alarms.sound, hub, outputs, clock=clock)
            self.supervisor.add("sound", self.sound)
            self.parts.append("sound")

        if self.watchdog_timeout_s is not None:
            watchdog = Watchdog(self.notifier, self.watchdog_timeout_s, {"daemon": self.problems}, clock=clock)
            self.supervisor.add("watchdog", watchdog)

    async def _alarm_tick(self) -> None:
        while True:
            await self.clock.sleep(ALARM_TICK_S)
            for event in self.alarms.tick():
                self.hub.publish(event)

    def _buzzer_pins(self) -> object:
        """The pin factory for a GPIO buzzer: the one given (tests, demo), else the lighting configuration's."""
        if self.pin_factory is not None or "buzzer" not in self.config.alarms.sound.outputs:
            return self.pin_factory
        from roomctl.lighting.outputs import make_pin_factory

        lighting = self.config.lighting
        try:
            return make_pin_factory(
                lighting.pin_factory, board=lighting.hardware_board, chip=lighting.hardware_pwm_chip
            )
        except RoomctlError as e:
            log.error("alarm buzzer: %s", e)
            return None  # the buzzer then fails to set up and says so as a technical alarm

    def _resume_limits(self, session: SessionManager) -> None:
        """Restarted within a session: the limits the team set for it (set_limit) apply again, as recorded."""
        limits, left_out = self.alarms.restore_limits(session.meta.get("limits"))
        for words in left_out:
            log.warning("a limit set for session %s is not taken up again: %s", session.state.id, words)
        baselines = session.baselines()
        if baselines:
            limits = self.alarms.use_baselines(baselines)
            log.info("session %s: %d baseline(s) kept with the session used again", session.state.id, len(baselines))
        self.hub.publish(limits)

    async def _resume(self, store: Store, session: SessionManager) -> None:
        """Take up the session (and its alarms) the record says was open; a record that fails to read is an alarm
        (the store's) and monitoring starts without a session."""
        try:
            last_record = await store.call(lambda db: db.last_record_ts())  # before the resume writes its own note
            if await session.resume():
                self._resume_limits(session)
                await self._resume_alarms(store, session, last_record)
        except StorageError as e:
            log.error("could not resume from the record: %s; monitoring without a session", e)
            self.hub.publish(session.state)

    async def _resume_alarms(self, store: Store, session: SessionManager, last_record: float | None) -> None:
        """Restarted within a session: its alarms come back (an acknowledged pause goes on where it was) and the gap in
        monitoring is an alarm (and in the log)."""
        session_id = session.state.id
        assert session_id is not None
        rows = await store.call(lambda db: db.alarm_events(session_id))
        shown = shown_after(AlarmEvent.model_validate_json(payload) for *_, payload in rows)
        gap = self.clock.now().timestamp() - last_record if last_record is not None else None
        interrupted_s = gap if gap is not None and gap >= 0 else None  # a wall clock stepped back: unknown
        log.warning(
            "session %s resumed: monitoring was interrupted for %s; %d alarm(s) shown again",
            session_id,
            f"{interrupted_s:.0f} s" if interrupted_s is not None else "an unknown time",
            len(shown),
        )
        for event in self.alarms.resume(shown, interrupted_s, session.audio_pause_until()):
            self.hub.publish(event)

    def _log_lights(self, lighting: LightingController) -> None:
        levels = " ".join(f"{cid}=" + ",".join(f"{v:.2f}" for v in out.levels) for cid, out in lighting.outputs.items())
        reason = lighting.current.reason if lighting.current is not None else "none"
        log.info("lights at the %s level: %s", reason, levels or "(no channels)", extra={"lighting": reason})

    async def _stop_feed(self, writer: StorageWriter) -> None:
        """MQTT stops last of the producers' consumers: the lights' safe-level state reaches the outbox first, then the
        publisher publishes what is pending (bounded) and says "offline"."""
        if "mqtt" in self.supervisor.services:
            await writer.flush()
            await self.supervisor.stop_one("mqtt")

    async def _stop_writer(self, writer: StorageWriter) -> None:
        await writer.stop()
        log.info("storage flushed: %d events written", writer.written)


class _AlarmCommands:
    """The alarm engine's commands: acknowledge, and set_limit (checked, recorded as a session event, then applied)."""

    def __init__(self, alarms: AlarmEngine, hub: Hub, session: SessionManager) -> None:
        self.alarms = alarms
        self.hub = hub
        self.session = session

    async def handle(self, command: Command, source: str) -> CommandResult:
        if isinstance(command, Acknowledge):
            return self.alarms.acknowledge_command(command, self.hub.publish)
        if isinstance(command, SetLimit):
            change = self.alarms.limit_change(command)
            if isinstance(change, str):
                return CommandResult(ok=False, message=change)
            try:
                await self.session.record_limit(
                    change.record(), change.describe(), lambda: self.alarms.session_limits_record(change)
                )
            except RoomctlError as e:  # not stored, or the session ended while it waited its turn
                return CommandResult(ok=False, message=f"limit not changed: it could not be recorded ({e})")
            self.hub.publish(self.alarms.apply_limit(change))
            log.info("%s (by %s)", change.describe(), source)
            return CommandResult(ok=True, message=change.describe())
        return CommandResult(ok=False, message=f"'{command.command}' is not an alarm command")

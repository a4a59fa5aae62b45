"""The therapists' screen: a Textual app that is only a client of the local API.

It runs without a daemon (it says so and keeps retrying). One timer paces the screen (the beat): a tick a second for
the readings, clocks and staleness; while an unacknowledged high or medium alarm is shown, every half-beat of its
flash, the tick's drawing done in the same frame as a flash. Anything else that arrives is drawn within 50 ms.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import ClassVar, Protocol

from textual import work
from textual.actions import parse as parse_action
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer

from roomctl.api.client import ApiUnavailable, Update
from roomctl.api.protocol import EventMessage, Heartbeat
from roomctl.clock import Clock, SystemClock
from roomctl.commands import (
    Acknowledge,
    Command,
    CommandResult,
    MarkEvent,
    MusicAction,
    MusicCommand,
    SetLevel,
    SetPhase,
    SetScene,
)
from roomctl.models import Priority
from roomctl.terminal.looks import FLASH_HALF_PERIOD_S, format_clock
from roomctl.terminal.painted import TextCell
from roomctl.terminal.quitting import QuittingApp
from roomctl.tui.adverse import AdverseDialog
from roomctl.tui.dialogs import (
    BaselineDialog,
    ChecklistDialog,
    DischargeDialog,
    blood_pressure_dialog,
    break_dialog,
    distress_dialog,
    dose_dialog,
    end_session_dialog,
    limit_dialog,
    note_dialog,
    open_items_dialog,
    start_session_dialog,
    temperature_dialog,
)
from roomctl.tui.keys import (
    Key,
    baseline_open,
    before_the_dose,
    discharge_offered,
    dose_key,
    in_dosing,
    in_session,
    no_session,
    with_music,
)
from roomctl.tui.view import RoomView, alarm_line
from roomctl.tui.widgets import (
    Band,
    Banner,
    KeysCell,
    LinkCell,
    RoomScreen,
    Stack,
    Vitals,
    lighting_line,
    link_line,
    music_line,
    session_lines,
    session_title,
    wearable_lines,
)

COALESCE_S = 0.05
"""Anything but a reading (an alarm, a command's answer, the link) is drawn within 50 ms."""
TICK_S = 1.0
"""The screen's tick: the clocks, countdowns and staleness, and the readings (about 4 a second from two wearables),
which all share this one frame a second (a number is shown at most 1 s late, as on a bedside monitor)."""


class Link(Protocol):
    """What the screen needs from the daemon: :class:`roomctl.api.client.ApiClient` provides it."""

    def updates(self) -> AsyncIterator[Update]: ...

    async def send(self, command: Command) -> CommandResult: ...


class RoomApp(QuittingApp):
    CSS_PATH = "roomctl.tcss"
    TITLE = "roomctl"
    ENABLE_COMMAND_PALETTE = False
    # The help line is made from these: every binding with show=True, in this order, when check_action allows it now.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a,space", "acknowledge", "ack", key_display="a"),
        Key("S", "start_session", "start session", when=no_session),
        Key("B", "baseline", "base", when=baseline_open),
        Key("C", "checklist", "checklist", when=before_the_dose),
        Key("d", "dose(False)", "dose", when=dose_key),
        Key("D", "dose(True)", "suppl", when=dose_key),
        Key("b", "break", "break", when=in_session),
        Key("n", "note", "note", when=in_session),
        Key("p", "blood_pressure", "BP", when=in_session),
        Key("t", "temperature", "temp", when=in_session),
        Key("r", "distress", "distress", when=in_session),
        Key("A", "adverse_event", "adverse", when=in_session),
        Key("left_square_bracket", "phase(-1)", "phase", key_display="[]", when=in_dosing),
        Key("right_square_bracket", "phase(1)", "next phase", show=False, when=in_dosing),
        Key("X", "discharge", "discharge", when=discharge_offered),
        Key("L", "limit", "limit", when=in_session),
        Key("E", "end_session", "end", when=in_session),
        Binding("1", "scene(1)", "scene", key_display="1-9"),
        *[Binding(str(n), f"scene({n})", f"scene {n}", show=False) for n in range(2, 10)],
        Binding("s", "next_scene", "next scene", show=False),
        Binding("plus,equals_sign", "light(0.1)", "dim", key_display="+-"),
        Key("m", "music('toggle')", "music", when=with_music),
        Key("M", "music('off')", "talk", when=with_music),
        Key("comma", "music('volume_down')", "vol", key_display=",.", when=with_music),
        Key("full_stop", "music('volume_up')", "louder", show=False, when=with_music),
        Key("greater_than_sign", "music('next')", "track", key_display=">", when=with_music),
        Binding("minus", "light(-0.1)", "dimmer", show=False),
        Binding("q", "quit", "quit"),
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),  # as in any terminal program, even in a dialog
    ]

    def __init__(self, link: Link, *, clock: Clock | None = None, link_clock: Clock | None = None) -> None:
        super().__init__()
        self.theme = "ansi-dark"
        self.link = link
        self.clock = clock or SystemClock()
        self.link_clock = link_clock or SystemClock()
        """Times the daemon's silence (real time even when ``clock`` is a test's fake)."""
        self.view = RoomView()
        self.message = ""
        self.commands_sent = 0
        self._beat_timer: Timer | None = None
        self._beats = 0
        self._beats_per_tick = 1
        self._flash_priority: Priority | None = None
        self._flash_on = True
        self._render_timer: Timer | None = None
        self._cells: dict[str, TextCell] = {}
        self._vitals: Vitals | None = None
        self._keys_for: tuple[object, ...] | None = None

    def get_default_screen(self) -> Screen[None]:
        return RoomScreen(id="_default")

    def compose(self) -> ComposeResult:
        with Band(id="header"):
            yield TextCell(id="room-name")
            yield LinkCell()
        yield Banner()
        yield Vitals()
        yield TextCell(id="music", wrap=False)  # shown in a room with music (RoomInfo.music)
        yield TextCell(id="session", wrap=False)
        with Band(id="bottom"):
            yield TextCell(id="wearables", wrap=False)
            with Stack(id="room-side"):
                yield TextCell(id="lighting", wrap=False)
                yield TextCell(id="message", wrap=False)
        yield KeysCell()

    def on_mount(self) -> None:
        self._start_beat()
        self.receive()
        self.refresh_view()

    def on_resize(self) -> None:
        self.call_after_refresh(self.refresh_view)

    @work(exclusive=True, group="link")
    async def receive(self) -> None:
        async for update in self.link.updates():
            hung = self.view.hung
            self.view.heard(self.link_clock.monotonic())
            self.view.apply_update(update, self.clock.monotonic())
            if isinstance(update, Heartbeat) and not hung:
                continue  # a heartbeat changes nothing on the screen (unless the daemon was silent until now)
            if isinstance(update, EventMessage) and update.event.kind in ("reading", "rr_intervals"):
                continue  # drawn on the next tick, with the other readings of this second
            self._schedule_render()

    def _schedule_render(self) -> None:
        """One redraw for a burst (an alarm and the events around it) within ``COALESCE_S``."""
        if self._render_timer is None:
            self._render_timer = self.set_timer(COALESCE_S, self._render_now)

    def _render_now(self) -> None:
        self._render_timer = None
        self.refresh_view()

    def refresh_view(self) -> None:
        self.view.check_heartbeat(self.link_clock.monotonic())
        self.draw_unless_quitting(self._draw)

    def _draw(self) -> None:
        view, now = self.view, self.clock.now()
        info = view.info
        self._cell("room-name").show(f"{info.name}  ({info.site}/{info.room})" if info else "roomctl")
        self._link.show_link(link_line(view), down=not view.connected)
        if self._vitals is None or not self._vitals.is_attached:
            self._vitals = self._main.query_one(Vitals)
        self._vitals.refresh_from(view, now, self.clock.monotonic())
        self._cell("session").show(session_lines(view, now))
        self._cell("wearables").show(wearable_lines(view))
        self._cell("lighting").show(lighting_line(view))
        with_music = info is not None and info.music
        if with_music != self._main.has_class("with-music"):
            self._main.set_class(with_music, "with-music")
        if with_music:
            self._cell("music").show(music_line(view, now))
        self._cell("message").show(self.message)
        self._refresh_banner(now)
        session = view.session
        keys_for = (
            session.id is None,
            session.ended_at is None,
            session.session_kind,
            session.discharge is None,
            bool(session.dose_times),
            session.baseline is not None and (session.baseline.open or session.baseline.source is None),
            info is not None and info.music,
        )
        if keys_for != self._keys_for:  # the keys that work change only with the session
            self._keys_for = keys_for
            self._keys.show_keys(self.help_entries())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Which keys work now: each binding row says when (:mod:`roomctl.tui.keys`)."""
        when = _WHEN.get(action)
        return True if when is None else when(self.view, parameters)

    def help_entries(self) -> list[tuple[str, str]]:
        """(key, word) for each binding shown in the help line that works now."""
        entries = []
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            _namespace, name, parameters = parse_action(binding.action)
            if binding.show and self.check_action(name, parameters):
                entries.append((binding.key_display or binding.key, binding.description))
        return entries

    @property
    def _main(self) -> Screen[object]:
        """The room screen: it keeps updating (and stays visible) under a dialog."""
        return self.screen_stack[0]

    def _cell(self, id_: str) -> TextCell:
        """The room screen's cell ``id_``, found once (a DOM query on every draw costs more than the drawing)."""
        cell = self._cells.get(id_)
        if cell is None or not cell.is_attached:
            cell = self._cells[id_] = self._main.query_one(f"#{id_}", TextCell)
        return cell

    @property
    def banner(self) -> Banner:
        banner = self._cell("banner")
        assert isinstance(banner, Banner)
        return banner

    @property
    def _link(self) -> LinkCell:
        link = self._cell("link")
        assert isinstance(link, LinkCell)
        return link

    @property
    def _keys(self) -> KeysCell:
        keys = self._cell("keys")
        assert isinstance(keys, KeysCell)
        return keys

    def _refresh_banner(self, now: datetime) -> None:
        view = self.view
        alarms = view.alarms_in_order()
        if not view.connected:
            text, top = "** NO LINK TO THE ROOM DAEMON: this screen cannot show alarms (retrying)", Priority.MEDIUM
        elif not alarms:
            text, top = "no alarms", None
        else:
            text, top = alarm_line(alarms[0]), alarms[0].priority
        second = []
        pause = view.pause_remaining(self.clock.monotonic()) if view.connected else 0.0
        if pause > 0:
            second.append(f"audio paused {int(pause) // 60}:{int(pause) % 60:02d}")
        if view.connected and (standby := view.standby_text(self.clock.monotonic())):
            second.append(standby)  # never silently: the wearables whose technical alarms are held, and until when
        if len(alarms) > 1 and view.connected:
            second.append(alarm_line(alarms[1]) + (f"  (+{len(alarms) - 2} more)" if len(alarms) > 2 else ""))
        self._set_flashing(view.flashing() if view.connected else None)
        acknowledged = bool(alarms) and all(a.acknowledged_at is not None for a in alarms) and view.connected
        self.banner.show_alarm(
            "\n".join([text, "   ".join(second)]) if second else text,
            top,
            acknowledged=acknowledged,
            flashing=self._flash_priority is not None,
            lit=self._flash_on,
        )

    def _set_flashing(self, priority: Priority | None) -> None:
        if priority == self._flash_priority:
            return
        self._flash_priority = priority
        self._flash_on = True
        self._start_beat()

    def _start_beat(self) -> None:
        """The beat: every ``TICK_S`` when nothing flashes, else every half-beat of the flash, with the tick's drawing
        on every beat that is due within ``TICK_S`` of the last (each beat at 0.83 s, each 4th at 0.25 s): a frame
        shows the flash and the readings together."""
        if self._beat_timer is not None:
            self._beat_timer.stop()
        period = FLASH_HALF_PERIOD_S[self._flash_priority] if self._flash_priority is not None else TICK_S
        self._beats, self._beats_per_tick = 0, max(1, int(TICK_S / period + 1e-9))
        self._beat_timer = self.set_interval(period, self._beat)

    def _beat(self) -> None:
        self._beats += 1
        if self._flash_priority is not None:
            self._flash_on = not self._flash_on
        if self._beats % self._beats_per_tick == 0:
            self.refresh_view()
        else:
            self.draw_unless_quitting(self._draw_flash)

    def _draw_flash(self) -> None:
        """The other half-beat: the banner's rows in the other look, both cached (nothing else is drawn)."""
        banner = self.banner
        banner.show_alarm(
            banner.shown, banner.priority, acknowledged=banner.acknowledged, flashing=True, lit=self._flash_on
        )

    @property
    def flash_timer_running(self) -> bool:
        """The banner flashes: the beat follows the flash."""
        return self._flash_priority is not None

    # --- actions: each sends one command -----------------------------------------------------------------------

    @work(group="send")
    async def send(self, command: Command) -> None:
        self.commands_sent += 1
        try:
            result = await self.link.send(command)
        except ApiUnavailable as e:
            self.message = f"not done: {e}"
        else:
            self.message = result.message or ("done" if result.ok else "refused")
            if not result.ok:
                self.message = f"refused: {self.message}"
        self._cell("message").show(self.message)

    def action_acknowledge(self) -> None:
        self.send(Acknowledge())

    def action_scene(self, number: int) -> None:
        scenes = self.view.info.scenes if self.view.info else ()
        if 1 <= number <= len(scenes):
            self.send(SetScene(scene=scenes[number - 1]))
        else:
            self._say(f"no scene {number} (this room has {len(scenes)})")

    def action_next_scene(self) -> None:
        scenes = list(self.view.info.scenes) if self.view.info else []
        if not scenes:
            self._say("this room has no scenes")
            return
        current = self.view.lighting.scene if self.view.lighting else None
        nxt = scenes[(scenes.index(current) + 1) % len(scenes)] if current in scenes else scenes[0]
        self.send(SetScene(scene=nxt))

    def action_light(self, delta: float) -> None:
        level = round(min(1.0, max(0.0, self.view.light_level() + delta)), 2)
        self.send(SetLevel(level=level))

    def action_music(self, action: MusicAction) -> None:
        self.send(MusicCommand(action=action))

    def action_dose(self, supplemental: bool) -> None:
        session = self.view.session
        warning = None
        if supplemental and session.dose_times and session.supplemental_window_min is not None:
            low, high = session.supplemental_window_min
            minutes = (self.clock.now() - session.dose_times[0]).total_seconds() / 60
            if not low <= minutes <= high:
                warning = f"{minutes:.0f} min after the dose, outside the {low:g}-{high:g} min window"
        self.push_screen(dose_dialog(supplemental, warning), self._dose_given)

    def _dose_given(self, command: Command | None) -> None:
        """Marking the dose with checklist items open asks once more (the daemon refuses it otherwise)."""
        open_items = [i.label for i in self.view.session.checklist if i.ticked_at is None]
        if isinstance(command, MarkEvent) and command.event == "dose" and open_items:
            self.push_screen(open_items_dialog(command, open_items), self._send_if_given)
        else:
            self._send_if_given(command)

    def action_checklist(self) -> None:
        if self.view.session.checklist:
            self.push_screen(ChecklistDialog(self.view.session.checklist), self._send_if_given)

    def action_baseline(self) -> None:
        b = self.view.session.baseline
        if b is not None:
            left = (b.full_at - self.clock.now()).total_seconds() if b.full_at is not None else 0.0
            self.push_screen(BaselineDialog(b, max(0.0, left)), self._send_if_given)

    def action_break(self) -> None:
        if self.view.session.on_break:
            self.send(MarkEvent(event="break_end"))
            return
        info = self.view.info
        wearables = [(w.id, w.label) for w in info.wearables] if info else []
        minutes = info.break_standby_min if info else 10.0
        self.push_screen(break_dialog(wearables, minutes), self._send_if_given)

    def action_note(self) -> None:
        self.push_screen(note_dialog(), self._send_if_given)

    def action_blood_pressure(self) -> None:
        self.push_screen(blood_pressure_dialog(), self._send_if_given)

    def action_temperature(self) -> None:
        self.push_screen(temperature_dialog(), self._send_if_given)

    def action_adverse_event(self) -> None:
        info = self.view.info
        if info is not None:
            dialog = AdverseDialog(list(info.adverse_categories), list(info.adverse_actions))
            self.push_screen(dialog, self._send_if_given)

    def action_distress(self) -> None:
        self.push_screen(distress_dialog(), self._send_if_given)

    def action_start_session(self) -> None:
        self.push_screen(start_session_dialog(), self._send_if_given)

    def action_limit(self) -> None:
        self.push_screen(limit_dialog(), self._send_if_given)

    def action_discharge(self) -> None:
        if self.view.session.discharge is not None:
            self.push_screen(DischargeDialog(self.view.session.discharge), self._send_if_given)

    def action_end_session(self) -> None:
        session = self.view.session
        if session.started_at is None:
            return
        ran = format_clock((self.clock.now() - session.started_at).total_seconds())
        self.push_screen(end_session_dialog(session_title(session), ran), self._send_if_given)

    def action_phase(self, step: int) -> None:
        phase = self.view.phase_step(step)
        if phase is None:
            self._say("no phase that way")
        else:
            self.send(SetPhase(phase=phase))

    def _send_if_given(self, command: Command | None) -> None:
        if command is not None:
            self.send(command)

    def _say(self, text: str) -> None:
        self.message = text
        self._cell("message").show(text)


_WHEN = {parse_action(b.action)[1]: b.when for b in RoomApp.BINDINGS if isinstance(b, Key)}
"""Action name -> when its key works (the two dose keys share one rule, told apart by their parameter)."""

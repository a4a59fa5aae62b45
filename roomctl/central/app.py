"""The nursing station's screen: a grid of room tiles, most urgent first, fed only by MQTT.

Only as many tiles exist as fit the screen (slots); every redraw puts the rooms, in urgency order, into the slots, and a
slot repaints only when its text or colour changes. Redraws are coalesced (at most ten a second) and a 2 s tick keeps
the clocks and the "no data" of expiring vitals honest. Flash timers run only while a shown tile flashes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar, TextIO

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal
from textual.css.query import NoMatches
from textual.filter import LineFilter
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from roomctl.central.state import ALARMING, Facility, RoomState
from roomctl.central.subscriber import Feed, LinkStatus
from roomctl.central.tiles import TILE_LINES, Clocks, detail_text, summary_line, tile_classes, tile_text
from roomctl.clock import Clock, SystemClock
from roomctl.models import Priority
from roomctl.quantities import STATION_VITALS
from roomctl.terminal.cell import Cell
from roomctl.terminal.glyphs import medium_digits, sparkline
from roomctl.terminal.looks import FLASH_HALF_PERIOD_S
from roomctl.terminal.quitting import QuittingApp

TILE_WIDTH = 26  # columns per tile, gap included
TILE_HEIGHT = TILE_LINES + 1  # a blank line between rows
RENDER_DELAY_S = 0.1
TICK_S = 2.0  # every shown tile recomposed (numbers, clocks, expiry): painting is most of the station's work
KEYS_HELP = "arrows select  enter detail  / filter  u alarming only  pgup/pgdn page  home top  q quit"
NO_ACK = "The station acknowledges nothing: acknowledge at the room's screen."


class FixedCell(Cell):
    """A cell whose size never depends on its text: an update repaints it without a layout pass."""

    def show(self, text: str | Text) -> None:
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)


RowKey = tuple[str, int, int, int, Style, tuple[LineFilter, ...], object]
ROWS_KEPT = 4096
"""Rows kept for every tile together (~1 KiB each): a tile's rows are found again when the order moves its room to
another slot, when only its numbers changed (the other lines stay), and in both halves of a flash."""


class Tile(Widget):
    """One slot of the grid; shows whichever room the current order puts here.

    Drawn with Textual's line API: each line is one segment in the tile's CSS style (its classes colour it), cut
    with an ellipsis to the tile's width. Painting tiles is most of the station's work; this skips the general text
    layout a Static does for every repaint, and each row is kept (:data:`ROWS_KEPT`, shared by all tiles) by its
    text, width, padding and style.

    The flash's dark half-beat (:meth:`set_flash_off`) is drawn here, not by a CSS class: the tile's colour as text
    on the screen's background, as on the room's screen. Toggling a class restyles the widget (Textual's stylesheet
    matching) twice a second per flashing tile; this only repaints, from rows kept for both halves."""

    room_key: tuple[str, str] | None = None
    _rows: ClassVar[dict[RowKey, Strip]] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown = ""
        self._lines: list[str] = [""]
        self.flash_off = False

    def show(self, text: str) -> None:
        if text != self._shown:
            self._shown = text
            self._lines = text.split("\n")
            self.refresh()

    def set_flash_off(self, off: bool) -> None:
        if off != self.flash_off:
            self.flash_off = off
            self.refresh()

    @property
    def shown(self) -> str:
        return self._shown

    def render_lines(self, crop: Region) -> list[Strip]:
        """The whole tile, padding included, without Textual's general styles cache (a tile has no border, tint or
        opacity)."""
        width, height = self.region.size
        style = self.visual_style.rich_style
        if self.flash_off:
            style = Style(color=style.bgcolor, bgcolor=self.screen.visual_style.rich_style.bgcolor, bold=style.bold)
        filters = tuple(self.get_line_filters())
        background = self.background_colors[1] if filters else None
        top, right, bottom, left = self.styles.padding
        lines, rows = self._lines, self._rows
        strips = []
        for y in range(crop.y, crop.bottom):
            line = lines[y - top] if top <= y < height - bottom and y - top < len(lines) else ""
            key = (line, width, left, right, style, filters, background)
            strip = rows.get(key)
            if strip is None:
                if len(rows) >= ROWS_KEPT:
                    rows.clear()
                strip = rows[key] = self._row(line, width, left, right, style, filters)
            strips.append(strip)
        if crop.x != 0 or crop.right != width:
            strips = [strip.crop(crop.x, crop.right) for strip in strips]
        return strips

    def _row(
        self, line: str, width: int, left: int, right: int, style: Style, filters: tuple[LineFilter, ...]
    ) -> Strip:
        inner = max(0, width - left - right)
        if cell_len(line) > inner:
            line = set_cell_size(line, max(0, inner - 1)) + "\u2026"
        strip = Strip([Segment(" " * left + set_cell_size(line, inner) + " " * right, style)], width)
        if filters:
            background = self.background_colors[1]
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)
        return strip


class DetailScreen(Screen[None]):
    """One room: everything its feed says, with HR and SpO2 trends (15 minutes; all since the station started)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "back"),
        Binding("a", "no_ack", show=False),
    ]

    def __init__(self, key: tuple[str, str]) -> None:
        super().__init__()
        self.key = key

    def compose(self) -> ComposeResult:
        yield Cell(id="detail-head", markup=False)
        with Horizontal(id="detail-vitals"):
            for vital in STATION_VITALS:
                yield Cell(id=f"detail-{vital.quantity.value}", classes="detail-vital", markup=False)
        yield Cell(id="detail-body", markup=False)
        yield Static("esc back  (the station acknowledges nothing)", id="detail-keys")

    def on_mount(self) -> None:
        self.set_interval(1.0, self.redraw)
        self.redraw()
        self.call_after_refresh(self.redraw)  # once laid out, the trends know their width

    def on_resize(self) -> None:
        self.call_after_refresh(self.redraw)

    def redraw(self) -> None:
        app = self.app
        if not isinstance(app, CentralApp) or not self.is_attached:
            return
        room = app.facility.rooms.get(self.key)
        if room is None:
            return
        clocks = app.clocks()
        try:
            self.query_one("#detail-head", Cell).show(detail_text(room, clocks).split("\n", 2)[0])
            self.query_one("#detail-body", Cell).show(detail_text(room, clocks).split("\n", 2)[2])
            for vital in STATION_VITALS:
                quantity, span = vital.quantity, vital.screen_span or 0.0
                cell = self.query_one(f"#detail-{quantity.value}", Cell)
                shown = room.vital(quantity, vital.decimals, now=clocks.now, mono=clocks.mono, stale_s=clocks.stale_s)
                width = max(8, cell.size.width - 8)
                t = clocks.now.timestamp()
                recent = sparkline(room.recent[quantity].series(t), width, 1, span)
                whole = sparkline(room.whole[quantity].series(t), width, 1, span)
                cell.show(f"{vital.short} {shown.why}\n{medium_digits(shown.text)}\n15m {recent}\nall {whole}".rstrip())
        except NoMatches:
            return

    def action_close(self) -> None:
        self.dismiss()

    def action_no_ack(self) -> None:
        self.notify(NO_ACK, severity="warning")


class CentralApp(QuittingApp):
    CSS_PATH = "central.tcss"
    TITLE = "roomctl central"
    ENABLE_COMMAND_PALETTE = False
    AUTO_FOCUS = None  # keys drive the grid; the filter box takes focus only while it is open
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1, 0)", show=False),
        Binding("right", "move(1, 0)", show=False),
        Binding("up", "move(0, -1)", show=False),
        Binding("down", "move(0, 1)", show=False),
        Binding("enter", "open", "detail", show=False),
        Binding("slash,f", "filter", "filter", show=False),
        Binding("u", "alarming_only", "alarming only", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("home", "top", show=False),
        Binding("escape", "clear_filter", show=False),
        Binding("a", "no_ack", show=False),
        Binding("q", "quit", "quit", show=False),
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
    ]

    def __init__(
        self,
        feed: Feed,
        facility: Facility,
        *,
        title: str = "roomctl nursing station",
        stale_s: float = 15.0,
        clock: Clock | None = None,
        trace_alarms: Path | None = None,
        flash: bool = True,
    ) -> None:
        super().__init__()
        self.flash = flash  # False: flashing tiles stay in their bright half-beat (steady pictures for snapshots)
        self.theme = "ansi-dark"
        self.feed = feed
        self.facility = facility
        self.station_title = title
        self.stale_s = stale_s
        self.clock = clock or SystemClock()
        self.text_filter = ""
        self.alarming_only = False
        self.page = 0
        self.selected: tuple[str, str] | None = None
        self.order: list[RoomState] = []
        self.redraws = 0
        self._render_pending = False
        self._flash_timers: dict[Priority, Timer] = {}
        self._flash_off: dict[Priority, bool] = {}
        self._trace: TextIO | None = trace_alarms.open("a", encoding="utf-8") if trace_alarms else None
        self._traced: set[tuple[str, str]] = set()
        self._dirty: set[tuple[str, str]] = set()  # rooms changed since the last redraw
        self._urgent: set[tuple[str, str]] = set()  # ... by anything but a vital
        self._texts: dict[tuple[str, str], str] = {}  # each room's tile text as last composed

    # --- layout ------------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield FixedCell(id="summary", markup=False)
        yield FixedCell(id="notice", markup=False)
        yield Grid(id="tiles")
        yield Input(id="filter", placeholder="filter rooms (name, site/room); enter keeps it, esc clears")
        yield Static(KEYS_HELP, id="keys")

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.set_interval(TICK_S, self.redraw)
        self.receive()
        self.call_after_refresh(self._layout_slots)

    def on_resize(self) -> None:
        self.call_after_refresh(self._layout_slots)

    def _layout_slots(self) -> None:
        grid = self.query_one("#tiles", Grid)
        width, height = max(1, grid.size.width), max(1, grid.size.height)
        columns = max(1, width // TILE_WIDTH)
        rows = max(1, (height + 1) // TILE_HEIGHT)
        grid.styles.grid_size_columns = columns
        wanted = columns * rows
        tiles = list(grid.query(Tile))
        if len(tiles) > wanted:
            for tile in tiles[wanted:]:
                tile.remove()
        elif len(tiles) < wanted:
            grid.mount_all([Tile(classes="tile") for _ in range(wanted - len(tiles))])
        self.call_after_refresh(self.redraw)

    @property
    def slots(self) -> list[Tile]:
        try:
            return list(self.screen_stack[0].query_one("#tiles", Grid).query(Tile))
        except (NoMatches, IndexError):
            return []

    # --- the feed ----------------------------------------------------------------------------------------------

    @work(exclusive=True, group="feed")
    async def receive(self) -> None:
        await self.feed.run(self.facility, self._changed)

    def _changed(self, key: tuple[str, str] | None, urgent: bool = True) -> None:
        """A room changed. Alarms, status, session and wearables redraw at once (coalesced for RENDER_DELAY_S);
        a new vital waits for the 2 s tick, which redraws the numbers anyway."""
        if key is not None:
            self._dirty.add(key)
            if urgent:
                self._urgent.add(key)
        if urgent and not self._render_pending:
            self._render_pending = True
            self.set_timer(RENDER_DELAY_S, self._render_now)

    def _render_now(self) -> None:
        self._render_pending = False
        self.redraw(full=False)
        for screen in self.screen_stack[1:]:
            if isinstance(screen, DetailScreen):
                screen.redraw()

    @property
    def render_pending(self) -> bool:
        return self._render_pending

    def clocks(self) -> Clocks:
        return Clocks(self.clock.now(), self.clock.monotonic(), self.stale_s)

    # --- drawing -----------------------------------------------------------------------------------------------

    def redraw(self, full: bool = True) -> None:
        """``full``: compose every shown tile anew (the 2 s tick: numbers, clocks, expiry); otherwise only the rooms
        changed by an alarm, status, session or wearable message since (the others keep their text until the tick)."""
        self.draw_unless_quitting(lambda: self._draw(full))

    def _draw(self, full: bool = True) -> None:
        self.redraws += 1
        clocks = self.clocks()
        main = self.screen_stack[0]
        self.order = self.facility.in_order(self.text_filter, self.alarming_only)
        slots = self.slots
        per_page = max(1, len(slots))
        pages = max(1, -(-len(self.order) // per_page))
        self.page = min(self.page, pages - 1)
        shown = self.order[self.page * per_page : (self.page + 1) * per_page]
        counts = self.facility.counts()
        unexpected = self.facility.unexpected()
        main.query_one("#summary", Cell).show(summary_line(self.station_title, counts, clocks.now, len(unexpected)))
        summary = main.query_one("#summary", Cell)
        summary.set_class(counts[ALARMING[0]] > 0, "any-high")
        summary.set_class(counts[ALARMING[0]] == 0 and counts[ALARMING[1]] > 0, "any-medium")
        main.query_one("#notice", Cell).show(self._notice(self.feed.status, shown, pages, unexpected))
        main.query_one("#notice", Cell).set_class(not self.feed.status.connected, "down")
        flashing: set[Priority] = set()
        several_sites = len({key[0] for key in self.facility.rooms}) > 1
        for i, tile in enumerate(slots):
            room = shown[i] if i < len(shown) else None
            tile.room_key = room.key if room else None
            if room is None:
                tile.show("")
                for name in ("priority-high", "priority-medium", "priority-low", "technical", "offline", "calm"):
                    tile.set_class(False, name)
                tile.set_class(True, "empty")
                continue
            tile.set_class(False, "empty")
            text = self._texts.get(room.key)
            if full or text is None or room.key in self._urgent:
                text = self._texts[room.key] = tile_text(
                    room, clocks, selected=room.key == self.selected, site=several_sites
                )
            tile.show(text)
            for name, on in tile_classes(room).items():
                tile.set_class(on, name)
            flash = room.flashing() if room.expected else None
            tile.set_class(flash is not None, "flashing")
            tile.set_flash_off(flash is not None and self._flash_off.get(flash, False))
            if flash is not None:
                flashing.add(flash)
        self._set_flash_timers(flashing)
        if self._trace is not None and self._dirty:
            self._trace_alarms()
        self._dirty.clear()
        self._urgent.clear()

    def _notice(self, link: LinkStatus, shown: list[RoomState], pages: int, unexpected: list[RoomState]) -> str:
        parts = [] if link.connected else [f"BROKER: {link.detail} - tiles may be out of date"]
        on_screen = {r.key for r in shown}
        hidden = sorted(
            (
                r
                for r in self.facility.rooms.values()
                if r.expected and r.urgency() in ALARMING and r.key not in on_screen
            ),
            key=RoomState.sort_key,
        )
        if hidden:
            parts.append(f"{len(hidden)} alarming room(s) not shown: {', '.join(r.label for r in hidden[:3])} (home)")
        if unexpected:
            alarming = sum(r.urgency() in ALARMING for r in unexpected)
            names = ", ".join(f"{r.site}/{r.room}" for r in unexpected[:3])
            parts.append(f"{len(unexpected)} room(s) not in central.toml, shown last ({alarming} alarming): {names}")
        dropped = self.facility.dropped
        if dropped:
            reason, _ = dropped.most_common(1)[0]
            parts.append(f"DROPPED {dropped.total()} message(s): {reason}" + (" and more" if len(dropped) > 1 else ""))
        if self.text_filter or self.alarming_only:
            parts.append(f"filter: {self.text_filter or '*'}{' alarming only' if self.alarming_only else ''}")
        parts.append(f"{len(self.facility.rooms)} rooms, page {self.page + 1}/{pages}")
        if self.facility.unreadable:
            parts.append(f"{self.facility.unreadable} unreadable message(s)")
        return "   ".join(parts)

    def _trace_alarms(self) -> None:
        """For the benchmark: when each (alarm, priority) first reached the screen (after the repaint)."""
        fresh = []
        for key in self._dirty:
            room = self.facility.rooms.get(key)
            for alarm in room.alarms.values() if room else ():
                mark = (alarm.id, alarm.priority.value)
                if mark not in self._traced:
                    self._traced.add(mark)
                    fresh.append(mark)
        if fresh:
            self.call_after_refresh(self._write_trace, fresh)

    def _write_trace(self, marks: list[tuple[str, str]]) -> None:
        if self._trace is not None:
            stamp = time.time()
            self._trace.writelines(f"{alarm_id} {priority} {stamp:.6f}\n" for alarm_id, priority in marks)
            self._trace.flush()

    def _set_flash_timers(self, wanted: set[Priority]) -> None:
        if not self.flash:
            wanted = set()
        for priority in list(self._flash_timers):
            if priority not in wanted:
                self._flash_timers.pop(priority).stop()
                self._flash_off[priority] = False
        for priority in wanted - set(self._flash_timers):
            self._flash_timers[priority] = self.set_interval(
                FLASH_HALF_PERIOD_S[priority], lambda pr=priority: self._flash(pr)
            )

    def _flash(self, priority: Priority) -> None:
        self._flash_off[priority] = not self._flash_off.get(priority, False)
        for tile in self.slots:
            room = self.facility.rooms.get(tile.room_key) if tile.room_key else None
            if room is not None and room.expected and room.flashing() is priority:
                tile.set_flash_off(self._flash_off[priority])

    @property
    def flash_timers(self) -> set[Priority]:
        return set(self._flash_timers)

    # --- keys --------------------------------------------------------------------------------------------------

    def _visible(self) -> list[tuple[str, str]]:
        return [t.room_key for t in self.slots if t.room_key is not None]

    def action_move(self, dx: int, dy: int) -> None:
        visible = self._visible()
        if not visible:
            return
        columns = max(1, self.query_one("#tiles", Grid).styles.grid_size_columns or 1)
        index = visible.index(self.selected) if self.selected in visible else -1
        index = 0 if index < 0 else min(len(visible) - 1, max(0, index + dx + dy * columns))
        self.selected = visible[index]
        self.redraw()

    def action_open(self) -> None:
        if self.selected is None:
            visible = self._visible()
            self.selected = visible[0] if visible else None
        if self.selected is not None:
            self.push_screen(DetailScreen(self.selected))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.text_filter
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.text_filter = event.value.strip()
        self.page = 0
        self.redraw()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        self.set_focus(None)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value, box.display = "", False
        self.set_focus(None)
        self.text_filter, self.page = "", 0
        self.redraw()

    def action_alarming_only(self) -> None:
        self.alarming_only = not self.alarming_only
        self.page = 0
        self.redraw()

    def action_page(self, step: int) -> None:
        self.page = max(0, self.page + step)
        self.redraw()

    def action_top(self) -> None:
        self.page = 0
        self.redraw()

    def action_no_ack(self) -> None:
        self.notify(NO_ACK, severity="warning")

    async def action_quit(self) -> None:
        if self._trace is not None:
            self._trace.close()
            self._trace = None
        self.exit()

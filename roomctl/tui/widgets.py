"""The screen's parts. Each repaints only the rows whose text changed (:mod:`roomctl.terminal.painted`);
:class:`roomctl.terminal.cell.Cell` (a Static) is for screens where a repaint's cost does not matter."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar

from rich.cells import set_cell_size
from textual.containers import Horizontal, Vertical
from textual.screen import Screen

from roomctl.alarms.texts import baseline_words
from roomctl.models import MusicPlay, Priority, Quantity, SessionKind, SessionState
from roomctl.quantities import SCREEN_VITALS, VitalDescription
from roomctl.terminal.glyphs import big_digits, medium_digits, sparkline
from roomctl.terminal.painted import Painted, Row, Span, TextCell, wrapped
from roomctl.tui.view import RoomView, format_hours


class RoomScreen(Screen[None]):
    """The room's screen: its background is painted as blank rows, without Textual's general styles cache (it is
    painted again under every part that changes)."""

    BLANK = True


class Band(Horizontal):
    """Parts side by side; only a background of its own (blank rows)."""

    BLANK = True


class Stack(Vertical):
    """Parts one above the other; only a background of its own (blank rows)."""

    BLANK = True


class VitalBlock:
    """One vital's part of :class:`Vitals`: name, unit and limits (or why there is no number); the number in block
    digits; its 15-minute and session trends and their ranges. Its rows are made again only when what they show
    changed: the digits only when the number changes, the trends once per finished bucket."""

    LABEL_WIDTH: ClassVar[dict[bool, int]] = {True: 12, False: 10}
    VALUE_WIDTH: ClassVar[dict[bool, int]] = {True: 24, False: 14}

    def __init__(self, spec: VitalDescription, *, large: bool) -> None:
        self.spec = spec
        self.large = large
        self.height = 5 if large else 3
        self.nodata = False
        self.width = 0
        self._trend_key: tuple[int | None, ...] | None = None
        self._digits_of: str | None = None
        self._label = ""
        self._parts: dict[str, list[str]] = {"label": [], "value": [], "recent": [], "whole": [], "range": [""]}
        self._columns: dict[str, list[str]] = {}  # the parts cut or padded to their columns, row by row
        self._rows: list[Row] | None = None

    def shown(self, part: str) -> str:
        """What one part shows: ``label`` (before wrapping), ``value`` (the digits), ``recent``, ``whole`` (the trends)
        or ``range``."""
        return self._label if part == "label" else "\n".join(self._parts[part])

    @property
    def trend_width(self) -> int:
        """Columns for a sparkline: the block's rest after the label and the number, less the trend's name."""
        return max(4, self.width - self.LABEL_WIDTH[self.large] - self.VALUE_WIDTH[self.large] - 4)

    def refresh_from(self, view: RoomView, now: datetime, monotonic: float, width: int) -> list[Row]:
        """This vital's rows, ``width`` columns wide, for ``view`` at ``now`` (wall) and ``monotonic`` (the screen's
        clock, for ages)."""
        spec = self.spec
        q = spec.quantity
        if width != self.width:
            self.width, self._trend_key, self._rows, self._label, self._digits_of = width, None, None, "", None
        reading = view.vital(spec, now, monotonic)
        if (reading.text == "--") != self.nodata:
            self.nodata, self._rows = reading.text == "--", None
        # name and unit, the alarm limits in force beside the value, and why there is no number (large blocks have the
        # rows for both; a small one shows why instead of the limits while it has no number)
        shown = view.shown_reading(q, now, monotonic)
        limits = view.limits_text(q, shown.device if shown is not None else None)
        if self.large:
            label = f"{spec.short} {spec.unit}\n{limits}\n{reading.status}".rstrip("\n")
        else:
            label = f"{spec.short} {spec.unit}\n{reading.status or limits}"
        if label != self._label:
            self._label, self._rows = label, None
            self._parts["label"] = wrapped(label, self.LABEL_WIDTH[self.large])
            self._columns["label"] = _column(self._parts["label"], self.LABEL_WIDTH[self.large], self.height)
        if reading.text != self._digits_of:  # the big digits are made only when the number changes
            self._digits_of, self._rows = reading.text, None
            digits = big_digits(reading.text) if self.large else medium_digits(reading.text)
            self._parts["value"] = digits.split("\n")
            self._columns["value"] = _column(self._parts["value"], self.VALUE_WIDTH[self.large], self.height)
        self._refresh_trends(view, now)
        if self._rows is None:
            self._rows = self._make_rows()
        return self._rows

    def _refresh_trends(self, view: RoomView, now: datetime) -> None:
        spec = self.spec
        q = spec.quantity
        width = self.trend_width
        t = now.timestamp()
        recent, whole = view.trends.recent[q], view.trends.whole[q]
        # Trends show finished buckets only (10 s and 30 s means): each is drawn once per bucket, not on every reading.
        key = (
            width,
            int(t // recent.bucket_s),
            recent.resets,
            recent.newest,  # readings that came after a drawing at the same clock time (late, or a clock held)
            int(t // whole.bucket_s),
            whole.resets,
            whole.newest,
        )
        if key == self._trend_key:
            return
        self._trend_key, self._rows = key, None
        height = 2 if self.large else 1
        t_recent, t_whole = t - recent.bucket_s, t - whole.bucket_s
        self._parts["recent"] = _labelled(
            "15m", sparkline(recent.series(t_recent), width, height, spec.screen_span or 0.0)
        )
        self._parts["whole"] = _labelled(
            "all", sparkline(whole.series(t_whole), width, height, spec.screen_span or 0.0)
        )
        r15, rall = recent.range(t_recent), whole.range(t_whole)
        fmt = f".{spec.decimals}f"
        ranges = (("15m", r15), ("all", rall)) if self.large else (("15m", r15),)
        self._parts["range"] = ["  ".join(f"{name} {rng[0]:{fmt}}-{rng[1]:{fmt}}" for name, rng in ranges if rng)]
        trends = self._parts["recent"] + self._parts["whole"] + self._parts["range"]
        self._columns["trends"] = _column(
            trends, self.width - self.LABEL_WIDTH[self.large] - self.VALUE_WIDTH[self.large], self.height
        )

    def _make_rows(self) -> list[Row]:
        label_look = "vital--label-nodata" if self.nodata else "vital--label"
        value_look = "vital--value-nodata" if self.nodata else ("vital--value" if self.large else "vital--value-small")
        columns = self._columns
        return [
            (
                (label, label_look),
                (value, value_look),
                (trend, "vital--range" if y == self.height - 1 else "vital--trend"),
            )
            for y, (label, value, trend) in enumerate(
                zip(columns["label"], columns["value"], columns["trends"], strict=True)
            )
        ]


class Vitals(Painted):
    """The four vitals in one widget, drawn with the line API (:class:`Painted`): heart rate and SpO2 large, one above
    the other, then pulse rate and perfusion index side by side. A tick in which only the numbers changed repaints
    only the digits' columns."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "vital--label",
        "vital--label-nodata",
        "vital--value",
        "vital--value-small",
        "vital--value-nodata",
        "vital--trend",
        "vital--range",
    }
    GAP = 2
    """Columns between the small vitals."""

    def __init__(self) -> None:
        super().__init__(id="vitals")
        self.blocks = {spec.quantity: VitalBlock(spec, large=i < 2) for i, spec in enumerate(SCREEN_VITALS)}

    def block(self, quantity: Quantity) -> VitalBlock:
        return self.blocks[quantity]

    def refresh_from(self, view: RoomView, now: datetime, monotonic: float) -> None:
        width = self.painted_size.width
        large = [b for b in self.blocks.values() if b.large]
        small = [b for b in self.blocks.values() if not b.large]
        gap: Row = (("", ""),)
        rows: list[Row] = []
        gaps = 2 if self.painted_size.height >= FULL_HEIGHT else 1  # a room with music gives its line one gap
        for i, block in enumerate(large):  # one above the other, a blank row after each
            rows += block.refresh_from(view, now, monotonic, width)
            if i < gaps:
                rows.append(gap)
        first = (width - self.GAP) // 2
        left = small[0].refresh_from(view, now, monotonic, first)
        right = small[1].refresh_from(view, now, monotonic, width - self.GAP - first)
        rows += [(*a, (" " * self.GAP, ""), *b) for a, b in zip(left, right, strict=True)]
        self.paint(rows)


FULL_HEIGHT = 15
"""The vitals' rows at 80x24 (HR 5, gap, SpO2 5, gap, PR and PI 3); a room with music has 14 and the music line."""


def _labelled(name: str, spark: str) -> list[str]:
    """The sparkline's rows, the trend's name before the last."""
    lines = spark.split("\n")
    pad = " " * (len(name) + 1)
    return [(f"{name} " if i == len(lines) - 1 else pad) + line for i, line in enumerate(lines)]


def _column(lines: list[str], width: int, height: int) -> list[str]:
    """``lines`` as a column of a block: ``height`` rows, each cut or padded to exactly ``width`` cells."""
    return [set_cell_size(lines[y] if y < len(lines) else "", max(0, width)) for y in range(height)]


class Banner(TextCell):
    """The alarm banner: the top alarm's priority colours it; an unacknowledged high or medium alarm flashes, the
    other half-beat dim. A look is a component style, so a flash swaps between two cached looks of the same rows
    (no change of CSS classes, no style recomputation)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "banner--high",
        "banner--high-dim",
        "banner--medium",
        "banner--medium-dim",
        "banner--low",
    }

    def __init__(self) -> None:
        super().__init__(id="banner", pad=1)
        self.priority: Priority | None = None
        self.acknowledged = False
        self.flashing = False
        self.lit = True

    @property
    def look_words(self) -> set[str]:
        """The banner's look in words: ``priority-high``, ``acknowledged``, ``flashing``, ``flash-off``."""
        words = {f"priority-{self.priority.value}"} if self.priority else set()
        if self.acknowledged:
            words.add("acknowledged")
        if self.flashing:
            words.add("flashing")
            if not self.lit:
                words.add("flash-off")
        return words

    def show_alarm(
        self, text: str, priority: Priority | None, *, acknowledged: bool, flashing: bool, lit: bool = True
    ) -> None:
        self.priority, self.acknowledged, self.flashing, self.lit = priority, acknowledged, flashing, lit
        look = ""
        if priority is Priority.LOW:
            look = "banner--low"
        elif priority is not None:
            dim = acknowledged or (flashing and not lit)
            look = f"banner--{priority.value}{'-dim' if dim else ''}"
        self.show(text, look)


class LinkCell(TextCell):
    """The daemon link in the header: its width follows its text; a lost link is shown in the alert look."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"link--down"}

    def __init__(self) -> None:
        super().__init__(id="link", sized_by_text=True)

    def show_link(self, text: str, *, down: bool) -> None:
        self.show(text, "link--down" if down else "")


class KeysCell(TextCell):
    """The help line: keys bright, words dim, laid out by :func:`keys_rows`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"keys--key"}

    def __init__(self) -> None:
        super().__init__(id="keys", wrap=False)
        self._rows_shown: list[Row] = []

    def show_keys(self, entries: Iterable[tuple[str, str]]) -> None:
        self._rows_shown = keys_rows(entries)
        self._shown = "\n".join("".join(text for text, _ in row) for row in self._rows_shown)
        self.paint(self._rows_shown)

    def _repaint(self) -> None:
        self.paint(self._rows_shown)


HELP_WIDTH = 80
"""The help line is laid out for the narrowest screen (the Linux console's 80 columns), two rows at most."""


def keys_rows(entries: Iterable[tuple[str, str]], width: int = HELP_WIDTH) -> list[Row]:
    """The key lines from (key as displayed, word) pairs: keys bright, words dim; an entry never splits across rows."""
    rows: list[list[Span]] = [[]]
    column = 0
    for key, word in entries:
        entry = len(key) + 1 + len(word)
        if column and column + 1 + entry > width:
            rows.append([])
            column = 0
        elif column:
            rows[-1].append((" ", ""))
            column += 1
        rows[-1] += [(key, "keys--key"), (f" {word}", "")]
        column += entry
    return [tuple(row) for row in rows]


NO_SESSION = "No session - monitoring with the room's limits.\nS starts one: preparation, dosing or integration."


def session_title(session: SessionState) -> str:
    """ "Dosing session", "Preparation session", ..."""
    return f"{session.session_kind.value.capitalize()} session" if session.session_kind else "Session"


def baseline_text(s: SessionState, now: datetime) -> str:
    """The baseline before the dose: ``baseline? HR 72, SpO2 98 (B)`` proposed, ``baseline HR 72, SpO2 98`` confirmed;
    after the dose only its absence is shown (the room's absolute limits)."""
    b = s.baseline
    if b is None:
        return ""
    if b.source is not None:
        return f"baseline {'entered ' if b.source == 'entered' else ''}{baseline_words(b.values)}" if b.open else ""
    if not b.open:
        return "NO BASELINE: room limits"
    left = (b.full_at - now).total_seconds() if b.full_at is not None else 0.0
    if left > 0 or not b.values:
        return f"baseline? collecting {format_minutes(left)} (B)" if left > 0 else "baseline? no data yet (B)"
    return f"baseline? {baseline_words(b.values)} (B)"


def checklist_text(s: SessionState) -> str:
    """``checklist 4/6 (C)`` before the dose; after it, nothing (the record has the ticks)."""
    if not s.checklist or s.dose_times:
        return ""
    ticked = sum(1 for i in s.checklist if i.ticked_at is not None)
    return f"checklist {ticked}/{len(s.checklist)} (C)"


def dose_text(s: SessionState, now: datetime) -> str:
    """``since dose 1:32`` (from the initial dose), with the supplemental: ``since dose 2:40, suppl. 0:50``."""
    if not s.dose_times:
        return ""
    text = f"since dose {format_hours((now - s.dose_times[0]).total_seconds())}"
    if len(s.dose_times) > 1:
        text += f", suppl. {format_hours((now - s.dose_times[-1]).total_seconds())}"
        text += f" ({len(s.dose_times) - 1} suppl.)" if len(s.dose_times) > 2 else ""
    return text


def fitted(parts: list[str], gap: str, width: int = HELP_WIDTH) -> str:
    """The parts in order, as many as fit in ``width`` (the first always): a line that is never cut mid-word."""
    line = parts[0] if parts else ""
    for part in parts[1:]:
        if len(line) + len(gap) + len(part) > width:
            break
        line += gap + part
    return line


def session_lines(view: RoomView, now: datetime) -> str:
    s = view.session
    if s.id is None:
        return NO_SESSION
    first = session_title(s)
    since_start = f"since start {format_hours((now - s.started_at).total_seconds())}" if s.started_at else ""
    if s.ended_at is not None:
        first += " (ended)"
        since_start = ""
    dosing = s.session_kind is SessionKind.DOSING
    check = check_words(s, now) if dosing and s.next_vitals_check is not None else ""
    before_dose = dosing and not s.dose_times and s.ended_at is None
    baseline = baseline_text(s, now) if dosing else ""
    if before_dose:  # the start of the day: the checklist and the vitals check up here, the baseline below
        parts = [first, since_start, check, checklist_text(s)]
    else:
        parts = [first, dose_text(s, now), baseline, since_start]
    if s.on_break:
        parts.insert(1, "ON BREAK")
    first = fitted([p for p in parts if p], "   " if before_dose else "  ")
    if not dosing:
        return f"{first}\nThe room and the record: light, notes; vitals optional (p BP, t temp)"
    second = f"Phase: {view.phase_label(s.phase)}"
    if s.suggested_phase and s.suggested_phase != s.phase:
        second += f"  (suggested: {view.phase_label(s.suggested_phase)})"
    if before_dose:
        second += f"   {baseline}" if baseline else ""
    elif s.next_vitals_check is not None and check:
        # due or overdue leads the line: a long phase label may cut its end at 80 columns, never the check
        second = f"{check}   {second}" if s.next_vitals_check <= now else f"{second}   {check}"
    if s.discharge is not None:
        if s.discharge.checked_at is not None:
            second += f"   discharge check done {s.discharge.checked_at.astimezone():%H:%M}"
        else:
            second += "   discharge: " + ("READY (X)" if s.discharge.vitals_ready else "not yet (X: why)")
    return f"{first}\n{second}"


CHECK_PARTS = {"blood_pressure": "BP", "temperature": "temp"}


def check_words(s: SessionState, now: datetime) -> str:
    """ "vitals check in 12 min", "check DUE: BP temp", "check OVERDUE 4 min: temp" (what it still needs)."""
    assert s.next_vitals_check is not None
    due = (s.next_vitals_check - now).total_seconds()
    if due > 0:
        return f"vitals check in {format_minutes(due)}"
    needs = " ".join(CHECK_PARTS.get(p, p) for p in s.vitals_check_missing)
    over = s.vitals_check_overdue_at
    if over is not None and now >= over:
        return f"check OVERDUE {format_minutes((now - s.next_vitals_check).total_seconds())}: {needs}"
    return f"check DUE: {needs}"


def wearable_lines(view: RoomView) -> str:
    """One entry per wearable; with more than two, two entries per line (the screen has two lines for them)."""
    entries = []
    for w in view.info.wearables if view.info else ():
        d = view.devices.get(w.id)
        if d is None:
            entries.append(f"{w.label[:14]:<14} unknown")
            continue
        text = f"{w.label[:14]:<14} {d.state.value}"
        text += f" batt {d.battery:.0f}%" if d.battery is not None else ""
        text += f" {d.rssi}dBm" if d.rssi is not None else ""
        if d.conditions:
            text += " " + ",".join(c.value.replace("_", " ") for c in d.conditions)
        entries.append(text)
    if not entries:
        return "no wearables configured"
    if len(entries) <= 2:
        return "\n".join(entries)
    pairs = [entries[i : i + 2] for i in range(0, len(entries), 2)]
    return "\n".join(
        f"{a[:39]:<40}{b[:39] if b else ''}" for a, b in ((p[0], p[1] if len(p) > 1 else "") for p in pairs)
    )


def music_line(view: RoomView, now: datetime, width: int = HELP_WIDTH) -> str:
    """``Music  Onset playlist · Title — Artist  2:14  vol 40 %  (ducked)``: one row, cut to the screen's width."""
    m = view.music
    if m is None:
        return "Music  waiting for the music player"
    if m.state is MusicPlay.UNREACHABLE:
        return "Music  player unreachable (retrying); monitoring is not affected"
    parts = ["Music "]
    if m.playlist:
        parts.append(f"{m.playlist} playlist ·")
    track = m.title or (m.file.rsplit("/", 1)[-1] if m.file else "")
    if m.state is MusicPlay.STOP:
        parts.append("stopped")
    elif track:
        parts.append(f"{track} — {m.artist}" if m.artist else track)
    if m.state is not MusicPlay.STOP and m.elapsed_s is not None:
        ran = (now - m.ts).total_seconds() if m.state is MusicPlay.PLAY else 0.0
        parts.append(f" {format_duration_clock(m.elapsed_s + max(0.0, ran))}")
    if m.volume is not None:
        parts.append(f" vol {m.volume * 100:.0f} %" + (f" → {m.fade_to * 100:.0f} %" if m.fade_to is not None else ""))
    if m.held:
        parts.append(" (off for talking)")
    elif m.ducked:
        parts.append(" (ducked)")
    elif m.state is MusicPlay.PAUSE:
        parts.append(" (paused)")
    line = " ".join(parts)
    return line if len(line) <= width else line[: width - 1] + "…"


def format_duration_clock(seconds: float) -> str:
    """``2:14`` (or ``1:02:14``): a position in a track."""
    s = int(max(0, seconds))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def lighting_line(view: RoomView) -> str:
    light = view.lighting
    if light is None:
        return "Light: unknown"
    scene = light.scene or "custom"
    why = f" ({light.reason})" if light.reason else ""
    return f"Light: {scene} {view.light_level() * 100:.0f}%{why}"


def link_line(view: RoomView) -> str:
    if not view.connected:
        return f"{view.link_problem}, retrying" if view.link_problem else "connecting to the daemon..."
    parts = ["daemon ok"]
    for h in sorted(view.health.values(), key=lambda h: h.service):
        parts.append(f"{h.service} {'ok' if h.ok else 'DOWN'}")
    return "  ".join(parts)


def format_minutes(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"

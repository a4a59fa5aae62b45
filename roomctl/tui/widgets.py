"""The screen's parts. Each redraws only when what it shows changes (``Cell.show`` compares before it updates)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from roomctl.models import SessionKind, SessionState
from roomctl.tui.glyphs import big_digits, medium_digits, sparkline
from roomctl.tui.view import RoomView, VitalSpec, format_hours


class Cell(Static):
    """A Static that refreshes only when its text actually changes, and then repaints only itself: its size is set in
    the stylesheet, so new text needs no layout of the screen (``sized_by_text=True`` for the one cell whose width
    follows its text)."""

    _shown: str | Text | None = None

    def __init__(self, *, sized_by_text: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sized_by_text = sized_by_text

    def show(self, text: str | Text) -> None:
        if text != self._shown:
            self._shown = text
            self.update(text, layout=self.sized_by_text)

    @property
    def shown(self) -> str:
        shown = self._shown or ""
        return shown.plain if isinstance(shown, Text) else shown


class VitalPanel(Horizontal):
    """One vital: name, unit and limits; the number in large block digits; its 15-minute and session trends."""

    def __init__(self, spec: VitalSpec, *, large: bool) -> None:
        super().__init__(id=f"vital-{spec.quantity.value}", classes="vital large" if large else "vital small")
        self.spec = spec
        self.large = large
        self.nodata = False
        self._trend_key: tuple[int, ...] | None = None
        self._digits_of: str | None = None
        self._parts: dict[str, Cell] = {}

    def compose(self) -> ComposeResult:
        q = self.spec.quantity.value
        yield Cell(id=f"{q}-label", classes="vital-label", markup=False)
        yield Cell(id=f"{q}-value", classes="vital-value", markup=False)
        with Vertical(classes="vital-trends"):
            yield Cell(id=f"{q}-recent", classes="trend", markup=False)
            yield Cell(id=f"{q}-whole", classes="trend", markup=False)
            yield Cell(id=f"{q}-range", classes="trend-range", markup=False)

    def _part(self, name: str) -> Cell:
        """One of this panel's cells, found once."""
        cell = self._parts.get(name)
        if cell is None or not cell.is_attached:
            cell = self._parts[name] = self.query_one(f"#{self.spec.quantity.value}-{name}", Cell)
        return cell

    def refresh_from(self, view: RoomView, now: datetime) -> None:
        spec = self.spec
        q = spec.quantity
        reading = view.vital(spec, now)
        self.set_class(reading.text == "--", "nodata")
        # name and unit, the alarm limits in force beside the value, and why there is no number (large panels have the
        # rows for both; a small one shows why instead of the limits while it has no number)
        limits = view.limits_text(q)
        if self.large:
            label = f"{spec.label} {spec.unit}\n{limits}\n{reading.status}".rstrip("\n")
        else:
            label = f"{spec.label} {spec.unit}\n{reading.status or limits}"
        self._part("label").show(label)
        if reading.text != self._digits_of:  # the big digits are drawn only when the number changes
            self._digits_of = reading.text
            digits = big_digits(reading.text) if self.large else medium_digits(reading.text)
            self._part("value").show(digits)
        recent_cell = self._part("recent")
        width = max(4, recent_cell.size.width - 4)
        t = now.timestamp()
        recent, whole = view.trends.recent[q], view.trends.whole[q]
        # Trends show finished buckets only (10 s and 30 s means): each is drawn once per bucket, not on every reading.
        key = (width, int(t // recent.bucket_s), recent.resets, int(t // whole.bucket_s), whole.resets)
        if key == self._trend_key:
            return
        self._trend_key = key
        height = 2 if self.large else 1
        t_recent, t_whole = t - recent.bucket_s, t - whole.bucket_s
        recent_cell.show(_labelled("15m", sparkline(recent.series(t_recent), width, height, spec.min_span)))
        self._part("whole").show(_labelled("all", sparkline(whole.series(t_whole), width, height, spec.min_span)))
        r15, rall = recent.range(t_recent), whole.range(t_whole)
        fmt = f".{spec.decimals}f"
        ranges = (("15m", r15), ("all", rall)) if self.large else (("15m", r15),)
        parts = [f"{name} {rng[0]:{fmt}}-{rng[1]:{fmt}}" for name, rng in ranges if rng]
        self._part("range").show("  ".join(parts))


def _labelled(name: str, spark: str) -> str:
    lines = spark.split("\n")
    pad = " " * (len(name) + 1)
    return "\n".join((f"{name} " if i == len(lines) - 1 else pad) + line for i, line in enumerate(lines))


NO_SESSION = "No session - monitoring with the room's limits.\nS starts one: preparation, dosing or integration."


def session_title(session: SessionState) -> str:
    """ "Dosing session", "Preparation session", ..."""
    return f"{session.session_kind.value.capitalize()} session" if session.session_kind else "Session"


def session_lines(view: RoomView, now: datetime) -> str:
    s = view.session
    if s.id is None:
        return NO_SESSION
    first = session_title(s)
    if s.ended_at is not None:
        first += " (ended)"
    elif s.started_at is not None:
        first += f"   since start {format_hours((now - s.started_at).total_seconds())}"
    if s.dose_times:
        first += f"   since dose {format_hours((now - s.dose_times[-1]).total_seconds())}"
        if len(s.dose_times) > 1:
            first += f" ({len(s.dose_times)} doses)"
    if s.on_break:
        first += "   ON BREAK"
    if s.session_kind is not SessionKind.DOSING:
        return f"{first}\nThe room and the record: light, notes; vitals optional (p BP, t temp)"
    second = f"Phase: {view.phase_label(s.phase)}"
    if s.suggested_phase and s.suggested_phase != s.phase:
        second += f"  (suggested: {view.phase_label(s.suggested_phase)})"
    if s.next_vitals_check is not None:
        due = (s.next_vitals_check - now).total_seconds()
        second += "   vitals check DUE" if due <= 0 else f"   vitals check in {format_minutes(due)}"
    if s.discharge is not None:
        if s.discharge.checked_at is not None:
            second += f"   discharge check done {s.discharge.checked_at.astimezone():%H:%M}"
        else:
            second += "   discharge: " + ("READY (X)" if s.discharge.vitals_ready else "not yet (X: why)")
    return f"{first}\n{second}"


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

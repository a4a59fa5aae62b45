"""Widgets drawn with Textual's line API: each row is one cached strip, rebuilt only when its text or style changes.

A Static lays its text out again on every repaint and goes through Textual's general styles cache; on the room screen
that was most of the screen's CPU (readings arrive about once a second). A :class:`Painted` widget holds its rows as
(text, style) spans; a new row repaints only that row (``refresh(Region)``), a row shown before comes back from the
cache (the banner's flash swaps two cached looks), and nothing here ever needs a layout of the screen.
The styles stay in the stylesheet: a span names one of the widget's component classes ("" is the widget's own style).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.filter import LineFilter
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

Span = tuple[str, str]
"""Text and the component class that styles it ("" for the widget's own style)."""
Row = tuple[Span, ...]
"""One row: its spans left to right; the rest of the row takes the last span's style."""

ELLIPSIS = "\u2026"
_CACHED_ROWS = 64  # a widget's strips for the rows shown now and recently (the flash's two looks, digits coming back)


def wrapped(text: str, width: int) -> list[str]:
    """``text``'s lines wrapped at spaces to ``width`` (a word longer than the width is folded), as a Static wraps."""
    lines: list[str] = []
    for line in text.split("\n"):
        if cell_len(line) <= width or width <= 0:
            lines.append(line)
        else:
            lines.extend(textwrap.wrap(line, width, break_on_hyphens=False) or [""])
    return lines


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, an ellipsis marking a cut (as ``text-overflow: ellipsis``)."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(0, width - 1)) + ELLIPSIS if width > 0 else ""


def changed_columns(old: Row, new: Row, width: int) -> tuple[int, int]:
    """The columns ``[x0, x1)`` in which ``new`` differs from ``old``: from the first span that differs to the end of
    the last, or to the row's end when that is the last span or the changed spans' widths differ."""
    if len(old) != len(new):
        return 0, width
    changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    first, last = changed[0], changed[-1]
    x0 = sum(cell_len(text) for text, _ in new[:first])
    old_width = sum(cell_len(text) for text, _ in old[first : last + 1])
    new_width = sum(cell_len(text) for text, _ in new[first : last + 1])
    if last == len(new) - 1 or old_width != new_width:
        return min(x0, width), width
    return min(x0, width), min(x0 + new_width, width)


class Painted(Widget):
    """Rows of styled spans, painted by the widget itself (padding and background included)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: list[Row] = []
        self._strips: dict[Row, Strip] = {}
        self._styles: dict[str, Style] = {}
        self._strip_key: tuple[int, Style, tuple[LineFilter, ...]] | None = None
        self.rows_repainted = 0
        """Rows marked for repainting so far (each frame paints only these)."""
        self.strips_built = 0
        """Rows built into strips so far (a row shown before comes from the cache)."""
        self.painted_size = Size(0, 0)
        """The widget's size as of its last resize (``Widget.size`` is computed again on every use)."""

    def on_resize(self, event: events.Resize) -> None:
        self.painted_size = event.size
        self.resized()

    def resized(self) -> None:
        """Called when the size changed (subclasses lay their text out again)."""

    def paint(self, rows: Sequence[Row]) -> None:
        """Show ``rows``: only the rows that differ from those shown are repainted, and of those only the columns
        from the first span that changed to the last (the digits of a panel, not its label and trends)."""
        old, new = self._rows, list(rows)
        if old == new:
            return
        self._rows = new
        width = self.painted_size.width
        if not width:
            self.refresh()
            return
        regions = []
        for y in range(max(len(old), len(new))):
            if y >= len(old) or y >= len(new):
                regions.append(Region(0, y, width, 1))
            elif old[y] != new[y]:
                x0, x1 = changed_columns(old[y], new[y], width)
                regions.append(Region(x0, y, x1 - x0, 1))
        self.rows_repainted += len(regions)
        self.refresh(*regions)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def style_of(self, name: str) -> Style:
        """The Rich style of a span: the widget's own, or its component class ``name`` over it."""
        style = self._styles.get(name)
        if style is None:
            base = self.visual_style.rich_style
            style = base if not name else base + self.get_component_rich_style(name, partial=True)
            self._styles[name] = style
        return style

    def render_lines(self, crop: Region) -> list[Strip]:
        """The rows in ``crop`` from the cache; a row is built again only when its spans, the width or the style
        changed."""
        width = self.region.width
        filters = tuple(self.get_line_filters())
        key = (width, self.visual_style.rich_style, filters)
        if key != self._strip_key:
            self._strip_key = key
            self._strips.clear()
            self._styles.clear()
        rows, empty = self._rows, ()
        strips = [self._strip(rows[y] if y < len(rows) else empty, width, filters) for y in range(crop.y, crop.bottom)]
        if crop.x != 0 or crop.right != width:
            strips = [strip.crop(crop.x, crop.right) for strip in strips]
        return strips

    def render_line(self, y: int) -> Strip:
        return self.render_lines(Region(0, y, self.region.width, 1))[0]

    def _strip(self, row: Row, width: int, filters: tuple[LineFilter, ...]) -> Strip:
        strip = self._strips.get(row)
        if strip is not None:
            return strip
        segments, x = [], 0
        style = self.style_of("")
        for text, name in row:
            style = self.style_of(name)
            text = set_cell_size(text, min(cell_len(text), width - x))
            if text:
                segments.append(Segment(text, style))
                x += cell_len(text)
        if x < width:
            segments.append(Segment(" " * (width - x), style))
        strip = Strip(segments, width)
        self.strips_built += 1
        if filters:
            background = self.background_colors[1]
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)
        if len(self._strips) >= _CACHED_ROWS:
            self._strips.clear()
        self._strips[row] = strip
        return strip


class TextCell(Painted):
    """Text in the widget's style, one row per line: wrapped at spaces like a Static (``wrap=True``) or cut with an
    ellipsis; ``pad`` blank columns each side. ``sized_by_text``: the width follows the text (a layout only when the
    width changes)."""

    def __init__(self, *, wrap: bool = True, pad: int = 0, sized_by_text: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wrap = wrap
        self.pad = pad
        self.sized_by_text = sized_by_text
        self._shown = ""
        self._look = ""
        self._laid_out_for = -1

    @property
    def shown(self) -> str:
        return self._shown

    def show(self, text: str, look: str = "") -> None:
        """Show ``text`` in the component style ``look`` ("" for the widget's own)."""
        if text == self._shown and look == self._look and self._laid_out_for == self.painted_size.width:
            return
        if self.sized_by_text and cell_len(self._longest(text)) != cell_len(self._longest(self._shown)):
            self._shown, self._look = text, look
            self.refresh(layout=True)
            # Painted once the new width is known: painted now, the text would wrap at the old width for a frame.
            self.call_after_refresh(self._repaint)
            return
        self._shown, self._look = text, look
        self._repaint()

    def resized(self) -> None:
        self._repaint()

    def _repaint(self) -> None:
        width, height = self.painted_size
        self._laid_out_for = width
        inner = max(0, width - 2 * self.pad)
        lines = wrapped(self._shown, inner) if self.wrap else [cut(line, inner) for line in self._shown.split("\n")]
        height = max(1, height)
        lines = lines[:height] + [""] * (height - len(lines))  # every row in the look (a banner's background)
        side = " " * self.pad
        self.paint([((f"{side}{line}", self._look),) for line in lines])

    @staticmethod
    def _longest(text: str) -> str:
        return max(text.split("\n"), key=cell_len)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return cell_len(self._longest(self._shown)) + 2 * self.pad

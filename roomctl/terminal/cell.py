"""A text cell that repaints only when its text changes."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static


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

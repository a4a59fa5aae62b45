"""An app that knows it was asked to exit, so its drawing timers can stop quietly (Textual's own flag is private)."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import RenderableType
from textual.app import App
from textual.css.query import NoMatches


class QuittingApp(App[None]):
    quitting = False
    """Set by :meth:`exit`: from then on the screens are being torn down."""

    def exit(self, result: None = None, return_code: int = 0, message: RenderableType | None = None) -> None:
        self.quitting = True
        super().exit(result, return_code, message)

    def draw_unless_quitting(self, draw: Callable[[], None]) -> None:
        """Run a timer's drawing; while the app quits there is nothing to draw on, so a missing widget is no error."""
        try:
            draw()
        except (NoMatches, IndexError):
            if self.is_running and not self.quitting:
                raise

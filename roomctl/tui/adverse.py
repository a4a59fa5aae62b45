"""The adverse-event dialog (``A``): category, severity, action taken, emergency services called, one key each, then
optional text kept on the Pi; Enter records, Escape cancels. The answers go through the one strict command parse."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from roomctl.commands import Command, parse_command
from roomctl.models import Severity


def words(item: str) -> str:
    """A configuration id as the screen says it: ``anxiety_or_panic`` -> "anxiety or panic"."""
    return item.replace("_", " ")


def _keyed(items: list[str]) -> dict[str, str]:
    return {str(i): item for i, item in enumerate(items, 1)}


class AdverseDialog(ModalScreen[Command | None]):
    """Four questions answered with one key each, then an optional line of text."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel", show=False)]

    def __init__(self, categories: list[str], actions: list[str]) -> None:
        super().__init__()
        self.steps: list[tuple[str, str, dict[str, Any]]] = [
            ("category", "What happened?", _keyed(categories)),
            ("severity", "Severity?", _keyed([s.value for s in Severity])),
            ("action", "Action taken? (0 none)", {**_keyed(actions), "0": None}),
            ("emergency_services", "Emergency services called? y yes  n no", {"y": True, "n": False}),
        ]
        self.answers: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Adverse event", id="dialog-title", markup=False)
            yield Static(self._so_far(), id="dialog-so-far", markup=False)
            yield Static(self._question(), id="dialog-hint", markup=False)
            yield Input(placeholder="optional text, kept on the Pi", id="dialog-input", disabled=True)
            yield Static("", id="dialog-error", markup=False)

    def _step(self) -> tuple[str, str, dict[str, Any]] | None:
        return self.steps[len(self.answers)] if len(self.answers) < len(self.steps) else None

    def _question(self) -> str:
        step = self._step()
        if step is None:
            return "Anything to add (kept on the Pi, never sent)? Enter records; Escape cancels."
        _field, question, choices = step
        if _field == "emergency_services":
            return question
        picks = "   ".join(f"{k} {words(v)}" for k, v in choices.items() if v is not None)
        return f"{question}  {picks}"

    def _so_far(self) -> str:
        shown = []
        for name, value in self.answers.items():
            if name == "emergency_services":
                shown.append("emergency services called" if value else "no emergency services")
            elif value is not None:
                shown.append(words(str(value)))
        return ", ".join(shown) or "Escape cancels at any step."

    def on_key(self, event: Key) -> None:
        step = self._step()
        if step is None or event.character is None:
            return
        name, _question, choices = step
        if event.character in choices:
            event.stop()
            self.answers[name] = choices[event.character]
            self.query_one("#dialog-so-far", Static).update(self._so_far())
            self.query_one("#dialog-hint", Static).update(self._question())
            if self._step() is None:
                field = self.query_one("#dialog-input", Input)
                field.disabled = False
                field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        entry = {"command": "adverse_event", **self.answers, **({"text": text} if text else {})}
        if entry.get("action") is None:
            entry.pop("action", None)
        try:
            command = parse_command(entry)
        except ValueError as e:
            self.query_one("#dialog-error", Static).update(str(e))
            return
        self.dismiss(command)

    def action_cancel(self) -> None:
        self.dismiss(None)

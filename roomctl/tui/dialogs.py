"""Small entry dialogs: note, blood pressure, temperature, distress rating, dose. Enter confirms, Escape cancels; errors in words."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from roomctl.alarms.texts import baseline_words, duration_words
from roomctl.commands import Command, DischargeCheck, EndSession, MarkEvent, StartSession, parse_command
from roomctl.models import BaselineStatus, ChecklistItemState, DischargeStatus, SessionKind

Parser = Callable[[str], Command]


class EntryDialog(ModalScreen[Command | None]):
    """Asks for one line, turns it into a command with ``parse`` (which raises ValueError with a reason).

    The parsers build the command's data and hand it to the one strict parse the local API and MQTT use too, so a
    refusal reads the same wherever it comes from.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel", show=False)]

    def __init__(self, title: str, hint: str, parse: Parser, placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint
        self.parse = parse
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, id="dialog-title", markup=False)
            yield Static(self.hint, id="dialog-hint", markup=False)
            yield Input(placeholder=self.placeholder, id="dialog-input")
            yield Static("", id="dialog-error", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            command = self.parse(event.value.strip())
        except ValueError as e:
            self.query_one("#dialog-error", Static).update(str(e))
            return
        self.dismiss(command)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceDialog(ModalScreen[Command | None]):
    """A question answered with one key: each key in ``choices`` dismisses with its command (None: nothing to do)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel", show=False)]

    def __init__(self, title: str, hint: str, choices: dict[str, Command | None]) -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, id="dialog-title", markup=False)
            yield Static(self.hint, id="dialog-hint", markup=False)

    def on_key(self, event: Key) -> None:
        if event.character in self.choices:
            event.stop()
            self.dismiss(self.choices[event.character])

    def action_cancel(self) -> None:
        self.dismiss(None)


def start_session_dialog() -> ChoiceDialog:
    kinds = {"p": SessionKind.PREPARATION, "d": SessionKind.DOSING, "i": SessionKind.INTEGRATION}
    choices: dict[str, Command | None] = {key: StartSession(session_kind=kind) for key, kind in kinds.items()}
    hint = "p preparation   d dosing   i integration   (Escape: no session)"
    return ChoiceDialog("Start a session", hint, choices)


def break_dialog(wearables: list[tuple[str, str]], minutes: float) -> ChoiceDialog:
    """A break offers standby for the wearables taken off: all of them, one of them (1-9), or none (light only)."""
    ids = tuple(w for w, _ in wearables)
    choices: dict[str, Command | None] = {"a": MarkEvent(event="break_start", standby=ids)} if ids else {}
    picks = [f"{i} {label}" for i, (_, label) in enumerate(wearables[:9], 1)]
    for i, (w, _) in enumerate(wearables[:9], 1):
        choices[str(i)] = MarkEvent(event="break_start", standby=(w,))
    choices["n"] = MarkEvent(event="break_start")
    off = f"a all off   {'   '.join(picks)}   " if ids else ""
    hint = f"Standby for the wearables taken off (at most {minutes:g} min): {off}n none (light only)   Escape: no break"
    return ChoiceDialog("Start a break", hint, choices)


def end_session_dialog(title: str, ran: str) -> ChoiceDialog:
    hint = f"It has run {ran}. y ends it and closes the record; n or Escape keeps it running."
    return ChoiceDialog(f"End the {title.lower()}?", hint, {"y": EndSession(), "n": None})


class DischargeDialog(ModalScreen[Command | None]):
    """The discharge check: what the room's data say, and the team's two ticks (o, s); Enter records, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", show=False),
        Binding("o", "tick('oriented')", "oriented", show=False),
        Binding("s", "tick('support')", "support person", show=False),
        Binding("enter", "record", "record", show=False),
    ]

    def __init__(self, status: DischargeStatus) -> None:
        super().__init__()
        self.status = status
        self.ticks = {"oriented": False, "support": False}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Discharge check", id="dialog-title", markup=False)
            yield Static("\n".join(self.status.findings), id="dialog-findings", markup=False)
            yield Static(self._ticks_text(), id="dialog-ticks", markup=False)
            yield Static("Enter records the check; Escape cancels.", id="dialog-hint", markup=False)

    def _ticks_text(self) -> str:
        def box(on: bool) -> str:
            return "[x]" if on else "[ ]"

        return (
            f"{box(self.ticks['oriented'])} o  oriented and grounded\n"
            f"{box(self.ticks['support'])} s  support person present for the ride home"
        )

    def action_tick(self, which: str) -> None:
        self.ticks[which] = not self.ticks[which]
        self.query_one("#dialog-ticks", Static).update(self._ticks_text())

    def action_record(self) -> None:
        self.dismiss(
            DischargeCheck(oriented_and_grounded=self.ticks["oriented"], support_person_present=self.ticks["support"])
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


class BaselineDialog(ModalScreen[Command | None]):
    """The proposed baseline: c confirms it, r re-takes it (its window starts again), e enters one by hand."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", show=False),
        Binding("c", "choose('confirm')", "confirm", show=False),
        Binding("r", "choose('retake')", "re-take", show=False),
        Binding("e", "enter", "enter by hand", show=False),
    ]

    def __init__(self, status: BaselineStatus, collecting_s: float) -> None:
        super().__init__()
        self.status = status
        self.collecting_s = collecting_s

    def compose(self) -> ComposeResult:
        b = self.status
        window = duration_words(b.window_s)
        if b.source is not None:
            how = "entered by hand" if b.source == "entered" else "confirmed"
            text, keys = f"{how}: {baseline_words(b.values)}", "e enters another by hand   Escape: keep it"
        elif not b.open:
            text = "none confirmed before the dose: the room's absolute limits apply"
            keys = "e enters it by hand (e.g. from the screening visit)   Escape: leave it"
        else:
            proposed = baseline_words(b.values) or "no data yet"
            when = f"  ({duration_words(self.collecting_s)} to go)" if self.collecting_s > 0 else ""
            text = f"proposed: {proposed}{when}\nthe median of the last {window} of resting data"
            keys = "c confirm   r re-take (start again)   e enter by hand   Escape"
        with Vertical(id="dialog"):
            yield Static("Baseline (before the dose)", id="dialog-title", markup=False)
            yield Static(text, id="dialog-findings", markup=False)
            yield Static(keys, id="dialog-hint", markup=False)

    def action_choose(self, action: str) -> None:
        if self.status.source is None and self.status.open:
            self.dismiss(parse_command({"command": "baseline", "action": action}))

    def action_enter(self) -> None:
        self.app.push_screen(baseline_entry_dialog(), self.dismiss)

    def action_cancel(self) -> None:
        self.dismiss(None)


BASELINE_HINT = "hr 72 [spo2 98] [bp 118/76] [temp 36.8]; hr is needed"


def parse_baseline(text: str) -> Command:
    """``hr 72 spo2 98 bp 118/76 temp 36.8`` (hr needed; a bare first number is the heart rate)."""
    entry: dict[str, object] = {"command": "baseline", "action": "enter"}
    tokens = text.lower().replace(",", " ").split()
    if tokens and re.fullmatch(r"\d{2,3}", tokens[0]):
        tokens.insert(0, "hr")
    if len(tokens) % 2:
        raise ValueError(f"type names and values, {BASELINE_HINT}")
    for name, value in zip(tokens[::2], tokens[1::2], strict=True):
        if name in ("hr", "pr", "pulse") and value.isdigit():
            entry["heart_rate"] = int(value)
        elif name == "spo2" and value.isdigit():
            entry["spo2"] = int(value)
        elif name == "bp" and (bp := re.fullmatch(r"(\d{2,3})/(\d{2,3})", value)):
            entry["systolic"], entry["diastolic"] = int(bp[1]), int(bp[2])
        elif name in ("temp", "t") and re.fullmatch(r"\d{2}(\.\d)?", value):
            entry["celsius"] = float(value)
        else:
            raise ValueError(f"'{name} {value}' is not understood; {BASELINE_HINT}")
    return parse_command(entry)


def baseline_entry_dialog() -> EntryDialog:
    return EntryDialog("Baseline entered by hand", BASELINE_HINT, parse_baseline, "hr 72 spo2 98 bp 118/76")


def parse_note(text: str) -> Command:
    if not text:
        raise ValueError("type a note first (Escape cancels)")
    return parse_command({"command": "mark", "event": "note", "text": text})


def parse_blood_pressure(text: str) -> Command:
    match = re.fullmatch(r"(\d{1,3})\s*/\s*(\d{1,3})(?:\s+(\d{1,3}))?", text)
    if match is None:
        raise ValueError("type systolic/diastolic and optionally the pulse, e.g. 128/82 76")
    entry: dict[str, object] = {"command": "blood_pressure", "systolic": int(match[1]), "diastolic": int(match[2])}
    if match[3]:
        entry["pulse_rate"] = int(match[3])
    return parse_command(entry)


def parse_temperature(text: str) -> Command:
    try:
        celsius = float(text.replace(",", "."))
    except ValueError as e:
        raise ValueError("type the temperature in °C, e.g. 37.2") from e
    return parse_command({"command": "temperature", "celsius": celsius})


def parse_distress(text: str) -> Command:
    if not text.isdigit() or not 0 <= int(text) <= 10:
        raise ValueError("type the distress rating as a whole number from 0 (none) to 10 (worst)")
    return parse_command({"command": "distress", "rating": int(text)})


def dose_parser(event: str) -> Parser:
    def parse(text: str) -> Command:
        if not text:
            return parse_command({"command": "mark", "event": event})
        try:
            amount = float(text.replace(",", "."))
        except ValueError as e:
            raise ValueError("the amount is a number of mg between 0 and 500, or leave it empty") from e
        return parse_command({"command": "mark", "event": event, "amount_mg": amount})

    return parse


LIMIT_NAMES = {
    "hr": "heart_rate",
    "spo2": "spo2",
    "pr": "pulse_rate",
    "pulse": "pulse_rate",
    "pi": "perfusion_index",
    "temp": "temperature",
    "sys": "systolic",
    "dia": "diastolic",
}
"""What a therapist types for a quantity (the canonical names work too)."""
LIMIT_HINT = "e.g. hr high 130, spo2 low 88, hr 45-130 (hr spo2 pr pi temp sys dia)"


def parse_limit(text: str) -> Command:
    """``hr high 130``, ``spo2 low 88`` or ``hr 45-130``: a limit for this session, checked by the one command parse."""
    match = re.fullmatch(
        r"([a-z_0-9]+)\s+(?:(low|high)\s+(\d+(?:[.,]\d+)?)|(\d+(?:[.,]\d+)?)\s*-\s*(\d+(?:[.,]\d+)?))", text.lower()
    )
    if match is None:
        raise ValueError(f"type a vital and its limit, {LIMIT_HINT}")
    name, direction, value, low, high = match.groups()
    quantity = LIMIT_NAMES.get(name, name)
    if quantity not in LIMIT_NAMES.values():
        raise ValueError(f"no vital '{name}' here; type one of: {' '.join(LIMIT_NAMES)}")
    entry: dict[str, object] = {"command": "set_limit", "quantity": quantity}

    def number(given: str) -> float:
        return float(given.replace(",", "."))

    if direction is not None:
        entry[direction] = number(value)
    else:
        entry["low"], entry["high"] = number(low), number(high)
    return parse_command(entry)


def limit_dialog() -> EntryDialog:
    return EntryDialog("Alarm limit for this session", LIMIT_HINT, parse_limit, "hr high 130")


def note_dialog() -> EntryDialog:
    return EntryDialog("Note", "Enter saves the note with the time; Escape cancels.", parse_note)


def blood_pressure_dialog() -> EntryDialog:
    return EntryDialog(
        "Blood pressure", "systolic/diastolic [pulse], e.g. 128/82 76", parse_blood_pressure, "128/82 76"
    )


def temperature_dialog() -> EntryDialog:
    return EntryDialog("Temperature", "body temperature in °C, e.g. 37.2", parse_temperature, "37.2")


def distress_dialog() -> EntryDialog:
    return EntryDialog("Distress rating", "0 (none) to 10 (worst), as the patient says it now", parse_distress, "0-10")


def dose_dialog(supplemental: bool, warning: str | None = None) -> EntryDialog:
    """The dose (or supplemental dose) with its amount; ``warning``: a supplemental dose outside its window."""
    event = "supplemental_dose" if supplemental else "dose"
    title = "Supplemental dose given now?" if supplemental else "Dose given now (T0)?"
    if warning:
        title += f"  WARNING: {warning}"
    return EntryDialog(title, "amount in mg (optional); Enter marks it now, Escape cancels", dose_parser(event), "mg")


def open_items_dialog(dose: Command, open_items: list[str]) -> ChoiceDialog:
    """Asked once more before a dose with checklist items open: y gives it (recorded with them), n goes back."""
    hint = (
        "open: " + "; ".join(open_items) + "\ny gives the dose now (recorded with the open items); n or Escape: not yet"
    )
    return ChoiceDialog(f"Checklist: {len(open_items)} item(s) open. Dose anyway?", hint, {"y": dose, "n": None})


class ChecklistDialog(ModalScreen[Command | None]):
    """The pre-dose checklist: 1-9 tick or untick an item, Enter records the ticks, Escape leaves it as it was."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", show=False),
        Binding("enter", "record", "record", show=False),
    ]

    def __init__(self, items: tuple[ChecklistItemState, ...]) -> None:
        super().__init__()
        self.items = items
        self.ticked = {i.id for i in items if i.ticked_at is not None}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Before the dose: the checklist", id="dialog-title", markup=False)
            yield Static(self._text(), id="dialog-ticks", markup=False)
            yield Static("1-9 tick or untick; Enter records; Escape cancels", id="dialog-hint", markup=False)

    def _text(self) -> str:
        return "\n".join(
            f"{'[x]' if i.id in self.ticked else '[ ]'} {n}  {i.label}" for n, i in enumerate(self.items, 1)
        )

    def on_key(self, event: Key) -> None:
        if event.character and event.character.isdigit() and 1 <= int(event.character) <= len(self.items):
            event.stop()
            item = self.items[int(event.character) - 1].id
            self.ticked ^= {item}
            self.query_one("#dialog-ticks", Static).update(self._text())

    def action_record(self) -> None:
        self.dismiss(
            parse_command({"command": "checklist", "ticked": [i.id for i in self.items if i.id in self.ticked]})
        )

    def action_cancel(self) -> None:
        self.dismiss(None)

"""The baseline as a clinical act: a proposal from the most recent resting data before the dose, which the team confirms,
re-takes or replaces with one entered by hand.

The proposal is a rolling window: the median of each vital over the most recent ``[alarms] baseline_window_s`` of
valid wearable readings (sampled once a second, the session manager's tick), so an anxious arrival or the walk to the
couch drops out of it as the patient settles. It is offered once the window has data from its start to its end (a
re-take starts the window again); it stops at the dose. Blood pressure and temperature are the last ones entered before
the dose. Nothing here applies until the team confirms: a session without a confirmed baseline keeps the room's
absolute limits.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta

from roomctl.alarms.baseline import BaselineRecord
from roomctl.alarms.texts import QUANTITY_NAMES, duration_words, with_unit
from roomctl.commands import SetBaseline
from roomctl.models import BaselineStatus, Quantity

PROPOSED = (Quantity.HEART_RATE, Quantity.PULSE_RATE, Quantity.SPO2)
"""What the window proposes from the wearables; blood pressure and temperature come from the last entered."""
ENTERED = (Quantity.SYSTOLIC, Quantity.DIASTOLIC, Quantity.TEMPERATURE)


class ProposalWindow:
    """The most recent ``window_s`` of one-per-second samples of each proposed vital, on the monotonic clock."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._samples: dict[Quantity, deque[tuple[float, float]]] = {
            q: deque(maxlen=int(window_s) * 2 + 10) for q in PROPOSED
        }
        self._since: float | None = None

    def restart(self, mono: float) -> None:
        """A new session, or a re-take: forget what was collected, the window starts now."""
        for samples in self._samples.values():
            samples.clear()
        self._since = mono

    def stop(self) -> None:
        self._since = None
        for samples in self._samples.values():
            samples.clear()

    @property
    def running(self) -> bool:
        return self._since is not None

    def add(self, quantity: Quantity, value: float, mono: float) -> None:
        samples = self._samples.get(quantity)
        if samples is None or self._since is None:
            return
        samples.append((mono, value))
        while samples and samples[0][0] < mono - self.window_s:
            samples.popleft()

    def full_in_s(self, mono: float) -> float:
        """Seconds until the window has data from its start to its end (0: it has)."""
        if self._since is None:
            return self.window_s
        return max(0.0, self._since + self.window_s - mono)

    def proposal(self, mono: float) -> dict[Quantity, float]:
        """The median of each vital over the window (whole numbers, as the screen shows them)."""
        out: dict[Quantity, float] = {}
        for quantity, samples in self._samples.items():
            recent = [v for t, v in samples if t >= mono - self.window_s]
            if recent:
                out[quantity] = float(round(statistics.median(recent)))
        return out


def entered_before_dose(manual: Mapping[str, list[list[float]]]) -> dict[Quantity, float]:
    """The last blood pressure and temperature entered (the session's ``manual`` record), for the proposal."""
    out: dict[Quantity, float] = {}
    pressures, temperatures = manual.get("blood_pressure", []), manual.get("temperature", [])
    if pressures:
        out[Quantity.SYSTOLIC], out[Quantity.DIASTOLIC] = pressures[-1][0], pressures[-1][1]
    if temperatures:
        out[Quantity.TEMPERATURE] = temperatures[-1][0]
    return out


def refusal(
    action: str, window: ProposalWindow, mono: float, dosed: bool, confirmed: list[BaselineRecord]
) -> str | None:
    """Why ``confirm`` or ``retake`` cannot be done now (None: it can)."""
    if dosed:
        return (
            "the dose was given: a baseline from now on would measure its effects; enter the baseline by hand if it is"
            " known (e.g. from the screening visit)"
        )
    if confirmed:
        return "the baseline is confirmed already; enter one by hand to replace it"
    if action == "confirm":
        left = window.full_in_s(mono)
        if left > 0:
            return (
                f"the proposal needs {duration_words(window.window_s)} of resting data, {duration_words(left)} to go;"
                " or enter the baseline by hand"
            )
        values = window.proposal(mono)
        if Quantity.HEART_RATE not in values and Quantity.PULSE_RATE not in values:
            return "no heart rate or pulse rate in the window to propose; check the wearables, or enter it by hand"
    return None


def entered(command: SetBaseline) -> dict[Quantity, float]:
    """A baseline entered by hand: its heart rate stands for the pulse rate too (an oximeter-only room)."""
    assert command.heart_rate is not None  # the command's validation asks for it
    values = {Quantity.HEART_RATE: float(command.heart_rate), Quantity.PULSE_RATE: float(command.heart_rate)}
    if command.spo2 is not None:
        values[Quantity.SPO2] = float(command.spo2)
    if command.systolic is not None and command.diastolic is not None:
        values[Quantity.SYSTOLIC], values[Quantity.DIASTOLIC] = float(command.systolic), float(command.diastolic)
    if command.celsius is not None:
        values[Quantity.TEMPERATURE] = command.celsius
    return values


def status(
    window: ProposalWindow,
    confirmed: list[BaselineRecord],
    manual: Mapping[str, list[list[float]]],
    mono: float,
    now: datetime,
    dosed: bool,
) -> BaselineStatus:
    """What the screen shows: the confirmed baseline, or the proposal (with when its window is full)."""
    if confirmed:
        source = "entered" if any(b.source == "entered" for b in confirmed) else "confirmed"
        return BaselineStatus(
            source=source, values={b.quantity: b.value for b in confirmed}, window_s=window.window_s, open=not dosed
        )
    values = {**window.proposal(mono), **entered_before_dose(manual)} if not dosed else {}
    full_at = now + timedelta(seconds=window.full_in_s(mono)) if window.running else None
    return BaselineStatus(values=values, window_s=window.window_s, full_at=full_at, open=not dosed)


def record_text(record: BaselineRecord) -> str:
    """The ``baseline`` event's text: ``heart rate baseline 72 bpm (confirmed by the team)``."""
    name = QUANTITY_NAMES.get(record.quantity, record.quantity.value)
    how = {"confirmed": "confirmed by the team", "entered": "entered by hand"}.get(record.source, record.source)
    return f"{name} baseline {with_unit(record.value, record.quantity)} ({how})"

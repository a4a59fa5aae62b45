"""The vitals checks of a dosing session: when the next one is due (a schedule by time since the last dose), what it
still needs, its due and overdue reminders, and the record of each check.

A check is done when its blood pressure (and its temperature, if ``[session.checks] temperature_required``) is entered;
a distress rating entered before then goes with it. It is *on time* when done no later than ``overdue_after_min`` after
it was due (early is on time). The next check is due one interval after the last was done, or sooner after a dose;
the interval is the schedule's row for the time since the last dose at that moment. Blood pressure and temperature are
parts of their own: entering one never counts for the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from roomctl.config.session import SessionConfig
from roomctl.models import iso_ms
from roomctl.session.timeline import Moment


class Part(StrEnum):
    BLOOD_PRESSURE = "blood_pressure"
    TEMPERATURE = "temperature"
    DISTRESS = "distress"  # optional: never needed for a check to be done


PART_WORDS = {Part.BLOOD_PRESSURE: "BP", Part.TEMPERATURE: "temp", Part.DISTRESS: "distress"}
"""How the screen names a part still needed (short: the session line is 80 columns)."""


class Reminder(StrEnum):
    DUE = "due"
    OVERDUE = "overdue"


def interval_s(config: SessionConfig, since_dose_s: float | None) -> float:
    """Seconds to the next check for a check done ``since_dose_s`` after the last dose (None: no dose yet)."""
    if since_dose_s is not None:
        for step in config.checks.schedule:
            if since_dose_s < step.until_min_after_dose * 60:
                return step.every_min * 60
    return config.vitals_check_interval_min * 60


def later(moment: Moment, seconds: float) -> Moment:
    return Moment(moment.stamp + timedelta(seconds=seconds), moment.mono + seconds, moment.measured)


@dataclass
class Checks:
    """The current check of one dosing session: when it is due, what it has so far, which reminders were given."""

    config: SessionConfig
    due: Moment | None = None
    taken: dict[str, Any] = field(default_factory=dict)
    """The parts entered for this check: ``blood_pressure`` [systolic, diastolic], ``temperature`` °C, ``distress``."""
    reminded: set[Reminder] = field(default_factory=set)

    @property
    def grace_s(self) -> float:
        return self.config.checks.overdue_after_min * 60

    @property
    def required(self) -> tuple[Part, ...]:
        if self.config.checks.temperature_required:
            return (Part.BLOOD_PRESSURE, Part.TEMPERATURE)
        return (Part.BLOOD_PRESSURE,)

    def missing(self) -> tuple[Part, ...]:
        """The parts the check still needs (empty when no check is scheduled)."""
        if self.due is None:
            return ()
        return tuple(p for p in self.required if p.value not in self.taken)

    def overdue_at(self) -> Moment | None:
        return later(self.due, self.grace_s) if self.due is not None else None

    def start(self, now: Moment) -> None:
        """A dosing session starts: the first check one interval after the start."""
        self.due, self.taken, self.reminded = later(now, interval_s(self.config, None)), {}, set()

    def stop(self) -> None:
        self.due, self.taken, self.reminded = None, {}, set()

    def dosed(self, dose: Moment) -> None:
        """A dose (initial or supplemental): the next check no later than the schedule's first interval after it."""
        if self.due is None:
            return
        first = later(dose, interval_s(self.config, 0.0))
        if first.mono < self.due.mono:
            self.due, self.reminded = first, set()

    def take(self, part: Part, value: Any, now: Moment, since_dose_s: float | None) -> dict[str, Any] | None:
        """A part of the check entered at ``now``; when it completes the check, the check's record (and the next check
        is scheduled from ``now``)."""
        if self.due is None:
            return None
        self.taken[part.value] = value
        if self.missing():
            return None
        record = self._record(now, done=True)
        self.due, self.taken, self.reminded = later(now, interval_s(self.config, since_dose_s)), {}, set()
        return record

    def missed(self, now: Moment) -> dict[str, Any] | None:
        """At the end of the session: the record of a check that was due and not done, or None."""
        if self.due is None or now.mono < self.due.mono:
            return None
        return self._record(now, done=False)

    def reminder(self, mono: float) -> Reminder | None:
        """The reminder to give now (each once per check), or None."""
        if self.due is None:
            return None
        for reminder, at in ((Reminder.OVERDUE, self.due.mono + self.grace_s), (Reminder.DUE, self.due.mono)):
            if mono >= at:
                if reminder in self.reminded:
                    return None
                self.reminded.update({Reminder.DUE, reminder})
                return reminder
        return None

    def words(self) -> str:
        """What the check needs, e.g. "blood pressure and temperature"."""
        names = {Part.BLOOD_PRESSURE: "blood pressure", Part.TEMPERATURE: "temperature"}
        return " and ".join(names[p] for p in self.missing()) or "nothing more"

    def _record(self, now: Moment, *, done: bool) -> dict[str, Any]:
        assert self.due is not None
        late_s = max(0.0, now.mono - self.due.mono)
        return {
            "due_at": iso_ms(self.due.stamp),
            "done": done,
            "on_time": done and late_s <= self.grace_s,
            "late_min": round(late_s / 60, 1),
            **self.taken,
        }


def check_text(record: dict[str, Any]) -> str:
    """The record's words: "vitals check done on time", "vitals check done 12 min late", "vitals check missed"."""
    if not record.get("done"):
        return f"vitals check due {record['due_at'][11:16]} UTC not done"
    if record.get("on_time"):
        return "vitals check done on time"
    return f"vitals check done {record['late_min']:g} min late"

"""The dosing timeline as pure functions: which phase elapsed time since the first dose suggests."""

from __future__ import annotations

from collections.abc import Sequence

from roomctl.config.session import PhaseConfig


def time_phase(phases: Sequence[PhaseConfig], minutes_since_dose: float) -> str | None:
    """The last phase whose ``suggest_after_dose_min`` has passed, or None when none has."""
    found = None
    for phase in phases:
        after = phase.suggest_after_dose_min
        if after is not None and minutes_since_dose >= after:
            found = phase.id
    return found


def suggest(phases: Sequence[PhaseConfig], current: str | None, minutes_since_dose: float | None) -> str | None:
    """The phase time suggests, when it lies *ahead* of the current one; the team decides, time only suggests."""
    if minutes_since_dose is None:
        return None
    target = time_phase(phases, minutes_since_dose)
    ids = [p.id for p in phases]
    if target is None or target == current:
        return None
    if current in ids and ids.index(target) <= ids.index(current):
        return None  # never suggest going back
    return target

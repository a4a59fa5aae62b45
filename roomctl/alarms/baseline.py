"""The patient's own baseline: the median of one quantity over the first minutes of a session, and its record."""

from __future__ import annotations

import statistics
from typing import Literal

from pydantic import Field, ValidationError

from roomctl.models import Model, Quantity, UtcDatetime


class BaselineRecord(Model):
    """A baseline as the session's record keeps it: what it is, where it came from, since when it applies.

    Kept with the session (``baselines`` in its record) so that a restarted daemon uses it again instead of taking a new
    one mid-session, and so that the report can say which baseline its limits used. ``source`` says how it was made:
    ``measured`` is the median the engine took over ``window_s``; a baseline the team enters or confirms (issue 23) is
    another source of the same record and slots in where a measured one does."""

    quantity: Quantity
    value: float = Field(allow_inf_nan=False)
    device: str | None = Field(description="the wearable it was measured on; null: the patient's, for every wearable")
    source: Literal["measured", "entered"] = "measured"
    taken_at: UtcDatetime = Field(description="when it became known (wall time): derived limits apply from then")
    window_s: float | None = Field(None, description="measured: the first seconds of the session it is the median of")

    @staticmethod
    def parse_all(saved: object) -> list[BaselineRecord]:
        """The records kept with a session, read back; one that does not parse is left out (the record is data)."""
        out = []
        for item in saved if isinstance(saved, list) else ():
            try:
                out.append(BaselineRecord.model_validate(item))
            except ValidationError:
                continue
        return out


class Baseline:
    """Collects valid values from session start for ``window_s`` (monotonic), then holds their median.

    Before a session starts, and during the window, :attr:`value` is None and rules use their hard limits.
    """

    def __init__(self, window_s: float, max_samples: int = 20_000) -> None:
        self.window_s = window_s
        self.max_samples = max_samples
        self.value: float | None = None
        self._samples: list[float] = []
        self._ends_at: float | None = None

    @property
    def collecting(self) -> bool:
        return self._ends_at is not None

    def start(self, now: float) -> None:
        """A new session: forget the old baseline and collect a new one."""
        self.value = None
        self._samples = []
        self._ends_at = now + self.window_s

    def stop(self) -> None:
        """No session: no baseline."""
        self.value = None
        self._samples = []
        self._ends_at = None

    def add(self, value: float, now: float) -> bool:
        """Offer one valid value; True when this completed the baseline (the limits should be recomputed)."""
        ends_at = self._ends_at
        if ends_at is None:
            return False
        if now < ends_at:
            if len(self._samples) < self.max_samples:
                self._samples.append(value)
            return False
        self._ends_at = None
        if self._samples:
            self.value = statistics.median(self._samples)
        self._samples = []
        return self.value is not None

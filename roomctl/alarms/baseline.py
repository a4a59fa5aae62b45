"""The patient's own baseline of one quantity, as the session's record keeps it (the team confirms or enters it)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError

from roomctl.models import Model, Quantity, UtcDatetime


class BaselineRecord(Model):
    """A baseline as the session's record keeps it: what it is, where it came from, since when it applies.

    Kept with the session (``baselines`` in its record) so that a restarted daemon uses it again instead of taking a new
    one mid-session, and so that the report can say which baseline its limits used. ``source`` says how it was made:
    ``confirmed``: the team confirmed the proposal, the median of the most recent ``window_s`` of resting data before
    the dose (roomctl/session/baseline.py); ``entered``: by hand. ``measured`` (the median of a session's first
    minutes, taken without the team) is only read back from sessions recorded before baselines were confirmed."""

    quantity: Quantity
    value: float = Field(allow_inf_nan=False)
    device: str | None = Field(description="the wearable it was measured on; null: the patient's, for every wearable")
    source: Literal["confirmed", "entered", "measured"] = "confirmed"
    taken_at: UtcDatetime = Field(description="when it became known (wall time): derived limits apply from then")
    window_s: float | None = Field(None, description="confirmed: the seconds of resting data it is the median of")

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

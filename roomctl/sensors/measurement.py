"""What a decoder returns: one :class:`Measurement` per reading a characteristic value carries.

Stable interface (the BLE links and the emulator import it):

* ``values`` maps canonical quantities (:class:`roomctl.models.Quantity`, a ``StrEnum``: ``"spo2"``) to a number in the
  canonical unit (:data:`roomctl.models.UNITS`), a list of numbers (``rr_intervals``, seconds), or ``None`` when the device
  marked the value missing or it was out of the plausible range. A quantity the packet does not carry is absent.
* ``quality`` is a :class:`roomctl.models.Quality` (``ok`` / ``questionable`` / ``invalid``).
* ``status`` holds everything else, in snake_case (design/contracts.md). When a value is ``None``,
  ``status["missing"][quantity]`` says why: ``nan``,
  ``nres``, ``reserved``, ``+inf``, ``-inf`` (IEEE-11073 special values), ``device_marker`` (a vendor "invalid" marker
  such as SpO2 127), ``out_of_range``, or ``flagged_invalid`` (the device's own status bits say there is no valid reading).
* ``timestamp`` is the device's own clock when the packet carries one (naive: devices send local time without a zone),
  otherwise ``None``; the caller stamps the arrival time.

Decoders are plain functions ``bytes -> list[Measurement]`` that raise :class:`roomctl.errors.DecodeError` (and nothing
else) for input that is not a valid packet.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple, TypeAlias

from roomctl.models import Quality, Quantity

Value: TypeAlias = float | list[float] | None


class Measurement(NamedTuple):
    """One decoded reading: canonical ``values``, its ``quality``, snake_case ``status``, the device ``timestamp``.
    (A named tuple: one is made for every notification, and a frozen dataclass costs a setattr per field.)"""

    values: dict[Quantity, Value]
    status: dict[str, object]
    timestamp: datetime | None = None
    quality: Quality = Quality.OK

    def to_json(self) -> dict[str, Any]:
        """The ``roomctl decode --json`` shape of one measurement (``quality`` sits in ``status`` there)."""
        return {
            "values": {str(q): v for q, v in self.values.items()},
            "status": {**self.status, "quality": str(self.quality)},
            "timestamp": self.timestamp.isoformat() if self.timestamp is not None else None,
        }


Decoder: TypeAlias = Callable[[bytes], list[Measurement]]
"""A pure decoder: one characteristic value in, its measurements out; :class:`~roomctl.errors.DecodeError` if invalid."""

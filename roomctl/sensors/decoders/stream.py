"""Stateful decoding for protocols whose packets are split across (or packed into) BLE notifications.

Stable interface (the BLE links import it): ``decoder.feed(notification) -> list[Measurement]`` never raises for bad
bytes; it skips them and counts: ``skipped_bytes`` (noise before a sync or header), ``rejected`` (frames that failed a
checksum or length check) and ``last_error`` (the last reason, in words). The buffer is bounded (``MAX_BUFFER``), so a
stream of noise cannot grow memory. ``reset()`` after a reconnect drops any partial packet.

:func:`stream_decoder_for` gives the right decoder for any profile: framed vendor streams get their own
(:class:`~roomctl.sensors.decoders.berrymed.BerryMedStreamDecoder`, ...), and one-value-per-notification profiles
(every SIG characteristic, Nonin, Jumper) get :class:`PerNotificationDecoder`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from roomctl.errors import DecodeError
from roomctl.sensors.measurement import Decoder, Measurement

MAX_BUFFER = 1024


class StreamDecoder(ABC):
    """Keeps a partial packet across notifications; subclasses say how to cut the byte stream into packets."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.skipped_bytes = 0
        self.rejected = 0
        self.last_error: str | None = None

    def feed(self, data: bytes | bytearray) -> list[Measurement]:
        """Add one notification's bytes; return the measurements of every packet completed so far."""
        self._buffer += data
        measurements, consumed = self._extract(self._buffer)
        del self._buffer[:consumed]
        if len(self._buffer) > MAX_BUFFER:  # only noise or an absurd announced length gets here
            self.skipped_bytes += len(self._buffer)
            self._buffer.clear()
        return measurements

    def reset(self) -> None:
        """Forget any partial packet (call after a reconnect)."""
        self._buffer.clear()

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a packet."""
        return len(self._buffer)

    def _reject(self, error: DecodeError) -> None:
        self.rejected += 1
        self.last_error = str(error)

    @abstractmethod
    def _extract(self, buffer: bytearray) -> tuple[list[Measurement], int]:
        """Decode every complete packet in ``buffer``; return them and how many leading bytes are done with."""


class PerNotificationDecoder(StreamDecoder):
    """For profiles where each notification is one whole value: decode it, count it as rejected if invalid."""

    def __init__(self, decoder: Decoder) -> None:
        super().__init__()
        self._decoder = decoder

    def feed(self, data: bytes | bytearray) -> list[Measurement]:
        try:
            return self._decoder(bytes(data))
        except DecodeError as e:
            self._reject(e)
            return []

    def _extract(self, buffer: bytearray) -> tuple[list[Measurement], int]:  # pragma: no cover - feed() overrides
        return [], len(buffer)

"""Stateful decoding for protocols whose packets are split across (or packed into) BLE notifications.

Stable interface (the BLE links import it): ``decoder.feed(notification) -> list[Measurement]`` never raises for bad
bytes; it skips them and counts: ``skipped_bytes`` (noise before a sync or header), ``rejected`` (frames that failed a
checksum or length check) and ``last_error`` (the last reason, in words). The buffer is bounded (``MAX_BUFFER``), so a
stream of noise cannot grow memory. ``reset()`` after a reconnect drops any partial packet.

:func:`stream_decoder_for` gives the right decoder for any profile: framed vendor streams get their own
(:class:`~roomctl.sensors.vendors.berrymed.BerryMedStreamDecoder`, ...), and one-value-per-notification profiles
(every SIG characteristic, Nonin, Jumper) get :class:`PerNotificationDecoder`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

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


Split = Callable[[bytes | bytearray], tuple[list[bytes], int, list[str]]]
"""Cut complete frames out of a buffer: ``(frames, consumed, errors)``; bad frames skipped and said in ``errors``."""
FrameDecoder = Callable[[bytes], Measurement | None]
"""One checked frame to its measurement (None: a frame that carries no numbers); DecodeError if it is not valid."""


def decode_frames(data: bytes, split: Split, decode: FrameDecoder, vendor: str, looks_like: str) -> list[Measurement]:
    """The stateless decoder of a framed protocol: every frame in one value, bytes before the first frame skipped."""
    frames, consumed, errors = split(data)
    if errors:
        raise DecodeError(errors[0])
    if not frames:
        if consumed < len(data):  # split stops early only at a frame that has not fully arrived
            raise DecodeError(f"{vendor}: incomplete frame ({len(data) - consumed} bytes of a longer frame)")
        raise DecodeError(f"{vendor}: no frame found ({looks_like})")
    return [m for m in map(decode, frames) if m is not None]


class FramedStreamDecoder(StreamDecoder):
    """Reassembles frames across notifications; frames that fail their checksum or decoding are counted and skipped."""

    def __init__(self, split: Split, decode: FrameDecoder) -> None:
        super().__init__()
        self._split = split
        self._decode = decode

    def _extract(self, buffer: bytearray) -> tuple[list[Measurement], int]:
        frames, consumed, errors = self._split(buffer)
        for error in errors:
            self._reject(DecodeError(error))
        measurements: list[Measurement] = []
        for frame in frames:
            try:
                measurement = self._decode(frame)
            except DecodeError as e:
                self._reject(e)
                continue
            if measurement is not None:
                measurements.append(measurement)
        return measurements, consumed


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

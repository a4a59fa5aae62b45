"""The vendor registry: one module per wearable vendor or SIG service, each with its pure decoders (bytes in,
:class:`~roomctl.sensors.measurement.Measurement` list out, or DecodeError; no I/O), its ``CHARACTERISTICS``, its
``PROFILES`` and the emulator's encoders. What they share lives in :mod:`roomctl.sensors.codec`.

Every module here is a vendor, found by listing the package: adding a vendor is adding its module. Everything below is
derived from that set.

Stable interface (the BLE links, the emulator and ``roomctl decode`` import it):

* :data:`VENDOR_MODULES`: the vendor modules, in file-name order.
* :data:`CHARACTERISTICS` / :data:`DECODERS` map a decode profile name to its characteristic / decoder
  ``Callable[[bytes], list[Measurement]]``.
* :func:`resolve_profile` turns a user's profile name into a key of :data:`DECODERS`, accepting the SIG 16-bit UUID
  (``2a37``, ``0x2A37``), the full 128-bit UUID, or a vendor characteristic's UUID.
* :func:`stream_decoder_for` gives a :class:`StreamDecoder` for a profile: use it on notifications, since vendor
  streams (BerryMed, PC-60FW, Viatom) split and pack packets across notifications.
* :func:`encode_request` / :data:`READ_SENSORS_REQUEST`: the Viatom poll the link writes.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from roomctl.errors import RoomctlError
from roomctl.sensors.codec.stream import PerNotificationDecoder, StreamDecoder
from roomctl.sensors.measurement import Decoder, Measurement
from roomctl.sensors.vendor import Characteristic, sig
from roomctl.sensors.vendors.berrymed import BerryMedStreamDecoder
from roomctl.sensors.vendors.viatom import READ_SENSORS_REQUEST, encode_request


def _vendor_modules() -> tuple[ModuleType, ...]:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__))
    modules = tuple(importlib.import_module(f"{__name__}.{name}") for name in names)
    for module in modules:  # a helper belongs in roomctl.sensors.codec, not beside the vendors
        assert hasattr(module, "CHARACTERISTICS"), f"{module.__name__} is not a vendor module (no CHARACTERISTICS)"
    return modules


VENDOR_MODULES = _vendor_modules()
CHARACTERISTICS: dict[str, Characteristic] = {
    c.key: c for module in VENDOR_MODULES for c in module.CHARACTERISTICS if isinstance(c, Characteristic)
}
DECODERS: dict[str, Decoder] = {key: c.decode for key, c in CHARACTERISTICS.items()}
_BY_UUID = {c.uuid: key for key, c in CHARACTERISTICS.items()}
_UUID16 = re.compile(r"(?:0x)?([0-9a-f]{4})")


class UnknownProfileError(RoomctlError, ValueError):
    """A decode profile name (or UUID) roomctl does not know."""


def resolve_profile(name: str) -> str:
    """The :data:`DECODERS` key for a profile name, SIG UUID (16- or 128-bit) or vendor characteristic UUID."""
    key = name.strip().lower()
    if key in DECODERS:
        return key
    match = _UUID16.fullmatch(key)
    if match is not None:
        key = sig(int(match.group(1), 16))
    if key in _BY_UUID:
        return _BY_UUID[key]
    raise UnknownProfileError(
        f"unknown decode profile {name!r}; known: {', '.join(DECODERS)} (or a SIG UUID like 2a37)"
    )


def stream_decoder_for(profile: str) -> StreamDecoder:
    """A fresh stateful decoder for notifications of ``profile`` (name or UUID, see :func:`resolve_profile`)."""
    return CHARACTERISTICS[resolve_profile(profile)].new_stream()


__all__ = [
    "CHARACTERISTICS",
    "DECODERS",
    "READ_SENSORS_REQUEST",
    "VENDOR_MODULES",
    "BerryMedStreamDecoder",
    "Decoder",
    "Measurement",
    "PerNotificationDecoder",
    "StreamDecoder",
    "UnknownProfileError",
    "encode_request",
    "resolve_profile",
    "stream_decoder_for",
]

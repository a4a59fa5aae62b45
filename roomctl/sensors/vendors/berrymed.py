"""BerryMed BM1000 family, "BCI protocol": a stream of 5-byte packets on the transparent-UART notify characteristic.

Only byte 0 of a packet has bit 7 set (sync); bytes 1-4 have bit 7 clear. A sync bit inside a packet means the packet
was cut short: decoding restarts at that byte. ``decode_berrymed`` (stateless) decodes every complete packet in one
value and skips bytes before the first sync; :class:`BerryMedStreamDecoder` keeps a partial packet for the next
notification. The 20-byte "Berry protocol" (header ``FF AA``) is not supported.

Per packet: SpO2 127 and PR 255 are the device's "invalid" markers; SpO2 0 is treated the same (no reading). "No
finger" (byte 2 bit 4) or "probe unplugged" (byte 0 bit 5) -> quality invalid, values None; "pulse searching" ->
questionable. ``no_signal`` (byte 0 bit 4) is reported but does not change quality: sources disagree on its polarity.
"""

from __future__ import annotations

from roomctl.errors import DecodeError
from roomctl.models import Quantity
from roomctl.sensors.codec.fields import PULSE_RATE, SPO2, finish, put
from roomctl.sensors.codec.stream import StreamDecoder
from roomctl.sensors.measurement import Measurement, Value
from roomctl.sensors.vendor import OXIMETER_RULES, STREAM_MAX_NOTIFY_HZ, Characteristic, Notify, WearableProfile

PACKET_SIZE = 5
_PRIMARY = (SPO2, PULSE_RATE)


def split_packets(buffer: bytes | bytearray) -> tuple[list[bytes], int, int]:
    """Cut complete packets out of ``buffer``: ``(packets, consumed, skipped)``.

    ``consumed`` is where an incomplete trailing packet (if any) starts; ``skipped`` counts noise bytes dropped.
    """
    packets: list[bytes] = []
    size = len(buffer)
    i = skipped = 0
    while i < size:
        if not buffer[i] & 0x80:
            i += 1
            skipped += 1
            continue
        end = i + PACKET_SIZE
        j = i + 1
        limit = min(end, size)
        while j < limit and not buffer[j] & 0x80:
            j += 1
        if j < limit:  # a sync byte inside the packet: the packet was truncated, resynchronise there
            skipped += j - i
            i = j
            continue
        if end > size:
            break
        packets.append(bytes(buffer[i:end]))
        i = end
    return packets, i, skipped


def decode_packet(packet: bytes) -> Measurement:
    """One 5-byte BCI packet (sync checked by the caller)."""
    b0, b1, b2, b3, b4 = packet
    no_finger = bool(b2 & 0x10)
    probe_unplugged = bool(b0 & 0x20)
    spo2 = b4 & 0x7F
    pulse = (b3 & 0x7F) | ((b2 & 0x40) << 1)
    values: dict[Quantity, Value] = {}
    missing: dict[Quantity, str] = {}
    put(values, missing, SPO2, None if spo2 in (0, 127) else float(spo2), "device_marker")
    put(values, missing, PULSE_RATE, None if pulse == 255 else float(pulse), "device_marker")
    searching = bool(b2 & 0x20)
    status: dict[str, object] = {
        "finger_present": not no_finger,
        "probe_unplugged": probe_unplugged,
        "pulse_searching": searching,
        "pulse_beep": bool(b0 & 0x40),
        "no_signal": bool(b0 & 0x10),
        "signal_strength": b0 & 0x0F,
        "bar_graph": b2 & 0x0F,
        "pleth": b1,
    }
    return finish(values, status, missing, _PRIMARY, invalid=no_finger or probe_unplugged, questionable=searching)


def decode_berrymed(data: bytes) -> list[Measurement]:
    """Every complete BCI packet in one notification; DecodeError if there is none."""
    packets, _, _ = split_packets(data)
    if not packets:
        raise DecodeError(
            f"BerryMed: no complete 5-byte packet (a packet starts with a byte >= 0x80) in {len(data)} bytes"
        )
    return [decode_packet(p) for p in packets]


class BerryMedStreamDecoder(StreamDecoder):
    """BCI packets across notifications: a packet split over two notifications is decoded once, whole."""

    def _extract(self, buffer: bytearray) -> tuple[list[Measurement], int]:
        packets, consumed, skipped = split_packets(buffer)
        self.skipped_bytes += skipped
        return [decode_packet(p) for p in packets], consumed


# -- the emulator's side of the protocol


def encode_packet(spo2: int | None, pr: int | None, pleth: int, finger_off: bool, signal: int = 8) -> bytes:
    """One 5-byte BCI packet as the device sends it; SpO2 127 / PR 255 mean invalid."""
    s = 127 if spo2 is None else spo2
    p = 255 if pr is None else pr
    b0 = 0x80 | (signal & 0x0F)
    if finger_off:
        b0 |= 0x10
    b2 = (0x10 if finger_off else 0) | ((p & 0x80) >> 1)
    return bytes([b0, pleth & 0x7F, b2, p & 0x7F, s & 0x7F])


# -- the vendor: what the link, the config and the emulator derive from

SERVICE = "49535343-fe7d-4ae5-8fa9-9fafd205e455"
WRITE = "49535343-8841-43f4-a8d4-ecbe34729bb3"
DATA = Characteristic("berrymed", "49535343-1e4d-4bd9-ba61-23c647249616", decode_berrymed, BerryMedStreamDecoder)
CHARACTERISTICS = (DATA,)
PROFILES = (
    WearableProfile(
        "berrymed",
        "BerryMed BM1000 family oximeter (BCI 5-byte stream)",
        SERVICE,
        (Notify(DATA),),
        name_patterns=(r"^BerryMed",),
        conditions=OXIMETER_RULES,
        max_notify_hz=STREAM_MAX_NOTIFY_HZ,
        publish_interval_s=1.0,
    ),
)

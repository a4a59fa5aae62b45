"""Viatom / Creative Medical PC-60FW fingertip oximeter: framed stream on the Nordic UART notify characteristic.

Frame: ``AA 55 | 0F or F0 | len | func, data... | CRC8/MAXIM`` where ``len`` counts func, data and the CRC, and the
CRC over the whole frame (CRC included) is 0. Func 0x01 (numbers): SpO2, PR low, PR high, PI x 10, ... Func 0x02
(waveform) gives no measurement; func 0x03 is reported as ``battery_level_bars`` (0-3, low confidence); other funcs
are ignored. SpO2 0 or PR 0 mean no reading. Low confidence: PR as u16 (the byte after PR is 0 in every capture).
"""

from __future__ import annotations

from roomctl.errors import DecodeError
from roomctl.models import Quantity
from roomctl.sensors.codec.crc import crc8_maxim
from roomctl.sensors.codec.fields import PERFUSION_INDEX, PULSE_RATE, SPO2, finish, put
from roomctl.sensors.codec.stream import FramedStreamDecoder, decode_frames
from roomctl.sensors.measurement import Measurement, Value
from roomctl.sensors.vendor import OXIMETER_RULES, STREAM_MAX_NOTIFY_HZ, Characteristic, Notify, WearableProfile

SYNC = b"\xaa\x55"
FRAME_TYPES = (0x0F, 0xF0)
FUNC_NUMBERS = 0x01
FUNC_WAVEFORM = 0x02
FUNC_BATTERY = 0x03
_PRIMARY = (SPO2, PULSE_RATE)


def crc_frame(frame_without_crc: bytes) -> bytes:
    """Append the CRC8/MAXIM byte (for the emulator and tests)."""
    return frame_without_crc + bytes([crc8_maxim(frame_without_crc)])


def split_frames(buffer: bytes | bytearray) -> tuple[list[bytes], int, list[str]]:
    """Cut complete frames out of ``buffer``: ``(frames, consumed, errors)``; bad frames are skipped."""
    frames: list[bytes] = []
    errors: list[str] = []
    size = len(buffer)
    i = 0
    while True:
        start = buffer.find(SYNC, i)
        if start < 0:
            # keep a lone trailing 0xAA: it may be the first half of the next sync
            return frames, size - 1 if size and buffer[-1] == 0xAA and i < size else size, errors
        if size - start < 4:
            return frames, start, errors
        length = buffer[start + 3]
        if buffer[start + 2] not in FRAME_TYPES or length < 2:
            i = start + 2
            continue
        end = start + 4 + length
        if end > size:
            return frames, start, errors
        frame = bytes(buffer[start:end])
        if crc8_maxim(frame) != 0:
            errors.append("PC-60FW: checksum mismatch (CRC8/MAXIM over the frame is not 0)")
            i = start + 2
            continue
        frames.append(frame)
        i = end


def decode_frame(frame: bytes) -> Measurement | None:
    """One checked frame; None for frames that carry no numbers (waveform, unknown funcs)."""
    func = frame[4]
    data = frame[5:-1]
    if func == FUNC_NUMBERS:
        if len(data) < 4:
            raise DecodeError(f"PC-60FW numbers frame: needs 4 data bytes, got {len(data)}")
        values: dict[Quantity, Value] = {}
        missing: dict[Quantity, str] = {}
        put(values, missing, SPO2, float(data[0]) if data[0] else None, "device_marker")
        pulse = data[1] | (data[2] << 8)
        put(values, missing, PULSE_RATE, float(pulse) if pulse else None, "device_marker")
        put(values, missing, PERFUSION_INDEX, data[3] / 10, "")
        return finish(values, {}, missing, _PRIMARY)
    if func == FUNC_BATTERY and data:
        return Measurement({}, {"battery_level_bars": data[0]})
    return None


def decode_pc60fw(data: bytes) -> list[Measurement]:
    """Every frame in one value; bytes before the first ``AA 55`` are skipped. Waveform-only values give []."""
    return decode_frames(data, split_frames, decode_frame, "PC-60FW", "a frame starts with AA 55 0F")


class Pc60fwStreamDecoder(FramedStreamDecoder):
    """Reassembles PC-60FW frames across notifications; frames with a bad CRC are counted and skipped."""

    def __init__(self) -> None:
        super().__init__(split_frames, decode_frame)


# -- the emulator's side of the protocol


def encode_numbers(spo2: int | None, pr: int | None, pi_percent: float) -> bytes:
    """PC-60FW numbers frame ``AA 55 0F 08 01 SpO2 PR PRhi PI×10 0 0 CRC8/MAXIM``."""
    s = 0 if spo2 is None else spo2
    p = 0 if pr is None else pr
    return crc_frame(bytes([0xAA, 0x55, 0x0F, 0x08, FUNC_NUMBERS, s, p & 0xFF, p >> 8, round(pi_percent * 10), 0, 0]))


# -- the vendor: what the link, the config and the emulator derive from

SERVICE = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
WRITE = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
NOTIFY = Characteristic("pc60fw", "6e400003-b5a3-f393-e0a9-e50e24dcca9e", decode_pc60fw, Pc60fwStreamDecoder)
CHARACTERISTICS = (NOTIFY,)
PROFILES = (
    WearableProfile(
        "pc60fw",
        "Creative Medical / Wellue PC-60FW fingertip oximeter (Nordic UART)",
        SERVICE,
        (Notify(NOTIFY),),
        name_patterns=(r"^PC-60", r"^OxySmart", r"^PC60"),
        conditions=OXIMETER_RULES,
        max_notify_hz=STREAM_MAX_NOTIFY_HZ,
    ),
)

"""Viatom / Wellue O2Ring, Checkme O2, SleepU: request/response frames on service 14839ac4-....

Stable interface (the BLE link and the emulator import it):

* :func:`encode_request` builds ``AA cmd ~cmd block_u16le len_u16le payload crc8``; :data:`READ_SENSORS_REQUEST` is
  the poll the link writes about every 2 s.
* :func:`encode_response` builds the answer ``55 status ~status block len payload crc8`` (for the emulator and tests).
* :func:`decode_viatom` decodes READ_SENSORS responses; :class:`ViatomStreamDecoder` reassembles a response split over
  several notifications (21 bytes do not fit the default 20-byte notification).

CRC-8: poly 0x07, init 0x00, over every byte before it. READ_SENSORS payload (13 bytes; at least 12 are required):
SpO2, HR, (HR high byte, 0xFF = no reading), 4 unknown, battery %, charging (0 no / 1 charging / 2 charged), motion,
pulse strength, finger present, unknown. SpO2 or HR 0xFF, or finger 0, mean no reading (quality invalid). Low
confidence: the HR high byte and the meaning of ``pulse_strength``/``motion`` are reverse-engineered guesses.
"""

from __future__ import annotations

import struct

from roomctl.errors import DecodeError
from roomctl.models import Quantity
from roomctl.sensors.codec.crc import crc8_smbus
from roomctl.sensors.codec.fields import BATTERY, PULSE_RATE, SPO2, finish, put
from roomctl.sensors.codec.stream import FramedStreamDecoder, decode_frames
from roomctl.sensors.measurement import Measurement, Value
from roomctl.sensors.vendor import OXIMETER_RULES, STREAM_MAX_NOTIFY_HZ, Characteristic, Notify, Poll, WearableProfile

CMD_INFO = 0x14
CMD_PING = 0x15
CMD_CONFIG = 0x16
CMD_READ_SENSORS = 0x17
REQUEST_HEADER = 0xAA
RESPONSE_HEADER = 0x55
HEADER_SIZE = 7
MAX_PAYLOAD = 512  # larger announced lengths are noise, not a sensor answer
SENSORS_PAYLOAD_MIN = 12
CHARGING = {0: "not_charging", 1: "charging", 2: "charged"}
_PRIMARY = (SPO2, PULSE_RATE)


def _frame(header: int, code: int, block: int, payload: bytes) -> bytes:
    if not 0 <= code <= 0xFF or not 0 <= block <= 0xFFFF or len(payload) > 0xFFFF:
        raise ValueError("Viatom frame: command/status is one byte, block and payload length fit 16 bits")
    head = struct.pack("<BBBHH", header, code, code ^ 0xFF, block, len(payload)) + payload
    return head + bytes([crc8_smbus(head)])


def encode_request(command: int, block: int = 0, payload: bytes = b"") -> bytes:
    """A request frame: ``AA cmd ~cmd block len payload crc8``."""
    return _frame(REQUEST_HEADER, command, block, payload)


def encode_response(payload: bytes, status: int = 0, block: int = 0) -> bytes:
    """A response frame as the device sends it: ``55 status ~status block len payload crc8``."""
    return _frame(RESPONSE_HEADER, status, block, payload)


READ_SENSORS_REQUEST = encode_request(CMD_READ_SENSORS)


def split_frames(buffer: bytes | bytearray) -> tuple[list[bytes], int, list[str]]:
    """Cut complete response frames out of ``buffer``: ``(frames, consumed, errors)``; bad frames are skipped."""
    frames: list[bytes] = []
    errors: list[str] = []
    size = len(buffer)
    i = 0
    while i < size:
        if buffer[i] != RESPONSE_HEADER:
            i += 1
            continue
        if size - i < HEADER_SIZE:
            if i + 3 <= size and buffer[i + 1] ^ buffer[i + 2] != 0xFF:
                i += 1
                continue
            break
        length = buffer[i + 5] | (buffer[i + 6] << 8)
        if buffer[i + 1] ^ buffer[i + 2] != 0xFF or length > MAX_PAYLOAD:
            i += 1
            continue
        end = i + HEADER_SIZE + length + 1
        if end > size:
            break
        if crc8_smbus(buffer[i : end - 1]) != buffer[end - 1]:
            errors.append(
                f"Viatom response: checksum mismatch (CRC-8 0x{crc8_smbus(buffer[i : end - 1]):02X}, "
                f"frame says 0x{buffer[end - 1]:02X})"
            )
            i += 1
            continue
        frames.append(bytes(buffer[i:end]))
        i = end
    return frames, i, errors


def decode_sensors_frame(frame: bytes) -> Measurement:
    """One checked response frame answering READ_SENSORS."""
    if frame[1] != 0:
        raise DecodeError(f"Viatom response: the device answered with error status 0x{frame[1]:02X}")
    payload = frame[HEADER_SIZE:-1]
    if len(payload) < SENSORS_PAYLOAD_MIN:
        raise DecodeError(
            f"Viatom response: {len(payload)} payload bytes, a READ_SENSORS answer has at least {SENSORS_PAYLOAD_MIN}"
        )
    spo2, hr_low, hr_high = payload[0], payload[1], payload[2]
    finger = payload[11] != 0
    values: dict[Quantity, Value] = {}
    missing: dict[Quantity, str] = {}
    put(values, missing, SPO2, None if spo2 in (0, 0xFF) else float(spo2), "device_marker")
    pulse = None if 0xFF in (hr_low, hr_high) or hr_low == hr_high == 0 else float(hr_low | (hr_high << 8))
    put(values, missing, PULSE_RATE, pulse, "device_marker")
    put(values, missing, BATTERY, float(payload[7]), "")
    status: dict[str, object] = {
        "finger_present": finger,
        "charging": CHARGING.get(payload[8], "unknown"),
        "motion": payload[9],
        "pulse_strength": payload[10],
    }
    return finish(values, status, missing, _PRIMARY, invalid=not finger)


def decode_viatom(data: bytes) -> list[Measurement]:
    """Every READ_SENSORS response frame in one value; bytes before the first ``0x55`` header are skipped."""
    return decode_frames(
        data,
        split_frames,
        decode_sensors_frame,
        "Viatom response",
        "a response starts with 0x55, then status and ~status",
    )


class ViatomStreamDecoder(FramedStreamDecoder):
    """Reassembles responses split over notifications; frames that fail the checksum are counted and skipped."""

    def __init__(self) -> None:
        super().__init__(split_frames, decode_sensors_frame)


# -- the emulator's side of the protocol (encode_response above frames it)


def encode_sensors(
    spo2: int | None, hr: int | None, battery: int, finger: bool, motion: int = 0, pi_strength: int = 50
) -> bytes:
    """The 13-byte READ_SENSORS payload; 0xFF marks SpO2/HR missing."""
    s = 0xFF if spo2 is None else spo2
    h = 0xFF if hr is None else hr
    return bytes([s, h, 0xFF if hr is None else 0, 0, 0, 0, 0, battery, 0, motion, pi_strength, int(finger), 0])


# -- the vendor: what the link, the config and the emulator derive from

SERVICE = "14839ac4-7d7e-415c-9a42-167340cf2339"
WRITE = "8b00ace7-eb0b-49b0-bbe9-9aee0a26e1a3"
NOTIFY = Characteristic("viatom", "0734594a-a8e7-4b1a-a6b1-cd5243059a57", decode_viatom, ViatomStreamDecoder)
CHARACTERISTICS = (NOTIFY,)
PROFILES = (
    WearableProfile(
        "viatom",
        "Viatom / Wellue O2Ring, Checkme O2, SleepU (polled every poll_interval_s)",
        SERVICE,
        (Notify(NOTIFY),),
        poll=Poll(WRITE, READ_SENSORS_REQUEST),
        name_patterns=(r"^O2Ring", r"^Checkme", r"^SleepU", r"^O2M", r"^BabyO2", r"^Oxylink", r"^PO[0-9]"),
        advertised_uuids=(SERVICE,),
        conditions=OXIMETER_RULES,
        max_notify_hz=STREAM_MAX_NOTIFY_HZ,
    ),
)

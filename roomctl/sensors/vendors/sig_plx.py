"""Pulse Oximeter service (PLXS, 0x1822): 0x2A5E spot-check, 0x2A5F continuous, 0x2A60 features.

The continuous characteristic's flag bits are *shifted* relative to spot-check (measurement status is bit 2 there,
bit 1 in spot-check) and it carries no timestamp. Recommended handling (reference §4), applied here:
Measurement Status bits 13 (unavailable) or 15 (invalid), or Device & Sensor Status bits 11 (sensor unconnected to
user), 13 (displaced), 14 (malfunctioning) or 15 (disconnected) -> quality invalid and every value None;
Measurement Status bits that say the value is doubtful (early estimate, demonstration or test data, calibration ongoing,
questionable measurement: ``MS_QUESTIONABLE``), or Device & Sensor Status bits that do (equipment malfunction, signal
processing irregularity, inadequate / poor / erratic / non-pulsatile signal, low perfusion, questionable pulse, sensor
interference, unknown sensor: ``DSS_QUESTIONABLE``) -> questionable: the alarm engine judges the value against the limits but
never uses it for a baseline. The frame has no checksum: SpO2 or pulse rate outside what is plausible
(:data:`roomctl.plausible.UNCHECKED_FRAMES`: SpO2 40-100 %, PR 20-300 bpm, also for the fast and slow values) -> the whole
frame invalid, with ``status["implausible"]`` saying which values.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from roomctl.models import Quantity
from roomctl.plausible import implausible
from roomctl.sensors.codec.fields import (
    PERFUSION_INDEX,
    PULSE_RATE,
    PULSE_RATE_FAST,
    PULSE_RATE_SLOW,
    SPO2,
    SPO2_FAST,
    SPO2_SLOW,
    finish,
    need,
    put,
)
from roomctl.sensors.codec.ieee11073 import DATE_TIME_SIZE, date_time, encode_sfloat, sfloat
from roomctl.sensors.measurement import Measurement, Value
from roomctl.sensors.vendor import OXIMETER_RULES, Characteristic, Notify, WearableProfile, sig
from roomctl.sensors.vendors.sig_heart_rate import BATTERY_LEVEL

MEASUREMENT_STATUS_BITS: dict[int, str] = {
    5: "measurement_ongoing",
    6: "early_estimated_data",
    7: "validated_data",
    8: "fully_qualified_data",
    9: "data_from_measurement_storage",
    10: "data_for_demonstration",
    11: "data_for_testing",
    12: "calibration_ongoing",
    13: "measurement_unavailable",
    14: "questionable_measurement_detected",
    15: "invalid_measurement_detected",
}
DEVICE_SENSOR_STATUS_BITS: dict[int, str] = {
    0: "extended_display_update_ongoing",
    1: "equipment_malfunction_detected",
    2: "signal_processing_irregularity_detected",
    3: "inadequate_signal_detected",
    4: "poor_signal_detected",
    5: "low_perfusion_detected",
    6: "erratic_signal_detected",
    7: "nonpulsatile_signal_detected",
    8: "questionable_pulse_detected",
    9: "signal_analysis_ongoing",
    10: "sensor_interference_detected",
    11: "sensor_unconnected_to_user",
    12: "unknown_sensor_connected",
    13: "sensor_displaced",
    14: "sensor_malfunctioning",
    15: "sensor_disconnected",
}
FEATURE_BITS: dict[int, str] = {
    0: "measurement_status",
    1: "device_and_sensor_status",
    2: "measurement_storage_for_spot_check",
    3: "timestamp_for_spot_check",
    4: "spo2pr_fast",
    5: "spo2pr_slow",
    6: "pulse_amplitude_index",
    7: "multiple_bonds",
}
MS_INVALID = (1 << 13) | (1 << 15)
MS_QUESTIONABLE = (1 << 6) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 14)
DSS_INVALID = (1 << 11) | (1 << 13) | (1 << 14) | (1 << 15)
DSS_QUESTIONABLE = (
    (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 12)
)
DSS_FINGER_OFF = 1 << 11
_PRIMARY = (SPO2, PULSE_RATE)


def flag_names(value: int, names: dict[int, str]) -> list[str]:
    """The snake_case names of the set bits, in bit order; reserved bits are left out."""
    return [name for bit, name in names.items() if value >> bit & 1]


def _put_sfloat(
    values: dict[Quantity, Value], missing: dict[Quantity, str], quantity: Quantity, data: bytes, offset: int
) -> None:
    value, special = sfloat(data, offset)
    put(values, missing, quantity, value, special or "")


class _StatusFields:
    """Reads the optional Measurement Status, Device & Sensor Status and PAI fields shared by 0x2A5E and 0x2A5F."""

    def __init__(self, data: bytes, offset: int, what: str) -> None:
        self.data, self.offset, self.what = data, offset, what
        self.invalid = False
        self.questionable = False

    def read(self, status: dict[str, object], has_ms: bool, has_dss: bool) -> None:
        data = self.data
        if has_ms:
            need(data, self.offset + 2, f"{self.what} with measurement status")
            ms = data[self.offset] | (data[self.offset + 1] << 8)
            self.offset += 2
            status["measurement_status"] = flag_names(ms, MEASUREMENT_STATUS_BITS)
            self.invalid |= bool(ms & MS_INVALID)
            self.questionable |= bool(ms & MS_QUESTIONABLE)
        if has_dss:
            need(data, self.offset + 3, f"{self.what} with device and sensor status")
            dss = int.from_bytes(data[self.offset : self.offset + 3], "little")
            self.offset += 3
            status["device_sensor_status"] = flag_names(dss, DEVICE_SENSOR_STATUS_BITS)
            status["finger_present"] = not dss & DSS_FINGER_OFF
            self.invalid |= bool(dss & DSS_INVALID)
            self.questionable |= bool(dss & DSS_QUESTIONABLE)

    def read_pai(self, values: dict[Quantity, Value], missing: dict[Quantity, str]) -> None:
        need(self.data, self.offset + 2, f"{self.what} with pulse amplitude index")
        _put_sfloat(values, missing, PERFUSION_INDEX, self.data, self.offset)
        self.offset += 2


def _unchecked_frame(values: dict[Quantity, Value], missing: dict[Quantity, str], status: dict[str, object]) -> bool:
    """A PLX frame has no checksum: a number outside the plausible range (:data:`roomctl.plausible.UNCHECKED_FRAMES`, or
    outside what the quantity can be at all) makes the whole frame invalid. True when it does."""
    bad = implausible(values)
    if not bad and "out_of_range" not in missing.values():
        return False
    status["implausible"] = {str(q): values[q] for q in bad} | {
        str(q): "out_of_range" for q, why in missing.items() if why == "out_of_range"
    }
    for q in bad:
        values[q] = None
        missing[q] = "implausible"
    return True


def decode_plx_spot_check(data: bytes) -> list[Measurement]:
    """0x2A5E PLX Spot-check Measurement: SpO2, PR, optional timestamp, statuses and pulse amplitude index."""
    what = "PLX spot-check measurement"
    need(data, 5, what)
    flags = data[0]
    values: dict[Quantity, Value] = {}
    missing: dict[Quantity, str] = {}
    _put_sfloat(values, missing, SPO2, data, 1)
    _put_sfloat(values, missing, PULSE_RATE, data, 3)
    status: dict[str, object] = {"device_clock_not_set": bool(flags & 0x10)}
    timestamp = None
    offset = 5
    if flags & 0x01:
        need(data, offset + DATE_TIME_SIZE, f"{what} with timestamp")
        timestamp, status["timestamp_status"] = date_time(data, offset)
        offset += DATE_TIME_SIZE
    fields = _StatusFields(data, offset, what)
    fields.read(status, bool(flags & 0x02), bool(flags & 0x04))
    if flags & 0x08:
        fields.read_pai(values, missing)
    implausible_frame = _unchecked_frame(values, missing, status)
    return [
        finish(
            values,
            status,
            missing,
            _PRIMARY,
            invalid=fields.invalid or implausible_frame,
            questionable=fields.questionable,
            timestamp=timestamp,
        )
    ]


def decode_plx_continuous(data: bytes) -> list[Measurement]:
    """0x2A5F PLX Continuous Measurement: SpO2/PR normal, optional fast and slow, statuses and PAI (no timestamp)."""
    what = "PLX continuous measurement"
    need(data, 5, what)
    flags = data[0]
    values: dict[Quantity, Value] = {}
    missing: dict[Quantity, str] = {}
    _put_sfloat(values, missing, SPO2, data, 1)
    _put_sfloat(values, missing, PULSE_RATE, data, 3)
    offset = 5
    if flags & 0x01:
        need(data, offset + 4, f"{what} with SpO2PR-Fast")
        _put_sfloat(values, missing, SPO2_FAST, data, offset)
        _put_sfloat(values, missing, PULSE_RATE_FAST, data, offset + 2)
        offset += 4
    if flags & 0x02:
        need(data, offset + 4, f"{what} with SpO2PR-Slow")
        _put_sfloat(values, missing, SPO2_SLOW, data, offset)
        _put_sfloat(values, missing, PULSE_RATE_SLOW, data, offset + 2)
        offset += 4
    status: dict[str, object] = {}
    fields = _StatusFields(data, offset, what)
    fields.read(status, bool(flags & 0x04), bool(flags & 0x08))
    if flags & 0x10:
        fields.read_pai(values, missing)
    invalid = _unchecked_frame(values, missing, status) or fields.invalid
    return [finish(values, status, missing, _PRIMARY, invalid=invalid, questionable=fields.questionable)]


def decode_plx_features(data: bytes) -> list[Measurement]:
    """0x2A60 PLX Features: supported features, then the supported status bits when announced."""
    what = "PLX features"
    need(data, 2, what)
    features = data[0] | (data[1] << 8)
    status: dict[str, object] = {"supported_features": flag_names(features, FEATURE_BITS)}
    offset = 2
    if features & 0x01:
        need(data, offset + 2, f"{what} with measurement status support")
        status["supported_measurement_status"] = flag_names(
            data[offset] | (data[offset + 1] << 8), MEASUREMENT_STATUS_BITS
        )
        offset += 2
    if features & 0x02:
        need(data, offset + 3, f"{what} with device and sensor status support")
        supported = int.from_bytes(data[offset : offset + 3], "little")
        status["supported_device_sensor_status"] = flag_names(supported, DEVICE_SENSOR_STATUS_BITS)
    return [Measurement({}, status)]


# -- the emulator's side of the protocol


def encode_continuous(
    spo2: float | None, pr: float | None, pai: float | None = None, device_status_bits: Iterable[int] = ()
) -> bytes:
    """0x2A5F with the Device & Sensor Status field (bit3) and, when given, the Pulse Amplitude Index (bit4)."""
    flags = 0x08 | (0x10 if pai is not None else 0)
    status = 0
    for bit in device_status_bits:
        status |= 1 << bit
    out = bytearray([flags]) + encode_sfloat(spo2) + encode_sfloat(pr) + status.to_bytes(3, "little")
    if pai is not None:
        out += encode_sfloat(pai, -1)
    return bytes(out)


def encode_features() -> bytes:
    """0x2A60: Device & Sensor Status supported (bit1) with its support mask, and PAI (bit6)."""
    return struct.pack("<H", 0x0042) + (0xFFFF).to_bytes(3, "little")


# -- the vendor: what the link, the config and the emulator derive from

SERVICE = sig(0x1822)
SPOT_CHECK = Characteristic("plx_spot_check", sig(0x2A5E), decode_plx_spot_check)
CONTINUOUS = Characteristic("plx_continuous", sig(0x2A5F), decode_plx_continuous)
FEATURES = Characteristic("plx_features", sig(0x2A60), decode_plx_features)
CHARACTERISTICS = (SPOT_CHECK, CONTINUOUS, FEATURES)
PROFILES = (
    WearableProfile(
        "plx",
        "Pulse oximeter (Bluetooth Pulse Oximeter service, continuous measurement)",
        SERVICE,
        (Notify(CONTINUOUS), Notify(SPOT_CHECK, required=False)),
        battery=BATTERY_LEVEL,
        advertised_uuids=(SERVICE,),
        conditions=OXIMETER_RULES,
    ),
)

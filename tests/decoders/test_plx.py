"""PLX spot-check (0x2A5E), continuous (0x2A5F, shifted flag bits) and features (0x2A60), from the reference §4."""

from __future__ import annotations

from datetime import datetime

import pytest

from roomctl.errors import DecodeError
from roomctl.sensors.vendors import DECODERS
from tests.builders import param_id
from tests.decoders import spec

TS = datetime(2026, 11, 23, 19, 30, 5)
MS_NAMES = {
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
DSS_NAMES = dict(
    enumerate(
        [
            "extended_display_update_ongoing",
            "equipment_malfunction_detected",
            "signal_processing_irregularity_detected",
            "inadequate_signal_detected",
            "poor_signal_detected",
            "low_perfusion_detected",
            "erratic_signal_detected",
            "nonpulsatile_signal_detected",
            "questionable_pulse_detected",
            "signal_analysis_ongoing",
            "sensor_interference_detected",
            "sensor_unconnected_to_user",
            "unknown_sensor_connected",
            "sensor_displaced",
            "sensor_malfunctioning",
            "sensor_disconnected",
        ]
    )
)
MS = 0x0120  # ongoing + fully qualified (the reference's cross-checked example)
DSS = 0x000201  # display update + signal analysis ongoing: reported, neither doubtful nor invalidating
MS_DOUBTFUL = {6, 10, 11, 12, 14}  # early estimate, demonstration, testing, calibration, questionable measurement
DSS_DOUBTFUL = {
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    10,
    12,
}  # malfunction, irregular / inadequate / poor / erratic signal, low perfusion, ...


def spot_check(flags: int, ms: int = MS, dss: int = DSS) -> tuple[bytes, list[int]]:
    """The value, and the lengths at which each announced field is complete (for truncation checks)."""
    data = bytes([flags]) + spec.sfloat(975, -1) + spec.sfloat(72)
    ends = [len(data)]
    for bit, field in (
        (0x01, spec.date_time(TS)),
        (0x02, spec.u16(ms)),
        (0x04, spec.u24(dss)),
        (0x08, spec.sfloat(52, -1)),
    ):
        if flags & bit:
            data += field
            ends.append(len(data))
    return data, ends


def continuous(flags: int, ms: int = MS, dss: int = DSS) -> tuple[bytes, list[int]]:
    data = bytes([flags]) + spec.sfloat(975, -1) + spec.sfloat(72)
    ends = [len(data)]
    fields = (
        (0x01, spec.sfloat(96) + spec.sfloat(75)),
        (0x02, spec.sfloat(98) + spec.sfloat(70)),
        (0x04, spec.u16(ms)),
        (0x08, spec.u24(dss)),
        (0x10, spec.sfloat(52, -1)),
    )
    for bit, field in fields:
        if flags & bit:
            data += field
            ends.append(len(data))
    return data, ends


def names(value: int, table: dict[int, str]) -> list[str]:
    return [table[b] for b in sorted(table) if value >> b & 1]


@pytest.mark.parametrize("rfu", [0x00, 0xE0])
@pytest.mark.parametrize("flags", range(32))
def test_spot_check_every_flag_combination(flags: int, rfu: int) -> None:
    data, ends = spot_check(flags | rfu)
    [m] = DECODERS["plx_spot_check"](data)
    expected: dict[str, object] = {"spo2": 97.5, "pulse_rate": 72.0}
    if flags & 0x08:
        expected["perfusion_index"] = 5.2
    assert m.values == pytest.approx(expected)
    assert m.timestamp == (TS if flags & 0x01 else None)
    assert m.status["device_clock_not_set"] is bool(flags & 0x10)
    assert m.status.get("measurement_status") == (names(MS, MS_NAMES) if flags & 0x02 else None)
    assert m.status.get("device_sensor_status") == (names(DSS, DSS_NAMES) if flags & 0x04 else None)
    assert m.status.get("finger_present") == (True if flags & 0x04 else None)
    assert m.quality == "ok"
    for end in ends[1:]:  # every announced field cut short by one byte
        with pytest.raises(DecodeError):
            DECODERS["plx_spot_check"](data[: end - 1])


@pytest.mark.parametrize("rfu", [0x00, 0xE0])
@pytest.mark.parametrize("flags", range(32))
def test_continuous_every_flag_combination(flags: int, rfu: int) -> None:
    data, ends = continuous(flags | rfu)
    [m] = DECODERS["plx_continuous"](data)
    expected: dict[str, object] = {"spo2": 97.5, "pulse_rate": 72.0}
    if flags & 0x01:
        expected |= {"spo2_fast": 96.0, "pulse_rate_fast": 75.0}
    if flags & 0x02:
        expected |= {"spo2_slow": 98.0, "pulse_rate_slow": 70.0}
    if flags & 0x10:
        expected["perfusion_index"] = 5.2
    assert m.values == pytest.approx(expected)
    assert m.timestamp is None  # the continuous characteristic has no timestamp
    assert m.status.get("measurement_status") == (names(MS, MS_NAMES) if flags & 0x04 else None)
    assert m.status.get("device_sensor_status") == (names(DSS, DSS_NAMES) if flags & 0x08 else None)
    assert m.quality == "ok"
    for end in ends:
        with pytest.raises(DecodeError):
            DECODERS["plx_continuous"](data[: end - 1])


@pytest.mark.parametrize("profile", ["plx_spot_check", "plx_continuous"])
@pytest.mark.parametrize("bit", range(16))
def test_each_measurement_status_bit(profile: str, bit: int) -> None:
    data = spot_check(0x02, ms=1 << bit)[0] if profile == "plx_spot_check" else continuous(0x04, ms=1 << bit)[0]
    [m] = DECODERS[profile](data)
    assert m.status["measurement_status"] == ([MS_NAMES[bit]] if bit in MS_NAMES else [])
    if bit in (13, 15):
        assert m.quality == "invalid"
        assert m.values == {"spo2": None, "pulse_rate": None}
    else:
        assert m.quality == ("questionable" if bit in MS_DOUBTFUL else "ok")
        assert m.values == {"spo2": 97.5, "pulse_rate": 72.0}


@pytest.mark.parametrize("profile", ["plx_spot_check", "plx_continuous"])
@pytest.mark.parametrize("bit", range(24))
def test_each_device_and_sensor_status_bit(profile: str, bit: int) -> None:
    data = spot_check(0x04, dss=1 << bit)[0] if profile == "plx_spot_check" else continuous(0x08, dss=1 << bit)[0]
    [m] = DECODERS[profile](data)
    assert m.status["device_sensor_status"] == ([DSS_NAMES[bit]] if bit in DSS_NAMES else [])
    assert m.status["finger_present"] is (bit != 11)
    if bit in (11, 13, 14, 15):
        assert m.quality == "invalid"
        assert m.values == {"spo2": None, "pulse_rate": None}
        assert m.status["missing"] == {"spo2": "flagged_invalid", "pulse_rate": "flagged_invalid"}
    else:
        assert m.quality == ("questionable" if bit in DSS_DOUBTFUL else "ok")  # the value stays, marked doubtful
        assert m.values == {"spo2": 97.5, "pulse_rate": 72.0}


@pytest.mark.parametrize("profile", ["plx_spot_check", "plx_continuous"])
@pytest.mark.parametrize(("name", "raw"), spec.SFLOAT_SPECIALS.items())
def test_special_values_give_none(profile: str, name: str, raw: bytes) -> None:
    [m] = DECODERS[profile](b"\x00" + raw + spec.sfloat(72))
    assert m.values == {"spo2": None, "pulse_rate": 72.0}
    assert m.status["missing"] == {"spo2": name}
    [m] = DECODERS[profile](b"\x00" + raw + raw)
    assert m.values == {"spo2": None, "pulse_rate": None}
    assert m.quality == "invalid"


@pytest.mark.parametrize(
    ("spo2", "pulse"),
    [(spec.sfloat(101), spec.sfloat(72)), (spec.sfloat(97), spec.sfloat(0)), (spec.sfloat(97), spec.sfloat(31, 1))],
)
def test_out_of_range_makes_the_unchecked_frame_invalid(spo2: bytes, pulse: bytes) -> None:
    """A PLX frame has no checksum: one impossible number and the other is not to be trusted either."""
    [m] = DECODERS["plx_continuous"](b"\x00" + spo2 + pulse)
    assert "out_of_range" in m.status["missing"].values()  # type: ignore[attr-defined]
    assert m.quality == "invalid"
    assert m.values == {"spo2": None, "pulse_rate": None}
    assert m.status["implausible"]


@pytest.mark.parametrize("profile", ["plx_spot_check", "plx_continuous"])
@pytest.mark.parametrize(
    ("spo2", "pulse", "bad"),
    [
        (spec.sfloat(8, -4), spec.sfloat(72), "spo2"),  # 0.0008 %: came through as ok (issue 20)
        (spec.sfloat(39), spec.sfloat(72), "spo2"),
        (spec.sfloat(97), spec.sfloat(19), "pulse_rate"),
        (spec.sfloat(97), spec.sfloat(301), "pulse_rate"),
    ],
    ids=param_id,
)
def test_implausible_values_make_the_frame_invalid(profile: str, spo2: bytes, pulse: bytes, bad: str) -> None:
    [m] = DECODERS[profile](b"\x00" + spo2 + pulse)
    assert m.quality == "invalid"
    assert m.values == {"spo2": None, "pulse_rate": None}
    assert bad in m.status["implausible"]  # type: ignore[operator]


@pytest.mark.parametrize(("spo2", "pulse"), [(40, 20), (100, 300), (62, 35), (97.5, 72)])
def test_the_edges_of_the_plausible_ranges_are_ok(spo2: float, pulse: float) -> None:
    [m] = DECODERS["plx_continuous"](b"\x00" + spec.sfloat(*_mantissa(spo2)) + spec.sfloat(*_mantissa(pulse)))
    assert m.quality == "ok"
    assert m.values == {"spo2": spo2, "pulse_rate": pulse}


def _mantissa(value: float) -> tuple[int, int]:
    return (int(value), 0) if value == int(value) else (int(value * 10), -1)


def test_timestamp_unknown_when_clock_not_set() -> None:
    data = b"\x11" + spec.sfloat(97) + spec.sfloat(72) + b"\x00\x00\x00\x00\x00\x00\x00"
    [m] = DECODERS["plx_spot_check"](data)
    assert m.timestamp is None
    assert m.status["timestamp_status"] == "unknown"
    assert m.status["device_clock_not_set"] is True


@pytest.mark.parametrize("features", range(256))
def test_features_every_combination(features: int) -> None:
    data = spec.u16(features)
    if features & 0x01:
        data += spec.u16(0xFFE0)
    if features & 0x02:
        data += spec.u24(0x00FFFF)
    [m] = DECODERS["plx_features"](data)
    feature_names = [
        "measurement_status",
        "device_and_sensor_status",
        "measurement_storage_for_spot_check",
        "timestamp_for_spot_check",
        "spo2pr_fast",
        "spo2pr_slow",
        "pulse_amplitude_index",
        "multiple_bonds",
    ]
    assert m.status["supported_features"] == [n for b, n in enumerate(feature_names) if features >> b & 1]
    assert m.status.get("supported_measurement_status") == (list(MS_NAMES.values()) if features & 1 else None)
    assert m.status.get("supported_device_sensor_status") == (list(DSS_NAMES.values()) if features & 2 else None)
    if features & 0x03:
        with pytest.raises(DecodeError):
            DECODERS["plx_features"](data[:-1])

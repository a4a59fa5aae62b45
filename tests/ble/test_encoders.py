"""The vendor modules' emulator encoders against their decoders, both written from the byte layouts."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from roomctl.models import Quantity
from roomctl.sensors.measurement import Measurement
from roomctl.sensors.vendors import (
    DECODERS,
    berrymed,
    jumper,
    nonin,
    pc60fw,
    sig_health,
    sig_heart_rate,
    sig_plx,
    stream_decoder_for,
    viatom,
)
from roomctl.sensors.vendors.viatom import encode_response


def one(decoder: str, data: bytes) -> Measurement:
    measurements = DECODERS[decoder](data)
    assert len(measurements) == 1
    return measurements[0]


@given(
    bpm=st.integers(30, 300),
    rr=st.lists(st.floats(0.3, 2.0), max_size=4),
    contact=st.sampled_from([True, False, None]),
    energy=st.none() | st.integers(0, 65535),
)
def test_heart_rate(bpm: int, rr: list[float], contact: bool | None, energy: int | None) -> None:
    m = one("heart_rate", sig_heart_rate.encode_heart_rate(bpm, rr, contact, energy))
    assert m.values[Quantity.HEART_RATE] == bpm
    assert m.values.get(Quantity.RR_INTERVALS, []) == pytest.approx([round(r * 1024) / 1024 for r in rr], abs=1e-9)
    assert m.status["sensor_contact"] == {True: "detected", False: "not_detected", None: "not_supported"}[contact]
    if energy is not None:
        assert m.values[Quantity.ENERGY_EXPENDED] == energy


def assert_on_grid(decoded: object, value: float, *, step: float) -> None:
    """What an IEEE-11073 float can carry: the value to the nearest step (a tie may go either way: 0.45 is 0.4 or 0.5)."""
    assert isinstance(decoded, float)
    assert abs(decoded - value) <= step / 2 + 1e-9
    assert decoded / step == pytest.approx(round(decoded / step), abs=1e-6)


@given(spo2=st.integers(70, 100), pr=st.integers(30, 250), pai=st.none() | st.floats(0.1, 20.0))
@example(spo2=97, pr=70, pai=0.45)  # a tie that float division rounds down (found by hypothesis)
def test_plx_continuous(spo2: int, pr: int, pai: float | None) -> None:
    m = one("plx_continuous", sig_plx.encode_continuous(spo2, pr, pai))
    assert (m.values[Quantity.SPO2], m.values[Quantity.PULSE_RATE]) == (spo2, pr)
    if pai is not None:
        assert_on_grid(m.values[Quantity.PERFUSION_INDEX], pai, step=0.1)
    assert m.status["finger_present"] is True


def test_plx_finger_off_is_null_with_the_status_bit() -> None:
    m = one("plx_continuous", sig_plx.encode_continuous(None, None, None, (11,)))
    assert m.values[Quantity.SPO2] is None
    assert m.values[Quantity.PULSE_RATE] is None
    assert "sensor_unconnected_to_user" in m.status["device_sensor_status"]  # type: ignore[operator]
    assert m.status["finger_present"] is False


def test_plx_features_and_battery() -> None:
    features = one("plx_features", sig_plx.encode_features())
    assert features.status["supported_features"] == ["device_and_sensor_status", "pulse_amplitude_index"]
    assert len(features.status["supported_device_sensor_status"]) == 16  # type: ignore[arg-type]
    assert one("battery_level", sig_heart_rate.encode_battery_level(42)).values[Quantity.BATTERY] == 42


@given(celsius=st.floats(30.0, 43.0))
@example(celsius=36.125)
def test_temperature(celsius: float) -> None:
    m = one("temperature", sig_health.encode_temperature(celsius))
    assert_on_grid(m.values[Quantity.TEMPERATURE], celsius, step=0.01)
    assert m.status["temperature_type"] == "body"


@given(sys_=st.integers(80, 250), dia=st.integers(40, 150), pulse=st.none() | st.integers(30, 200))
def test_blood_pressure(sys_: int, dia: int, pulse: int | None) -> None:
    m = one("blood_pressure", sig_health.encode_blood_pressure(sys_, dia, None, pulse))
    assert (m.values[Quantity.SYSTOLIC], m.values[Quantity.DIASTOLIC]) == (sys_, dia)
    assert m.values[Quantity.MEAN_ARTERIAL_PRESSURE] is None
    assert m.values.get(Quantity.PULSE_RATE) == pulse


@given(
    spo2=st.integers(70, 100),
    pr=st.integers(30, 254),
    finger_off=st.booleans(),
    cuts=st.lists(st.integers(1, 15), max_size=8),
)
def test_berrymed_stream_in_any_cut(spo2: int, pr: int, finger_off: bool, cuts: list[int]) -> None:
    stream = b"".join(berrymed.encode_packet(spo2, pr, pleth, finger_off) for pleth in (10, 50, 90))
    decoder = stream_decoder_for("berrymed")
    got: list[Measurement] = []
    pos = 0
    for cut in [*cuts, len(stream)]:
        got += decoder.feed(stream[pos : pos + cut])
        pos += cut
    got += decoder.feed(stream[pos:])
    assert len(got) == 3
    for m in got:
        assert m.status["finger_present"] is (not finger_off)
        if not finger_off:
            assert (m.values[Quantity.SPO2], m.values[Quantity.PULSE_RATE]) == (spo2, pr)


@given(
    spo2=st.none() | st.integers(70, 100), pr=st.none() | st.integers(30, 300), finger=st.booleans(), low=st.booleans()
)
def test_nonin(spo2: int | None, pr: int | None, finger: bool, low: bool) -> None:
    m = one("nonin", nonin.encode_packet(spo2, pr, 2.5, 7, 30, finger, low))
    if finger:
        assert (m.values[Quantity.SPO2], m.values[Quantity.PULSE_RATE]) == (spo2, pr)
    assert m.status["finger_present"] is finger
    assert m.status["low_battery"] is low


@given(spo2=st.integers(70, 100), hr=st.integers(30, 250), battery=st.integers(0, 100), finger=st.booleans())
def test_viatom(spo2: int, hr: int, battery: int, finger: bool) -> None:
    m = one("viatom", encode_response(viatom.encode_sensors(spo2, hr, battery, finger)))
    assert m.values[Quantity.BATTERY] == battery
    assert m.status["finger_present"] is finger
    if finger:
        assert (m.values[Quantity.SPO2], m.values[Quantity.PULSE_RATE]) == (spo2, hr)
    else:
        assert m.values[Quantity.SPO2] is None


@given(pr=st.integers(30, 254), spo2=st.integers(70, 100), pi=st.floats(0.1, 20.0))
def test_jumper(pr: int, spo2: int, pi: float) -> None:
    m = one("jumper", jumper.encode_frame(pr, spo2, pi))
    assert (m.values[Quantity.SPO2], m.values[Quantity.PULSE_RATE]) == (spo2, pr)
    assert m.values[Quantity.PERFUSION_INDEX] == pytest.approx(round(pi * 10) / 10)


@given(spo2=st.integers(70, 100), pr=st.integers(30, 250), pi=st.floats(0.1, 20.0))
def test_pc60fw(spo2: int, pr: int, pi: float) -> None:
    m = one("pc60fw", pc60fw.encode_numbers(spo2, pr, pi))
    assert (m.values[Quantity.SPO2], m.values[Quantity.PULSE_RATE]) == (spo2, pr)
    assert m.values[Quantity.PERFUSION_INDEX] == pytest.approx(round(pi * 10) / 10)

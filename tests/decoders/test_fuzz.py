"""Any bytes give measurements or DecodeError, never another exception, never an implausible value presented as valid."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomctl.errors import DecodeError
from roomctl.models import Quality, Quantity
from roomctl.sensors.measurement import Measurement
from roomctl.sensors.vendors import DECODERS, stream_decoder_for
from roomctl.sensors.vendors.pc60fw import crc_frame
from roomctl.sensors.vendors.viatom import encode_response
from tests.decoders import spec

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(measurements: list[Measurement]) -> None:
    assert isinstance(measurements, list)
    for m in measurements:
        assert isinstance(m, Measurement)
        assert isinstance(m.quality, Quality)
        assert "quality" not in m.status  # one place for it: the typed field
        missing = m.status.get("missing", {})
        assert isinstance(missing, dict)
        for name, value in m.values.items():
            assert isinstance(name, Quantity)  # only canonical quantities, as the enum
            if name == "rr_intervals":
                assert isinstance(value, list)
                assert all(spec.RR_RANGE[0] <= v <= spec.RR_RANGE[1] for v in value)
            elif value is None:
                assert name in missing, f"{name} is None without a reason"
            else:
                low, high = spec.RANGES[name]
                assert isinstance(value, float)
                assert low <= value <= high, f"{name}={value} presented as valid"
        if m.quality is Quality.INVALID and m.status.get("finger_present") is False:
            assert all(v is None for q, v in m.values.items() if q != "battery")  # battery is not a vital
        json.dumps(m.to_json())  # the CLI contract: always serialisable


def decode_or_reject(profile: str, data: bytes) -> None:
    try:
        measurements = DECODERS[profile](data)
    except DecodeError as e:
        message = str(e)
    else:
        check(measurements)
        return
    assert message  # a reason in words


@pytest.mark.parametrize("profile", sorted(DECODERS))
@FUZZ
@given(data=st.binary(max_size=64))
def test_any_bytes(profile: str, data: bytes) -> None:
    decode_or_reject(profile, data)


@pytest.mark.parametrize(
    "profile", ["heart_rate", "plx_spot_check", "plx_continuous", "plx_features", "temperature", "blood_pressure"]
)
@FUZZ
@given(flags=st.integers(0, 255), body=st.binary(min_size=0, max_size=40))
def test_sig_flags_with_random_fields(profile: str, flags: int, body: bytes) -> None:
    decode_or_reject(profile, bytes([flags]) + body)


@FUZZ
@given(payload=st.binary(max_size=40), status=st.integers(0, 255), junk=st.binary(max_size=8))
def test_viatom_valid_frames_random_payload(payload: bytes, status: int, junk: bytes) -> None:
    decode_or_reject("viatom", junk + encode_response(payload, status=status))


@FUZZ
@given(body=st.binary(min_size=1, max_size=30), kind=st.sampled_from([0x0F, 0xF0]), junk=st.binary(max_size=8))
def test_pc60fw_valid_frames_random_body(body: bytes, kind: int, junk: bytes) -> None:
    decode_or_reject("pc60fw", junk + crc_frame(bytes([0xAA, 0x55, kind, len(body) + 1]) + body))


@FUZZ
@given(fields=st.lists(st.binary(min_size=4, max_size=4), min_size=1, max_size=8))
def test_berrymed_packets_with_random_fields(fields: list[bytes]) -> None:
    data = b"".join(bytes([0x80 | f[0]]) + bytes(b & 0x7F for b in f[1:]) + b"\x00" for f in fields)
    decode_or_reject("berrymed", data)


@pytest.mark.parametrize("profile", sorted(DECODERS))
@FUZZ
@given(chunks=st.lists(st.binary(max_size=30), max_size=20))
def test_stream_decoders_never_raise(profile: str, chunks: list[bytes]) -> None:
    stream = stream_decoder_for(profile)
    for chunk in chunks:
        check(stream.feed(chunk))
    assert stream.pending <= 1024

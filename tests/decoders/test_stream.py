"""Stream decoders: however the packet stream is cut into notifications, the same measurements come out."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from roomctl.models import Quantity
from roomctl.sensors.measurement import Measurement
from roomctl.sensors.vendors import BerryMedStreamDecoder, StreamDecoder, stream_decoder_for
from roomctl.sensors.vendors.pc60fw import crc_frame
from roomctl.sensors.vendors.viatom import encode_response

packet = st.tuples(st.integers(0, 127), st.integers(0, 255), st.integers(0, 127), st.integers(0, 127)).map(
    lambda t: bytes([0x80 | (t[0] & 0x7F), t[2], (t[1] & 0x7F), t[3], t[0]])
)
noise = st.binary(max_size=6).map(lambda b: bytes(x & 0x7F for x in b))  # no sync bit: skipped


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def run(stream: StreamDecoder, chunks: list[bytes]) -> list[dict[str, object]]:
    out: list[Measurement] = []
    for chunk in chunks:
        out += stream.feed(chunk)
    return [m.to_json() for m in out]


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(packet, noise), max_size=30), cuts=st.lists(st.integers(0, 10_000), max_size=25))
def test_berrymed_any_chunking_gives_the_same_measurements(parts: list[bytes], cuts: list[int]) -> None:
    data = b"".join(parts)
    whole = run(BerryMedStreamDecoder(), [data])
    assert run(BerryMedStreamDecoder(), cut(data, cuts)) == whole
    assert run(BerryMedStreamDecoder(), [bytes([b]) for b in data]) == whole
    assert len(whole) == sum(1 for p in parts if p and p[0] & 0x80)  # every whole packet decoded once


def test_berrymed_packet_split_across_notifications() -> None:
    stream = BerryMedStreamDecoder()
    assert stream.feed(bytes([0x87, 0x20, 0x03])) == []
    assert stream.pending == 3
    [m] = stream.feed(bytes([72, 97, 0x87]))
    assert m.values == {"spo2": 97.0, "pulse_rate": 72.0}
    assert stream.pending == 1
    stream.reset()
    assert stream.pending == 0


pc60fw_frame = st.tuples(st.integers(60, 100), st.integers(40, 200), st.integers(0, 200)).map(
    lambda t: crc_frame(bytes([0xAA, 0x55, 0x0F, 0x08, 0x01, t[0], t[1], 0, t[2], 0, 0]))
)
viatom_frame = st.tuples(st.integers(60, 100), st.integers(40, 200), st.integers(0, 100)).map(
    lambda t: encode_response(bytes([t[0], t[1], 0, 0, 0, 0, 0, t[2], 0, 0, 30, 1, 0]))
)


@settings(max_examples=200, deadline=None)
@given(
    profile_frames=st.one_of(
        st.tuples(st.just("pc60fw"), st.lists(pc60fw_frame, max_size=10)),
        st.tuples(st.just("viatom"), st.lists(viatom_frame, max_size=10)),
    ),
    cuts=st.lists(st.integers(0, 10_000), max_size=25),
)
def test_framed_streams_any_chunking(profile_frames: tuple[str, list[bytes]], cuts: list[int]) -> None:
    profile, frames = profile_frames
    data = b"".join(frames)
    whole = run(stream_decoder_for(profile), [data])
    assert len(whole) == len(frames)
    assert run(stream_decoder_for(profile), cut(data, cuts)) == whole


def test_bad_frames_are_counted_not_raised() -> None:
    good = crc_frame(bytes.fromhex("aa550f0801603e00500000"))
    bad = bytearray(good)
    bad[5] ^= 0x01
    stream = stream_decoder_for("pc60fw")
    out = stream.feed(bytes(bad) + good)
    assert [m.values[Quantity.SPO2] for m in out] == [96.0]
    assert stream.rejected == 1
    assert stream.last_error is not None
    assert "checksum" in stream.last_error


def test_per_notification_profiles_count_rejects() -> None:
    stream = stream_decoder_for("0x2A37")
    assert stream.feed(b"\x00") == []
    assert stream.rejected == 1
    [m] = stream.feed(b"\x00\x48")
    assert m.values == {"heart_rate": 72.0}

"""Vendor oximeter protocols: vectors built from the layouts in the reference §7, and their invalid markers."""

from __future__ import annotations

import pytest

from roomctl.errors import DecodeError
from roomctl.models import Quantity
from roomctl.sensors.codec.crc import crc8_maxim, crc8_smbus
from roomctl.sensors.vendors import DECODERS, READ_SENSORS_REQUEST, encode_request, stream_decoder_for
from roomctl.sensors.vendors.viatom import encode_response
from tests.builders import param_id
from tests.decoders import spec


def berrymed(
    spo2: int = 98, pulse: int = 72, *, no_finger: bool = False, unplugged: bool = False, searching: bool = False
) -> bytes:
    b0 = 0x80 | 0x40 | (0x20 if unplugged else 0) | 0x07  # sync, beep, signal strength 7
    b2 = 0x03 | (0x10 if no_finger else 0) | (0x20 if searching else 0) | ((pulse & 0x80) >> 1)
    return bytes([b0, 0x33, b2, pulse & 0x7F, spo2])


def test_crc_check_values() -> None:
    # Catalogue check values for "123456789": CRC-8/SMBUS 0xF4, CRC-8/MAXIM 0xA1; and agreement with bitwise forms.
    assert crc8_smbus(b"123456789") == 0xF4 == spec.crc8_bitwise(b"123456789")
    assert crc8_maxim(b"123456789") == 0xA1 == spec.crc8_maxim_bitwise(b"123456789")
    for data in (b"", b"\x00", bytes(range(256))):
        assert crc8_smbus(data) == spec.crc8_bitwise(data)
        assert crc8_maxim(data) == spec.crc8_maxim_bitwise(data)


class TestBerryMed:
    def test_packet(self) -> None:
        [m] = DECODERS["berrymed"](berrymed(97, 64))
        assert m.values == {"spo2": 97.0, "pulse_rate": 64.0}
        assert m.status["finger_present"] is True
        assert m.status["signal_strength"] == 7
        assert m.status["pleth"] == 0x33
        assert m.quality == "ok"

    def test_pulse_rate_bit7_comes_from_byte2_bit6(self) -> None:
        [m] = DECODERS["berrymed"](berrymed(95, 200))
        assert m.values[Quantity.PULSE_RATE] == 200.0

    @pytest.mark.parametrize(("spo2", "pulse"), [(127, 72), (98, 255), (127, 255), (0, 72)])
    def test_invalid_markers(self, spo2: int, pulse: int) -> None:
        [m] = DECODERS["berrymed"](berrymed(spo2, pulse))
        missing = m.status["missing"]
        assert isinstance(missing, dict)
        assert all(m.values[q] is None and missing[q] == "device_marker" for q in missing)
        assert (m.values[Quantity.SPO2] is None) is (spo2 in (0, 127))
        assert (m.values[Quantity.PULSE_RATE] is None) is (pulse == 255)

    @pytest.mark.parametrize("kind", ["no_finger", "unplugged"])
    def test_finger_off_or_probe_unplugged_is_invalid(self, kind: str) -> None:
        [m] = DECODERS["berrymed"](berrymed(98, 72, **{kind: True}))
        assert m.values == {"spo2": None, "pulse_rate": None}
        assert m.quality == "invalid"
        assert m.status["finger_present"] is (kind != "no_finger")

    def test_searching_is_questionable(self) -> None:
        [m] = DECODERS["berrymed"](berrymed(searching=True))
        assert m.quality == "questionable"

    def test_several_packets_and_leading_noise(self) -> None:
        data = b"\x12\x7f" + berrymed(97, 60) + berrymed(96, 61) + berrymed(95, 62)[:3]
        ms = DECODERS["berrymed"](data)
        assert [m.values[Quantity.SPO2] for m in ms] == [97.0, 96.0]

    def test_truncated_packet_resyncs_at_next_sync_byte(self) -> None:
        ms = DECODERS["berrymed"](berrymed(97, 60)[:3] + berrymed(96, 61))
        assert [m.values[Quantity.SPO2] for m in ms] == [96.0]

    @pytest.mark.parametrize("data", [b"", b"\x01\x02\x03", berrymed()[:4]])
    def test_no_complete_packet(self, data: bytes) -> None:
        with pytest.raises(DecodeError):
            DECODERS["berrymed"](data)


class TestNonin:
    @staticmethod
    def packet(status: int = 0x14, spo2: int = 97, pulse: int = 72, pai: int = 300) -> bytes:
        return (
            bytes([10, status, 30])
            + pai.to_bytes(2, "big")
            + (5).to_bytes(2, "big")
            + bytes([spo2])
            + pulse.to_bytes(2, "big")
        )

    def test_packet(self) -> None:
        [m] = DECODERS["nonin"](self.packet())
        assert m.values == {"spo2": 97.0, "pulse_rate": 72.0, "perfusion_index": 3.0}
        assert m.status["finger_present"] is True
        assert m.status["smartpoint"] is True
        assert m.status["battery_voltage"] == 3.0
        assert m.status["seconds_counter"] == 5
        assert m.quality == "ok"

    def test_missing_markers(self) -> None:
        [m] = DECODERS["nonin"](self.packet(spo2=127, pulse=511))
        assert m.values[Quantity.SPO2] is None
        assert m.values[Quantity.PULSE_RATE] is None
        assert m.quality == "invalid"

    def test_pulse_rate_is_big_endian_u16(self) -> None:
        [m] = DECODERS["nonin"](self.packet(pulse=0x0102))
        assert m.values[Quantity.PULSE_RATE] == 258.0

    def test_sensor_not_connected_is_invalid(self) -> None:
        [m] = DECODERS["nonin"](self.packet(status=0x00))
        assert m.status["finger_present"] is False
        assert m.quality == "invalid"
        assert m.values[Quantity.SPO2] is None

    @pytest.mark.parametrize("status", [0x12, 0x18])
    def test_weak_signal_or_searching_is_questionable(self, status: int) -> None:
        assert DECODERS["nonin"](self.packet(status=status))[0].quality == "questionable"

    @pytest.mark.parametrize("data", [b"", bytes(9), b"\x0b" + bytes(9)])
    def test_wrong_length(self, data: bytes) -> None:
        with pytest.raises(DecodeError):
            DECODERS["nonin"](data)


class TestViatom:
    @staticmethod
    def payload(spo2: int = 96, hr: int = 61, hr_high: int = 0, battery: int = 80, finger: int = 1) -> bytes:
        return bytes([spo2, hr, hr_high, 0, 0, 0, 0, battery, 1, 3, 40, finger, 0])

    def test_read_sensors_request(self) -> None:
        head = bytes([0xAA, 0x17, 0xE8, 0x00, 0x00, 0x00, 0x00])
        assert head + bytes([spec.crc8_bitwise(head)]) == READ_SENSORS_REQUEST
        assert encode_request(0x17) == READ_SENSORS_REQUEST

    def test_request_with_payload_and_block(self) -> None:
        frame = encode_request(0x04, block=0x0102, payload=b"xy")
        assert frame[:7] == bytes([0xAA, 0x04, 0xFB, 0x02, 0x01, 0x02, 0x00])
        assert frame[7:9] == b"xy"
        assert frame[9] == spec.crc8_bitwise(frame[:9])

    def test_response(self) -> None:
        frame = encode_response(self.payload())
        assert len(frame) == 21
        assert frame[-1] == spec.crc8_bitwise(frame[:-1])
        [m] = DECODERS["viatom"](frame)
        assert m.values == {"spo2": 96.0, "pulse_rate": 61.0, "battery": 80.0}
        assert m.status["finger_present"] is True
        assert m.status["charging"] == "charging"
        assert m.quality == "ok"

    @pytest.mark.parametrize(
        ("kwargs", "spo2", "pulse", "quality"),
        [
            ({"spo2": 0xFF}, None, 61.0, "ok"),
            ({"hr": 0xFF}, 96.0, None, "ok"),
            ({"hr_high": 0xFF}, 96.0, None, "ok"),
            ({"spo2": 0xFF, "hr": 0xFF}, None, None, "invalid"),
            ({"finger": 0}, None, None, "invalid"),
        ],
        ids=param_id,
    )
    def test_no_reading_markers(
        self, kwargs: dict[str, int], spo2: float | None, pulse: float | None, quality: str
    ) -> None:
        [m] = DECODERS["viatom"](encode_response(self.payload(**kwargs)))
        assert (m.values[Quantity.SPO2], m.values[Quantity.PULSE_RATE]) == (spo2, pulse)
        assert m.quality == quality
        assert m.values[Quantity.BATTERY] == 80.0  # still valid with the finger out

    def test_bad_crc_status_and_short_payload_are_rejected(self) -> None:
        frame = bytearray(encode_response(self.payload()))
        frame[8] ^= 1
        with pytest.raises(DecodeError, match="checksum"):
            DECODERS["viatom"](bytes(frame))
        with pytest.raises(DecodeError, match="error status"):
            DECODERS["viatom"](encode_response(self.payload(), status=1))
        with pytest.raises(DecodeError, match="payload"):
            DECODERS["viatom"](encode_response(b"\x01\x02"))
        with pytest.raises(DecodeError, match="incomplete"):
            DECODERS["viatom"](encode_response(self.payload())[:15])

    def test_stream_reassembles_split_response(self) -> None:
        frame = encode_response(self.payload())
        stream = stream_decoder_for("viatom")
        assert stream.feed(frame[:20]) == []
        [m] = stream.feed(frame[20:])
        assert m.values[Quantity.SPO2] == 96.0


class TestPc60fw:
    SZA2 = bytes.fromhex("aa550f0801603e00500 0c0".replace(" ", ""))  # the sza2/viatom_pc60fw README example

    def frame(self, body: bytes) -> bytes:
        return body + bytes([spec.crc8_maxim_bitwise(body)])

    def test_readme_example(self) -> None:
        [m] = DECODERS["pc60fw"](self.frame(self.SZA2))
        assert m.values == {"spo2": 96.0, "pulse_rate": 62.0, "perfusion_index": 8.0}
        assert m.quality == "ok"

    def test_crc_over_whole_frame_is_zero(self) -> None:
        assert spec.crc8_maxim_bitwise(self.frame(self.SZA2)) == 0

    def test_waveform_and_battery_frames(self) -> None:
        wave = self.frame(bytes.fromhex("aa550f07023b3835322f"))
        battery = self.frame(bytes.fromhex("aa55f0030303"))
        assert DECODERS["pc60fw"](wave) == []
        [m] = DECODERS["pc60fw"](b"\x00" + wave + battery)
        assert m.values == {}
        assert m.status["battery_level_bars"] == 3

    def test_zero_means_no_reading(self) -> None:
        [m] = DECODERS["pc60fw"](self.frame(bytes.fromhex("aa550f0801000000000000")))
        assert m.values == {"spo2": None, "pulse_rate": None, "perfusion_index": 0.0}
        assert m.quality == "invalid"

    def test_bad_crc(self) -> None:
        frame = bytearray(self.frame(self.SZA2))
        frame[5] = 0x61
        with pytest.raises(DecodeError, match="checksum"):
            DECODERS["pc60fw"](bytes(frame))


class TestJumper:
    def test_frame(self) -> None:
        [m] = DECODERS["jumper"](bytes([0x81, 72, 98, 25]))
        assert m.values == {"spo2": 98.0, "pulse_rate": 72.0, "perfusion_index": 2.5}

    @pytest.mark.parametrize(("pulse", "spo2"), [(255, 98), (72, 127), (0, 0)])
    def test_invalid_markers(self, pulse: int, spo2: int) -> None:
        [m] = DECODERS["jumper"](bytes([0x81, pulse, spo2, 25]))
        assert None in (m.values[Quantity.SPO2], m.values[Quantity.PULSE_RATE])

    def test_zero_perfusion_index_is_missing(self) -> None:
        [m] = DECODERS["jumper"](bytes([0x81, 72, 98, 0]))
        assert m.values == {"spo2": 98.0, "pulse_rate": 72.0, "perfusion_index": None}
        assert m.quality == "ok"

    def test_waveform_frame_and_unknown_frames(self) -> None:
        assert DECODERS["jumper"](bytes([0x80, 1, 2, 3, 4])) == []
        with pytest.raises(DecodeError):
            DECODERS["jumper"](bytes([0x82, 1, 2, 3]))
        with pytest.raises(DecodeError):
            DECODERS["jumper"](bytes([0x81, 72]))

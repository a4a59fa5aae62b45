"""Decode cost per notification, per profile (µs), measured with timeit on this machine.

Run: .venv/bin/python bench/bench_decode.py
Each figure is the best of 5 repeats of N decodes of one typical notification, divided by N.
"""

from __future__ import annotations

import timeit

from roomctl.sensors.vendors import DECODERS, stream_decoder_for
from roomctl.sensors.vendors.pc60fw import crc_frame
from roomctl.sensors.vendors.viatom import encode_response

BERRYMED_PACKET = bytes([0x87, 0x33, 0x03, 72, 97])
NOTIFICATIONS: dict[str, tuple[str, bytes]] = {
    "heart_rate": ("HR uint8 + contact", bytes.fromhex("0648")),
    "heart_rate+rr": ("HR + 2 RR intervals", bytes.fromhex("16480004cd03")),
    "body_sensor_location": ("chest", b"\x01"),
    "battery_level": ("87 %", b"\x57"),
    "plx_spot_check": (
        "SpO2, PR, timestamp, MS, D&S",
        bytes.fromhex("07620048 00ea070b17131e05 2001 300000".replace(" ", "")),
    ),
    "plx_continuous": (
        "normal + fast + MS + D&S + PAI",
        bytes.fromhex("1d62004800600048002001300000 34f0".replace(" ", "")),
    ),
    "plx_features": ("features + both supports", bytes.fromhex("0300e0ffffff00")),
    "temperature": ("°C, timestamp, type", bytes.fromhex("066c0100ffea070b17131e0502")),
    "blood_pressure": (
        "mmHg, ts, pulse, user, status",
        bytes.fromhex("1e78005000ff07ea070b17131e0540000301 00".replace(" ", "")),
    ),
    "berrymed": ("4 BCI packets", BERRYMED_PACKET * 4),
    "nonin": ("continuous oximetry", bytes([10, 0x14, 30, 1, 44, 0, 5, 97, 0, 72])),
    "viatom": ("READ_SENSORS response", encode_response(bytes([96, 61, 0, 0, 0, 0, 0, 80, 1, 3, 40, 1, 0]))),
    "jumper": ("0x81 frame", bytes([0x81, 72, 98, 25])),
    "pc60fw": ("numbers frame", crc_frame(bytes.fromhex("aa550f0801603e00500000"))),
}


def per_call_us(func: object, arg: bytes, number: int) -> float:
    timer = timeit.Timer(lambda: func(arg))  # type: ignore[operator]
    return min(timer.repeat(repeat=5, number=number)) / number * 1e6


def main() -> None:
    print(f"{'profile':<22} {'notification':<32} {'bytes':>5} {'µs/decode':>10} {'µs/stream feed':>15}")
    for name, (what, data) in NOTIFICATIONS.items():
        profile = name.split("+")[0]
        decoder = DECODERS[profile]
        decoder(data)  # must be valid
        stream = stream_decoder_for(profile)
        assert stream.feed(data) is not None
        number = 20_000
        print(
            f"{name:<22} {what:<32} {len(data):>5} {per_call_us(decoder, data, number):>10.2f} "
            f"{per_call_us(stream.feed, data, number):>15.2f}"
        )


if __name__ == "__main__":
    main()

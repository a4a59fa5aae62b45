"""``roomctl decode PROFILE HEX [--json]``: decode one captured characteristic value (design/contracts.md).

Exit 0 and the measurements when the bytes are valid; exit 1 and ``{"valid": false, "error": ...}`` (with ``--json``)
or one line on stderr otherwise. Never a traceback.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

_SEPARATORS = re.compile(r"[\s:,\-]+")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "decode",
        help="decode one captured BLE characteristic value (for debugging a wearable)",
        description="Decode one characteristic value captured from a wearable, e.g. "
        "`roomctl decode heart_rate '16 48 00 04'`. PROFILE is a profile name (heart_rate, plx_continuous, "
        "berrymed, ...) or a SIG UUID such as 2a37.",
    )
    parser.add_argument("profile", metavar="PROFILE", help="decode profile or SIG characteristic UUID (e.g. 2a37)")
    parser.add_argument("hex", metavar="HEX", nargs="+", help="the bytes in hex; spaces, colons and dashes are ignored")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the format scripts rely on)")
    parser.set_defaults(handler=decode_command)


def parse_hex(parts: list[str]) -> bytes:
    """Bytes from hex text like ``16 48 00``, ``16:48:00`` or ``0x164800``; DecodeError in words otherwise."""
    from roomctl.errors import DecodeError

    text = _SEPARATORS.sub("", "".join(parts))
    if text[:2].lower() == "0x":
        text = text[2:]
    if not text:
        raise DecodeError("no bytes given")
    bad = re.search(r"[^0-9a-fA-F]", text)
    if bad is not None:
        raise DecodeError(f"not hex: {bad.group()!r} is not a hex digit (use 0-9 and a-f, e.g. '16 48 00')")
    if len(text) % 2:
        raise DecodeError(f"not hex: {len(text)} hex digits is an odd number; every byte needs two digits")
    return bytes.fromhex(text)


def _number(value: float) -> str:
    return f"{value:g}" if abs(value) >= 0.001 or value == 0 else f"{value:.6f}"


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "unknown" if value is None else str(value)


def describe(measurement: Any) -> str:
    """One human-readable line: values with units, then status."""
    from roomctl.models import UNITS, Quantity

    parts = []
    for name, value in measurement.values.items():
        unit = UNITS[Quantity(name)]
        if value is None:
            why = measurement.status.get("missing", {}).get(name, "missing")
            parts.append(f"{name}=— ({why})")
        elif isinstance(value, list):
            parts.append(f"{name}=[{', '.join(_number(v) for v in value)}] {unit}")
        else:
            parts.append(f"{name}={_number(value)} {unit}")
    status = [f"{k}={_plain(v)}" for k, v in measurement.status.items() if k not in ("missing", "quality")]
    line = "  ".join(parts) if parts else "(no values)"
    if measurement.timestamp is not None:
        line += f"  at {measurement.timestamp.isoformat()}"
    return f"{line}  [{measurement.quality}]" + (f"  {', '.join(status)}" if status else "")


def decode_command(args: argparse.Namespace) -> int:
    from roomctl.errors import RoomctlError
    from roomctl.sensors.vendors import DECODERS, resolve_profile

    try:
        profile = resolve_profile(args.profile)
        measurements = DECODERS[profile](parse_hex(args.hex))
    except RoomctlError as e:
        if args.json:
            print(json.dumps({"valid": False, "error": str(e)}))
        else:
            print(f"roomctl decode: invalid: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"valid": True, "measurements": [m.to_json() for m in measurements]}, ensure_ascii=False))
        return 0
    if not measurements:
        print(f"{profile}: valid, but no measurement in these bytes (e.g. waveform frames only)")
    for measurement in measurements:
        print(f"{profile}: {describe(measurement)}")
    return 0

"""``roomctl decode PROFILE HEX [--json]`` per design/contracts.md."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from roomctl.cli.main import main
from roomctl.sensors.vendors import DECODERS
from tests.builders import param_id


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main(["decode", *args, "--json"])
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "one JSON object on one line"
    return code, json.loads(out)


@pytest.mark.parametrize("profile", ["heart_rate", "2a37", "0x2A37", "2A37", "00002a37-0000-1000-8000-00805f9b34fb"])
def test_aliases_and_json_shape(capsys: pytest.CaptureFixture[str], profile: str) -> None:
    code, doc = run_json(capsys, profile, "16 48 00 04 00:04")
    assert code == 0
    assert doc == {
        "valid": True,
        "measurements": [
            {
                "values": {"heart_rate": 72.0, "rr_intervals": [1.0, 1.0]},
                "status": {"sensor_contact": "detected", "quality": "ok"},
                "timestamp": None,
            }
        ],
    }


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["heart_rate", "16"], "needs at least 2 bytes"),
        (["heart_rate", "10 48"], "RR intervals"),
        (["battery_level", "65"], "above 100"),
        (["heart_rate", "zz"], "not hex"),
        (["heart_rate", "164"], "odd"),
        (["no_such_profile", "00"], "unknown decode profile"),
        (["pc60fw", "aa550f0801603e0050000000"], "checksum"),
    ],
    ids=param_id,
)
def test_invalid_input_exit_1_with_error(capsys: pytest.CaptureFixture[str], args: list[str], words: str) -> None:
    code, doc = run_json(capsys, *args)
    assert code == 1
    assert doc["valid"] is False
    assert words in str(doc["error"])


def test_plain_output_is_short_and_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "plx_spot_check", "00 62 00 48 00"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == "plx_spot_check: spo2=98 %  pulse_rate=72 bpm  [ok]  device_clock_not_set=no"


def test_plain_error_is_one_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "temperature", "00 01"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "temperature measurement" in captured.err


def test_timestamp_is_iso(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "temperature", "02 6c 01 00 ff ea 07 0b 17 13 1e 05")
    assert code == 0
    measurements = doc["measurements"]
    assert isinstance(measurements, list)
    [m] = measurements
    assert m["timestamp"] == "2026-11-23T19:30:05"
    assert m["values"] == {"temperature": 36.4}


@pytest.mark.parametrize("profile", sorted(DECODERS))
def test_every_profile_answers_one_byte(capsys: pytest.CaptureFixture[str], profile: str) -> None:
    code, doc = run_json(capsys, profile, "ff")
    assert code == (0 if doc["valid"] else 1)


@pytest.mark.parametrize(("args", "code"), [(["berrymed", "80 40 06 48 62"], 0), (["viatom", "55"], 1)], ids=param_id)
def test_real_process_exit_status_and_no_traceback(args: list[str], code: int) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "roomctl", "decode", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == code
    assert "Traceback" not in proc.stderr
    assert (proc.stdout if code == 0 else proc.stderr).count("\n") == 1

"""``config check`` refuses what ``run`` would fail on, with words and exit 2; ``run`` exits 2 for it too (systemd stops
restarting). Numbers are bounded, NaN/inf and absurd nesting refused, and the line locator stays linear."""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from roomctl.cli.main import main
from roomctl.config import RoomConfig
from roomctl.config.locate import key_lines
from roomctl.demo.launcher import roomctl_argv
from tests.builders import param_id
from tests.mqtt.broker import make_ca, make_cert
from tests.nobody import NOBODY

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = '[room]\nsite = "clinic"\nroom = "room-1"\n[storage]\npath = "room.db"\n[api]\nsocket_path = "api.sock"\n'


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["config", "check", str(path)])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return status, out.err


def room(directory: Path, extra: str = "", base: str = MINIMAL) -> Path:
    path = directory / "room.toml"
    path.write_text(base + extra)
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pki")
    ca = make_ca(d, "ca")
    client = make_cert(d, "client", ca, server=False)
    other = make_cert(d, "other", ca, server=False)
    return {"ca": ca[0], "cert": client[0], "key": client[1], "other_key": other[1]}


def secret(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_a_good_room_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str], pki: dict[str, Path]) -> None:
    secret(tmp_path / "creds", "room-1\npassword\n")
    tls = f'[mqtt.tls]\nca_file = "{pki["ca"]}"\ncert_file = "{pki["cert"]}"\nkey_file = "{pki["key"]}"\n'
    status, err = check(room(tmp_path, f'[mqtt]\nenabled = true\ncredentials_file = "creds"\n{tls}'), capsys)
    assert (status, err) == (0, "")


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ('socket_group = "no-such-group"\n', "api.socket_group: there is no group 'no-such-group' on this machine"),
        (f'socket_path = "/tmp/{"x" * 110}/api.sock"\n', "bytes long; a Unix socket path may have at most 107"),
    ],
)
def test_socket_problems_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, problem: str
) -> None:
    base = MINIMAL.replace('socket_path = "api.sock"\n', "")
    status, err = check(room(tmp_path, "", base.replace("[api]\n", "[api]\n" + extra)), capsys)
    assert status == 2
    assert problem in err
    assert err.startswith(f"{tmp_path / 'room.toml'}: api.")


def test_a_socket_folder_others_can_write_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "run").mkdir(mode=0o777)
    (tmp_path / "run").chmod(0o777)
    path = room(tmp_path, "", MINIMAL.replace('"api.sock"', '"run/api.sock"'))
    status, err = check(path, capsys)
    assert status == 2
    assert "api.socket_path: the socket's folder" in err
    assert "is writable by others (mode 0777)" in err


def test_a_storage_path_that_cannot_be_created_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a-file").write_text("")
    path = room(tmp_path, "", MINIMAL.replace('"room.db"', '"a-file/records/room.db"'))
    status, err = check(path, capsys)
    assert status == 2
    assert f"storage.path: cannot create {tmp_path / 'a-file/records'}: {tmp_path / 'a-file'} is a file" in err


@pytest.mark.parametrize(
    ("files", "key", "problem"),
    [
        ({"creds": ("room-1\npassword\n", 0o640)}, "mqtt.credentials_file", "is open to its group (mode 0640)"),
        ({"creds": ("room-1\n", 0o600)}, "mqtt.credentials_file", "must have two lines"),
        (
            {"tls-key": None},
            "mqtt.tls.key_file",
            "is open to its group and others (mode 0644); a secret must be mode 0600",
        ),
        ({"mismatch": None}, "mqtt.tls", "cannot load the MQTT TLS files"),
    ],
    ids=param_id,
)
def test_secrets_and_tls_files_are_checked(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    pki: dict[str, Path],
    files: dict[str, Any],
    key: str,
    problem: str,
) -> None:
    extra = "[mqtt]\nenabled = true\n"
    if "creds" in files:
        text, mode = files["creds"]
        secret(tmp_path / "creds", text, mode)
        extra += 'credentials_file = "creds"\n'
    if "tls-key" in files:
        secret(tmp_path / "key.pem", pki["key"].read_text(), 0o644)
        extra += f'[mqtt.tls]\ncert_file = "{pki["cert"]}"\nkey_file = "key.pem"\n'
    if "mismatch" in files:
        extra += f'[mqtt.tls]\ncert_file = "{pki["cert"]}"\nkey_file = "{pki["other_key"]}"\n'
    status, err = check(room(tmp_path, extra), capsys)
    assert status == 2
    assert f"room.toml: {key}: " in err
    assert problem in err


def as_nobody(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``roomctl ARGS`` as the user nobody, wherever this checkout lives: a clone under /root or in a 0700 home is out
    of nobody's reach, so the checkout and its site-packages are bind-mounted into ``folder`` in a private mount
    namespace (nothing changes outside it) and imported from there."""
    site = next(p for p in sys.path if p.endswith("site-packages"))
    views = folder / "checkout", folder / "site-packages"
    for view in views:
        view.mkdir(mode=0o755)
    script = 'mount --bind "$1" "$3" && mount --bind "$2" "$4" && shift 4 && exec setpriv --reuid={0} --regid={0} --clear-groups "$@"'
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script.format(NOBODY), "sh",
         str(ROOT), site, *map(str, views), "/usr/bin/python3", "-m", "roomctl", *args],
        cwd="/",
        env={"PYTHONPATH": ":".join(map(str, views)), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip


def test_files_the_daemons_user_cannot_read_are_refused(shared_dir: Path, pki: dict[str, Path]) -> None:
    secret(shared_dir / "creds", "room-1\npassword\n")  # root's, 0600: nobody cannot read it
    ca = secret(shared_dir / "ca.pem", pki["ca"].read_text())
    config = room(shared_dir, f'[mqtt]\nenabled = true\ncredentials_file = "creds"\n[mqtt.tls]\nca_file = "{ca}"\n')
    config.chmod(0o644)
    done = as_nobody(shared_dir, "config", "check", str(config))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"mqtt.credentials_file: cannot read {shared_dir / 'creds'}: Permission denied" in done.stderr
    assert f"mqtt.tls.ca_file: cannot read {ca}: Permission denied" in done.stderr
    assert f"storage.path: no permission to write in {shared_dir}" in done.stderr


def test_run_exits_2_on_a_machine_problem_and_systemd_does_not_restart_it(tmp_path: Path) -> None:
    config = room(tmp_path, "", MINIMAL.replace("[api]\n", '[api]\nsocket_group = "no-such-group"\n'))
    done = subprocess.run(roomctl_argv("run", "--config", str(config)), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "api.socket_group: there is no group 'no-such-group'" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    unit = (ROOT / "systemd" / "roomctl.service").read_text()
    assert "\nRestartPreventExitStatus=2\n" in unit


LIGHT = '[lighting]\npin_factory = "{}"\n[[lighting.channels]]\nid = "lamp"\npins = [18]\n'


def test_a_pin_factory_that_cannot_start_here_exits_2_and_says_why_at_error_priority(tmp_path: Path) -> None:
    """lgpio not installed (as on Debian 12 without the PyPI wheel): `config check` and `run` refuse with exit 2 and a
    line naming what to install; under systemd the line reaches the journal at error priority (``<3>``)."""
    assert importlib.util.find_spec("lgpio") is None, "this test needs a Python without lgpio"
    config = room(tmp_path, LIGHT.format("lgpio"))
    stderr_path = tmp_path / "journal"
    with stderr_path.open("w") as stderr:
        st = os.fstat(stderr.fileno())
        env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")  # as systemd's StandardError=journal
        done = subprocess.run(
            roomctl_argv("run", "--config", str(config)), stdout=subprocess.PIPE, stderr=stderr, env=env, timeout=120
        )
    assert done.returncode == 2
    lines = stderr_path.read_text().splitlines()
    assert lines, "run said nothing"
    assert all(line.startswith("<3>") for line in lines), lines
    assert any("lighting.pin_factory: pin factory 'lgpio' needs the lgpio library" in line for line in lines), lines
    assert any("pip install lgpio" in line and 'pin_factory = "mock"' in line for line in lines), lines
    checked = subprocess.run(roomctl_argv("config", "check", str(config)), capture_output=True, text=True, timeout=120)
    assert checked.returncode == 2
    assert checked.stderr.startswith(
        f"{config}: lighting.pin_factory: pin factory 'lgpio' needs"
    )  # no <3> on a terminal


def test_a_pin_factory_on_a_machine_without_gpio_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert not glob.glob("/dev/gpiochip*"), "this test needs a machine without GPIO"
    buzzer = '[lighting]\npin_factory = "native"\n[alarms.sound]\noutputs = ["buzzer"]\nbuzzer_pin = 17\n'
    status, err = check(room(tmp_path, buzzer), capsys)
    assert status == 2
    assert "lighting.pin_factory: pin factory 'native' needs GPIO and this machine has none (no /dev/gpiochip*)" in err
    assert check(room(tmp_path, LIGHT.format("mock")), capsys) == (0, "")
    assert check(room(tmp_path, LIGHT.format("native").split("[[lighting.channels]]")[0]), capsys) == (0, "")  # no pins


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ('[[alarms.rules]]\nquantity = "spo2"\nlow = nan\n', "alarms.rules[0].low: must be a finite number"),
        ('[[alarms.rules]]\nquantity = "heart_rate"\nhigh = inf\n', "alarms.rules[0].high: must be a finite number"),
        ('[[alarms.rules]]\nquantity = "heart_rate"\nhigh = -inf\n', "alarms.rules[0].high: must be a finite number"),
        ("[storage]\nretention_days = 1" + "0" * 400 + "\n", "storage.retention_days: must be at most 36500"),
        ("[storage]\nretention_days = " + "9" * 5000 + "\n", "not valid TOML: Exceeds the limit (4300 digits)"),
        ("[x]\ny = " + "[" * 50_000 + "]" * 50_000 + "\n", "arrays or tables nested far too deeply"),
        ("[x]\ny = " + "{a = " * 5_000 + "1" + "}" * 5_000 + "\n", "nested far too deeply"),
    ],
    ids=["nan", "inf", "-inf", "10**400", "5000-digits", "deep-arrays", "deep-tables"],
)
def test_absurd_values_are_refused_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, problem: str
) -> None:
    base = '[room]\nsite = "clinic"\nroom = "room-1"\n'
    status, err = check(room(tmp_path, extra, base), capsys)
    assert status == 2
    assert problem in err
    assert len(err) < 1000


def _numbers_without_bounds(node: Any, defs: dict[str, Any], path: str, seen: set[str]) -> Iterator[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                yield from _numbers_without_bounds(defs[name], defs, path, seen | {name})
            return
        if node.get("type") in ("number", "integer"):
            low = "minimum" in node or "exclusiveMinimum" in node
            high = "maximum" in node or "exclusiveMaximum" in node
            if not (low and high):
                yield path
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            for sub in node.get(key, []):
                yield from _numbers_without_bounds(sub, defs, path, seen)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                yield from _numbers_without_bounds(node[key], defs, f"{path}[]", seen)
        for name, sub in node.get("properties", {}).items():
            yield from _numbers_without_bounds(sub, defs, f"{path}.{name}", seen)


def test_every_number_in_the_schema_is_bounded() -> None:
    schema = json.loads(json.dumps(RoomConfig.model_json_schema()))
    assert list(_numbers_without_bounds(schema, schema.get("$defs", {}), "", set())) == []


def test_the_line_locator_and_the_check_stay_linear_on_a_200000_part_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Quadratic, 50,000 parts took 103 s; 200,000 would take half an hour. Linear, this is well under a second.
    header = "[" + ".".join(["a"] * 200_000) + "]\nx = 1\n"
    assert key_lines(header + "[room]\nsite = 1\n") == {("room",): 3, ("room", "site"): 4}
    key = ".".join(["b"] * 200_000) + " = 1\n"
    assert key_lines(key) == {}
    status, err = check(room(tmp_path, header), capsys)
    assert status == 2
    assert "a key of 200000 dotted parts; room settings have at most 5" in err
    status, err = check(room(tmp_path, key), capsys)
    assert status == 2
    assert "a key of 200000 dotted parts" in err

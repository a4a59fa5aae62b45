"""The systemd units: ``systemd-analyze verify`` clean, hardened (daemon exposure 1.7 or lower, the screen 1.0 or
lower), the users set up right: the screen has its own user, which never gets the daemon's group."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "systemd"
INSTALLED = "/opt/roomctl/venv/bin/roomctl"


def _analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("unit", ["roomctl.service", "roomctl-tui.service"])
def test_unit_verifies_clean(unit: str, tmp_path: Path) -> None:
    text = (UNITS / unit).read_text()
    assert INSTALLED in text  # the path docs/operations.md installs to
    # verify checks that ExecStart exists: point it at this checkout's roomctl, change nothing else
    local = tmp_path / unit
    local.write_text(text.replace(INSTALLED, str(Path(sys.executable).parent / "roomctl")))
    done = _analyze("verify", "--man=no", str(local))
    assert done.returncode == 0, done.stderr
    assert done.stdout + done.stderr == ""


@pytest.mark.parametrize(("unit", "ceiling"), [("roomctl.service", 1.7), ("roomctl-tui.service", 1.0)])
def test_exposure_is_low(unit: str, ceiling: float) -> None:
    done = _analyze("security", "--offline=true", "--no-pager", str(UNITS / unit))
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", done.stdout)
    assert match, done.stdout + done.stderr
    assert float(match.group(1)) <= ceiling, done.stdout


def test_daemon_unit_keeps_restarting_and_pings_a_watchdog() -> None:
    text = (UNITS / "roomctl.service").read_text()
    for line in ("Type=notify", "WatchdogSec=30", "Restart=always", "StartLimitIntervalSec=0", "User=roomctl"):
        assert re.search(rf"^{re.escape(line)}$", text, re.MULTILINE), line
    assert re.search(r"^SupplementaryGroups=gpio bluetooth audio$", text, re.MULTILINE)
    tui = (UNITS / "roomctl-tui.service").read_text()
    assert re.search(r"^User=roomctl-screen$", tui, re.MULTILINE)
    assert re.search(r"^RuntimeDirectoryMode=0755$", text, re.MULTILINE)  # reachable, writable by roomctl only
    assert "TTYPath=/dev/tty1" in tui
    assert "Conflicts=getty@tty1.service" in tui


def test_sysusers_and_tmpfiles_create_the_user_and_config_folder(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    done = subprocess.run(
        ["systemd-sysusers", f"--root={tmp_path}", str(UNITS / "roomctl.sysusers.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    groups = {line.split(":")[0]: line.split(":")[3] for line in (tmp_path / "etc/group").read_text().splitlines()}
    assert "roomctl" in groups["gpio"].split(",")
    assert "roomctl" in groups["bluetooth"].split(",")
    assert "roomctl" in groups["audio"].split(",")  # aplay opens /dev/snd/*, which are root:audio 0660
    assert "roomctl" in groups["roomctl-screen"].split(",")  # so it can give the socket to the screen's group
    assert "roomctl-screen" not in groups["roomctl"].split(",")  # the screen never reads the daemon's files
    passwd = (tmp_path / "etc/passwd").read_text()
    assert re.search(r"^roomctl:x:\d+:\d+:.*:/var/lib/roomctl:", passwd, re.MULTILINE)
    # /etc/roomctl: root-owned, readable by the roomctl group only
    done = subprocess.run(
        ["systemd-tmpfiles", f"--root={tmp_path}", "--create", str(UNITS / "roomctl.tmpfiles.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    gid = next(
        int(line.split(":")[2])
        for line in (tmp_path / "etc/group").read_text().splitlines()
        if line.startswith("roomctl:")
    )
    st = (tmp_path / "etc/roomctl").stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, gid, 0o750)

    # the state and runtime folders exist from the install on (so `config check` passes as roomctl before the first
    # start), with the owner and modes the unit's StateDirectory= and RuntimeDirectory= give them
    uid = next(
        int(ln.split(":")[2]) for ln in (tmp_path / "etc/passwd").read_text().splitlines() if ln.startswith("roomctl:")
    )
    unit = (UNITS / "roomctl.service").read_text()
    for folder, mode_key in (("var/lib/roomctl", "StateDirectoryMode"), ("run/roomctl", "RuntimeDirectoryMode")):
        mode = re.search(rf"^{mode_key}=(\d+)$", unit, re.MULTILINE)
        assert mode is not None, mode_key
        st = (tmp_path / folder).stat()
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (uid, gid, int(mode.group(1), 8)), folder


def test_the_daemon_may_play_the_alarm_sound() -> None:
    """ALSA's devices are the character devices of the "alsa" class, group audio: under DevicePolicy=closed the unit
    must allow them and run in that group, or every start raises "Alarm sound failure" (not seen in a container on
    a cgroup v1 host, which does not enforce DevicePolicy: this reads the unit as systemd would)."""
    text = (UNITS / "roomctl.service").read_text()
    assert re.search(r"^DevicePolicy=closed$", text, re.MULTILINE)
    assert re.search(r"^DeviceAllow=char-alsa rw$", text, re.MULTILINE)
    groups = re.search(r"^SupplementaryGroups=(.*)$", text, re.MULTILINE)
    assert groups is not None
    assert "audio" in groups.group(1).split()
    assert not re.search(r"^PrivateDevices=yes$", text, re.MULTILINE)


def test_a_wheel_ships_what_the_install_steps_use() -> None:
    """Steps 3-5 of docs/operations.md `cd /opt/roomctl/venv/share/roomctl` and use systemd/, config/ and docs/ there:
    the wheel's data files, laid out as in the checkout (scripts/systemd-check installs the real wheel)."""
    import tomllib

    data = tomllib.loads((UNITS.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    shipped = {f for files in data.values() for f in files}
    for folder, files in data.items():
        assert folder.startswith("share/roomctl/")
        assert all(folder == "share/roomctl/" + str(Path(f).parent) for f in files), folder
    assert {f"systemd/{p.name}" for p in UNITS.iterdir()} <= shipped
    assert {"config/room.example.toml", "docs/operations.md"} <= shipped
    steps = (UNITS.parent / "docs/operations.md").read_text()
    used = set(
        re.findall(r"\b((?:systemd|config|docs)/[\w.-]+\.(?:conf|service|rules|toml|md))\b", steps.split("## Logs")[0])
    )
    assert used, "no install step names a file"
    assert used <= shipped, used - shipped


def test_the_install_steps_are_marked_for_the_systemd_check() -> None:
    """scripts/systemd-check runs the marked blocks of docs/operations.md as they are written (as root, in a
    container); here, without root, that the blocks are there and say what the check builds the rootfs with."""
    import importlib.machinery
    import importlib.util

    path = UNITS.parent / "scripts" / "systemd-check"
    spec = importlib.util.spec_from_loader(
        "systemd_check", importlib.machinery.SourceFileLoader("systemd_check", str(path))
    )
    assert spec is not None
    assert spec.loader is not None
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    blocks = check.doc_blocks()
    assert set(blocks) == {"step 1, Debian 12", "steps 2-5", "the screen"}
    assert check.apt_packages(blocks["step 1, Debian 12"]) == ["python3-venv", "bluez", "alsa-utils"]
    assert "python3-lgpio" not in blocks["step 1, Debian 12"]  # Raspberry Pi OS only
    steps = blocks["steps 2-5"]
    assert "sudo" not in steps  # Debian 12 minimal has none
    for command in ("systemd-sysusers", "systemd-tmpfiles --create", "runuser -u roomctl", "systemctl enable --now"):
        assert command in steps, command
    assert "roomctl-tui.service" in blocks["the screen"]

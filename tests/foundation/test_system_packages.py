"""scripts/ensure-system-packages.sh installs what a make target needs and only that: `make demo` never brings the test
suite's browser and OCR (chromium, tesseract), the broker or the container tools."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ensure-system-packages.sh"
TEST_ONLY = {"tmux", "openssl", "chromium", "tesseract-ocr", "mmdebstrap", "systemd-container"}


def wanted(target: str, tmp_path: Path) -> set[str]:
    """The packages the script asks for on a machine that has none of the commands (but for what it finds by its
    absolute path, such as /usr/sbin/mosquitto), as a user who is not root."""
    (tmp_path / "id").write_text("#!/bin/sh\necho 1000\n")  # not root, no sudo: it prints what to install and stops
    (tmp_path / "id").chmod(0o755)
    done = subprocess.run(
        ["/bin/sh", str(SCRIPT), target], env={"PATH": str(tmp_path)}, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1, done.stderr
    line = next(ln for ln in done.stderr.splitlines() if ln.startswith("Run as root:  apt-get install -y"))
    return set(line.split("apt-get install -y", 1)[1].split("and then")[0].split())


def test_demo_gets_only_what_the_demo_needs(tmp_path: Path) -> None:
    demo = wanted("demo", tmp_path)
    assert {"dbus", "alsa-utils"} <= demo
    assert not demo & (TEST_ONLY | {"mosquitto", "mosquitto-clients"}), demo


def test_test_gets_the_test_suites_packages_too(tmp_path: Path) -> None:
    test = wanted("test", tmp_path)
    assert wanted("demo", tmp_path) <= test
    assert test >= TEST_ONLY, TEST_ONLY - test


def test_an_unknown_target_is_refused() -> None:
    done = subprocess.run(["/bin/sh", str(SCRIPT), "bench"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "usage:" in done.stderr


@pytest.mark.parametrize("target", ["demo", "test"])
def test_the_makefile_asks_for_its_targets_list(target: str) -> None:
    makefile = (SCRIPT.parents[1] / "Makefile").read_text()
    assert f"scripts/ensure-system-packages.sh {target}" in makefile

"""A real ALSA configuration whose PCM ``roomctl_test`` is the ``file`` plugin: what aplay plays lands in a file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

SYSTEM_ALSA_CONF = "/usr/share/alsa/alsa.conf"


@dataclass
class AlsaFile:
    device: str
    path: Path
    environ: dict[str, str]

    def take(self) -> bytes:
        """What was played since the last take (each aplay run rewrites the file)."""
        data = self.path.read_bytes()
        self.path.unlink()
        return data


@pytest.fixture
def alsa_file(tmp_path: Path) -> AlsaFile:
    out = tmp_path / "played.raw"
    conf = tmp_path / "asound.conf"
    conf.write_text(
        'pcm.roomctl_test {\n  type file\n  slave.pcm "null"\n  file "' + str(out) + '"\n  format "raw"\n}\n',
        encoding="utf-8",
    )
    environ = {**os.environ, "ALSA_CONFIG_PATH": f"{SYSTEM_ALSA_CONF}:{conf}"}
    return AlsaFile("roomctl_test", out, environ)

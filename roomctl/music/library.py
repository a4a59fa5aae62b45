"""A small music library made on the spot (the demo's and the tests'): soft tones and noise shaped per phase, as WAV
files with their title and artist in the RIFF ``INFO`` chunk (MPD reads them), and one stored playlist per phase.
Nothing is downloaded; numpy makes the sound."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 22_050
ARTIST = "roomctl demo"


@dataclass(frozen=True)
class Track:
    file: str  # relative to the music folder
    title: str
    artist: str
    seconds: float


@dataclass(frozen=True)
class Mood:
    """One phase's sound: a chord (Hz), how much soft noise, how fast it breathes."""

    playlist: str
    chord: tuple[float, ...]
    noise: float
    breath_hz: float
    volume: float = 0.4  # the demo's volume for this phase


DEMO_MOODS: dict[str, Mood] = {
    "arrival": Mood("Arrival", (220.0, 277.2, 329.6), 0.02, 0.10, 0.35),
    "onset": Mood("Onset", (196.0, 246.9, 293.7), 0.05, 0.08, 0.4),
    "active": Mood("Peak", (174.6, 220.0, 261.6, 349.2), 0.08, 0.05, 0.5),
    "taper": Mood("Return", (164.8, 207.7, 246.9), 0.04, 0.07, 0.4),
    "closing": Mood("Closing", (146.8, 185.0, 220.0), 0.02, 0.10, 0.3),
}
"""The demo's phases and the playlists it makes for them (``roomctl/defaults/demo.toml`` plays these)."""


def demo_library() -> Path:
    """Where the demo keeps the library it made (``$XDG_CACHE_HOME/roomctl/demo-music``): made at the first run only."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "roomctl" / "demo-music"


def demo_music_config(host: str, port: int) -> str:
    """The demo room's ``[music]``: its private MPD and a playlist per phase."""
    lines = ["", "[music]", "enabled = true", f'host = "{host}"', f"port = {port}"]
    for phase, mood in DEMO_MOODS.items():
        lines += ["", f"[music.playlists.{phase}]", f'playlist = "{mood.playlist}"', f"volume = {mood.volume}"]
    return "\n".join(lines) + "\n"


def _info_chunk(title: str, artist: str) -> bytes:
    def sub(tag: bytes, text: str) -> bytes:
        data = text.encode("utf-8") + b"\0"
        if len(data) % 2:
            data += b"\0"
        return tag + struct.pack("<I", len(data)) + data

    body = b"INFO" + sub(b"INAM", title) + sub(b"IART", artist)
    return b"LIST" + struct.pack("<I", len(body)) + body


def write_wav(path: Path, samples: np.ndarray, title: str, artist: str) -> None:
    """16-bit mono PCM with an INFO chunk (title, artist)."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
    info = _info_chunk(title, artist)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + info + b"data" + struct.pack("<I", len(pcm)) + pcm
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def tone(mood: Mood, seconds: float, variant: int) -> np.ndarray:
    """A soft chord that swells and ebbs, with a little filtered noise; ``variant`` shifts it a little per track."""
    t = np.arange(int(seconds * RATE)) / RATE
    shift = 1.0 + 0.03 * variant
    sound = sum(np.sin(2 * np.pi * f * shift * t) / (i + 1) for i, f in enumerate(mood.chord))
    rng = np.random.default_rng(variant)
    noise = np.convolve(rng.standard_normal(t.size), np.ones(32) / 32, mode="same")
    breath = 0.6 + 0.4 * np.sin(2 * np.pi * mood.breath_hz * t)
    edge = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.5)  # half-second fade in and out: no clicks
    out = (0.25 * sound / len(mood.chord) + mood.noise * noise) * breath * edge
    return np.asarray(out, dtype=np.float64)


def make_library(
    music_dir: Path,
    playlist_dir: Path,
    moods: dict[str, Mood] | None = None,
    *,
    tracks_per_playlist: int = 3,
    seconds: float = 90.0,
) -> dict[str, list[Track]]:
    """Write the tracks and one stored playlist (``<name>.m3u``, paths relative to the music folder) per mood; files
    already there are kept (the demo makes them once). Returns playlist name -> its tracks."""
    made: dict[str, list[Track]] = {}
    for mood in (moods or DEMO_MOODS).values():
        tracks = []
        for n in range(1, tracks_per_playlist + 1):
            file = f"{mood.playlist.lower()}/{n:02d}.wav"
            title = f"{mood.playlist} {n}"
            path = music_dir / file
            if not path.is_file():
                write_wav(path, tone(mood, seconds, n), title, ARTIST)
            tracks.append(Track(file, title, ARTIST, seconds))
        playlist_dir.mkdir(parents=True, exist_ok=True)
        (playlist_dir / f"{mood.playlist}.m3u").write_text("".join(f"{t.file}\n" for t in tracks), encoding="utf-8")
        made[mood.playlist] = tracks
    return made

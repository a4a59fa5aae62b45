"""What played when: the tracks of a session, from its recorded music states (one definition for export and report).

A track is listed when it starts playing: a music state ``play`` whose file differs from the last one that played. A
pause and its resume, a volume change or a duck are not new tracks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MusicRow = tuple[int, float, str, str | None, str | None, str | None, str | None, str | None]
"""(seq, ts, state, phase, playlist, title, artist, file), as :meth:`roomctl.storage.database.Database.music` reads it."""


@dataclass(frozen=True)
class TrackPlayed:
    seq: int
    ts: float
    phase: str | None
    playlist: str | None
    title: str | None
    artist: str | None
    file: str | None

    @property
    def name(self) -> str:
        """``Title — Artist`` (the file's name when the track has no title)."""
        title = self.title or (self.file.rsplit("/", 1)[-1] if self.file else "untitled")
        return f"{title} — {self.artist}" if self.artist else title


def tracks_played(rows: Iterable[MusicRow]) -> list[TrackPlayed]:
    played: list[TrackPlayed] = []
    last_file: str | None = None
    for seq, ts, state, phase, playlist, title, artist, file in rows:
        if state == "stop":
            last_file = None  # the same track after a stop is played again
        if state != "play" or file is None or file == last_file:
            continue
        last_file = file
        played.append(TrackPlayed(seq, ts, phase, playlist, title, artist, file))
    return played

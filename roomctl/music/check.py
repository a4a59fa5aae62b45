"""What ``roomctl config check`` says about the music: whether MPD answers, and whether each phase's playlist exists.

MPD not answering is a warning (it may simply not be running yet; the daemon keeps retrying). A playlist that a reachable
MPD does not have is a problem in the configuration, named by its key."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import mpd
from mpd.asyncio import MPDClient

from roomctl.config.music import MusicConfig


@dataclass
class MusicCheck:
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


async def check_mpd(config: MusicConfig) -> MusicCheck:
    found = MusicCheck()
    client = MPDClient()
    where = config.address
    try:
        async with asyncio.timeout(config.timeout_s):
            await client.connect(str(config.socket) if config.socket is not None else config.host, config.port)
            stored = [p["playlist"] for p in await client.listplaylists()]
            wanted = {m.playlist for m in config.playlists.values()} & set(stored)
            sizes = {name: len(list(await client.listplaylist(name))) for name in wanted}
    except (TimeoutError, OSError, mpd.ConnectionError, mpd.CommandError) as e:
        reason = "no answer in time" if isinstance(e, TimeoutError) else str(e) or type(e).__name__
        found.warnings.append(
            f"music: MPD at {where} does not answer ({reason}); not running yet? The playlists are not checked; "
            "roomctl retries and shows 'music player unreachable' meanwhile"
        )
        return found
    finally:
        client.disconnect()
    found.notes.append(f"music: MPD {client.mpd_version} answers at {where}")
    for phase, music in config.playlists.items():
        if music.playlist in sizes:
            found.notes.append(
                f"music: playlist '{music.playlist}' for phase {phase}: {sizes[music.playlist]} track(s)"
            )
        else:
            has = ", ".join(sorted(stored)) or "none"
            found.problems.append(
                f"music.playlists.{phase}.playlist: MPD has no stored playlist '{music.playlist}' (it has: {has})"
            )
    return found

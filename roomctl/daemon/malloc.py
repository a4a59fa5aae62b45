"""glibc's malloc for a small, always-on daemon: a cap on its arenas, set by ``roomctl run`` before any thread starts.

glibc gives each thread that allocates its own arena, up to 8 per core (32 on a Raspberry Pi 4), and memory freed in one
arena is never used by the threads of another. The daemon has a handful of threads (the event loop, the storage thread,
asyncio's worker); two arenas serve them and keep the resident memory a little lower (about 0.25 MiB measured with
``bench/bench_pipeline.py``). It is the ``MALLOC_ARENA_MAX=2`` setting, made by the daemon itself so that it holds however
the daemon is started (systemd, ``roomctl demo``, by hand); an explicit ``MALLOC_ARENA_MAX`` in the environment wins.
"""

from __future__ import annotations

import os

MALLOC_ARENAS = 2
"""At most this many malloc arenas: the main one and one shared by the other threads."""

_M_ARENA_MAX = -8
"""mallopt's parameter number for the arena cap (glibc's malloc.h)."""


def cap_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas; True when the cap is set. Call it before the process starts a thread: an arena already
    made stays. False (nothing done) without glibc (musl, macOS) or when ``MALLOC_ARENA_MAX`` is in the environment."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    import ctypes  # only here: roomctl run pays for it once (bleak's retry connector imports it anyway)

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no C library to ask, or one without mallopt
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))

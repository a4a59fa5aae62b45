"""The daemon's cap on glibc's malloc arenas: six threads that allocate at once share two arenas instead of having six.

Each case runs in a fresh interpreter (the cap holds for a whole process and must come before its threads); glibc's
``malloc_stats()`` lists the arenas on stderr."""

from __future__ import annotations

import os
import re
import subprocess
import sys

SCRIPT = """
import ctypes, sys, threading
from roomctl.daemon.malloc import cap_malloc_arenas

capped = cap_malloc_arenas() if sys.argv[1] == "cap" else False
all_in = threading.Barrier(6)

def work():
    kept = [bytearray(4096) for _ in range(64)]  # above pymalloc's 512 bytes: glibc's malloc, in this thread's arena
    all_in.wait()  # every thread alive with its allocations: none hands its arena on to the next

threads = [threading.Thread(target=work) for _ in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
ctypes.CDLL(None).malloc_stats()
print(capped)
"""


def _arenas(mode: str, env: dict[str, str] | None = None) -> tuple[bool, int]:
    """(what cap_malloc_arenas returned, arenas glibc reports) in a fresh interpreter."""
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | (env or {})
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=60, env=environ, check=True
    )
    return done.stdout.strip() == "True", len(re.findall(r"^Arena \d+:", done.stderr, re.MULTILINE))


def test_uncapped_every_thread_gets_an_arena() -> None:
    assert _arenas("none") == (False, 7)  # the main arena and one per thread


def test_capped_the_threads_share_two_arenas() -> None:
    assert _arenas("cap") == (True, 2)


def test_an_explicit_environment_setting_wins() -> None:
    assert _arenas("cap", {"MALLOC_ARENA_MAX": "3"}) == (False, 3)

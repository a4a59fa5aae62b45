"""Another user on this machine, for the tests that attack across users: the uid ``nobody``, a script run as it, and
the impostor it can serve on a socket (a folder it can reach: the root ``shared_dir`` fixture)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

NOBODY = 65534
PYTHON = "/usr/bin/python3"  # the system's: readable by nobody, unlike a virtualenv under /root

IMPOSTOR = """
import os, socket, sys
srv = socket.socket(socket.AF_UNIX)
srv.bind(sys.argv[1])
srv.listen()
print("ready", flush=True)
while True:
    conn, _ = srv.accept()
    conn.sendall(b'{"type":"hello","protocol":1,"server_version":"0","room":{"site":"x","room":"x","name":"Calm"}}\\n')
"""
"""A server on the socket path that greets as a calm room (its owner, nobody, is what gives it away)."""


@contextlib.asynccontextmanager
async def as_nobody(script: str, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """The Python ``script`` run as the user nobody, its output piped; killed at the end of the block."""
    proc = await asyncio.create_subprocess_exec(
        PYTHON, "-c", script, *args, user=NOBODY, group=NOBODY, stdout=asyncio.subprocess.PIPE
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def line_from(proc: asyncio.subprocess.Process, within_s: float = 30.0) -> str:
    assert proc.stdout is not None
    return (await asyncio.wait_for(proc.stdout.readline(), within_s)).decode().strip()

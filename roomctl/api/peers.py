"""Who is at the other end of the local API socket, and whether the socket's folder can be trusted.

The daemon refuses a socket folder that another user could write to (they could replace the socket) or that another user
owns. The screen asks the kernel who serves the socket (``SO_PEERCRED``) and trusts only the daemon's user, root and
itself: an impostor's calm room is never shown.
"""

from __future__ import annotations

import grp
import os
import pwd
import socket
import stat
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DAEMON_USER = "roomctl"
"""The daemon's user in a packaged install (systemd/roomctl.sysusers.conf)."""
SCREEN_USER = "roomctl-screen"
"""The screen's user on the room's display (systemd/roomctl-tui.service); its connections have places kept for them."""


@dataclass(frozen=True)
class Peer:
    pid: int
    uid: int
    gid: int

    def __str__(self) -> str:
        return f"uid {self.uid} ({user_name(self.uid)}), pid {self.pid}"


def peer_of(sock: socket.socket | None) -> Peer | None:
    """The process at the other end of a connected Unix socket, from the kernel (``SO_PEERCRED``)."""
    if sock is None:
        return None
    try:
        pid, uid, gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    except (AttributeError, OSError):
        return None
    return Peer(pid, uid, gid)


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def uids_of(users: Iterable[str]) -> frozenset[int]:
    """The uids of the users that exist (a missing user is simply not there)."""
    found = set()
    for name in users:
        try:
            found.add(pwd.getpwnam(name).pw_uid)
        except KeyError:
            continue
    return frozenset(found)


def group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def socket_folder_problem(folder: Path, owner_uid: int | None = None) -> str | None:
    """None when ``folder`` is safe to hold the API socket; else why not, in words.

    Safe: owned by ``owner_uid`` (default: this process's user) or root, and writable by nobody else.
    """
    owner_uid = os.getuid() if owner_uid is None else owner_uid
    try:
        st = folder.stat()
    except OSError as e:
        return f"cannot check the socket's folder {folder}: {e.strerror or e}"
    if st.st_uid not in (owner_uid, 0):
        expected = "root" if owner_uid == 0 else f"{user_name(owner_uid)} or root"
        return (
            f"the socket's folder {folder} belongs to {user_name(st.st_uid)}, not to {expected}: "
            "that user could replace the socket"
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"the socket's folder {folder} is writable by {'others' if st.st_mode & stat.S_IWOTH else 'its group'}"
            f" (mode {stat.S_IMODE(st.st_mode):04o}): another user could replace the socket; "
            f"use a folder only {user_name(owner_uid)} can write (chmod go-w {folder})"
        )
    return None


def trusted_daemon_uids(daemon_user: str | None = None) -> frozenset[int]:
    """Whom the screen believes to be the daemon: root, itself, and the daemon's user (``roomctl`` unless told)."""
    return frozenset({0, os.getuid()}) | uids_of([daemon_user or DAEMON_USER])

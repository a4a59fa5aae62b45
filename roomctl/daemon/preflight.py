"""What ``roomctl run`` needs from the machine, checked before anything starts — and by ``roomctl config check``.

A configuration can be valid and still not run here: a credentials file the daemon cannot read, a TLS key others can
read, a socket path too long for a Unix socket, a ``socket_group`` that does not exist, a storage folder that cannot
be created, a pin factory whose library is not installed or a machine without GPIO. Each is a configuration problem: ``config check`` lists it, ``run`` refuses to start with exit status 2 (so
systemd's ``RestartPreventExitStatus=2`` stops restarting it) — never a start-up failure with status 1 in a restart loop.
A storage folder on a read-only or failing disk is not one: that is a condition of the disk, which can change while
roomctl runs, so the daemon starts, monitors without a record (a technical alarm) and retries.
Files are checked as the user running the command: run ``config check`` as the daemon's user to check for it.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from roomctl.api.peers import group_exists, socket_folder_problem
from roomctl.errors import RoomctlError

if TYPE_CHECKING:
    from roomctl.config import RoomConfig

UNIX_PATH_MAX = 107
"""Bytes a Unix socket path may have on Linux (``sun_path`` is 108 with the final NUL)."""


def state_paths(config: RoomConfig, state_dir: Path | None) -> tuple[Path, Path]:
    """The database and the API socket. Relative paths (the demo's) live in ``state_dir`` (the configuration's folder
    for ``run`` and ``config check``); absolute ones are kept."""
    base = (state_dir or Path.cwd()).resolve()
    return base / config.storage.path, base / config.api.socket_path


def machine_problems(config: RoomConfig, source: str, state_dir: Path | None) -> list[str]:
    """One line per thing on this machine that would stop ``run`` (``FILE: key.path: what is wrong``)."""
    db_path, socket_path = state_paths(config, state_dir)
    problems: list[str] = []

    def add(key: str, problem: str | None) -> None:
        if problem is not None:
            problems.append(f"{source}: {key}: {problem}")

    add("storage.path", _storage_problem(db_path))
    add("api.socket_path", _socket_path_problem(socket_path))
    group = config.api.socket_group
    if group is not None and not group_exists(group):
        add("api.socket_group", f"there is no group {group!r} on this machine (create it, or leave socket_group out)")
    add("lighting.pin_factory", pin_factory_problem(config))
    if config.mqtt.enabled:
        if config.mqtt.credentials_file is not None:
            add("mqtt.credentials_file", _secret_problem(config.mqtt.credentials_file) or _credentials_problem(config))
        tls = config.mqtt.tls
        if tls is not None:
            add("mqtt.tls.ca_file", _readable(tls.ca_file) if tls.ca_file else None)
            add("mqtt.tls.cert_file", _readable(tls.cert_file) if tls.cert_file else None)
            add("mqtt.tls.key_file", _secret_problem(tls.key_file) if tls.key_file else None)
            if not any(p.startswith(f"{source}: mqtt.tls.") for p in problems):
                add("mqtt.tls", _tls_problem(config))
    return problems


def pin_factory_problem(config: RoomConfig) -> str | None:
    """The lights' (and a buzzer's) pin factory cannot start here: its library is missing, or there is no GPIO."""
    from roomctl.lighting.outputs import FACTORY_LIBRARY, PACKAGE_HINT

    name = config.lighting.pin_factory
    if not config.lighting.channels and "buzzer" not in config.alarms.sound.outputs:
        return None  # nothing drives pins
    library = FACTORY_LIBRARY.get(name)
    if library is not None and importlib.util.find_spec(library.split(".")[0]) is None:
        return (
            f"pin factory {name!r} needs {PACKAGE_HINT[name]}, which this Python ({sys.executable}) cannot import; "
            'install it, or set pin_factory = "mock" to run without lights'
        )
    if name in ("lgpio", "rpigpio", "native") and not glob.glob("/dev/gpiochip*"):
        return (
            f"pin factory {name!r} needs GPIO and this machine has none (no /dev/gpiochip*): run roomctl on the "
            'room\'s Raspberry Pi, or set pin_factory = "mock" to run without lights'
        )
    return None


def _readable(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            f.read(1)
    except OSError as e:
        return f"cannot read {path}: {e.strerror or e}"
    return None


def _secret_problem(path: Path) -> str | None:
    """A secret must be readable by this user and by nobody else but its owner."""
    problem = _readable(path)
    if problem is not None:
        return problem
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        who = " and ".join(w for w, bits in (("its group", stat.S_IRWXG), ("others", stat.S_IRWXO)) if mode & bits)
        return (
            f"{path} is open to {who} (mode {mode:04o}); a secret must be mode 0600, owned by the daemon's "
            f"user: chmod 600 {path}"
        )
    return None


def _credentials_problem(config: RoomConfig) -> str | None:
    from roomctl.mqtt.connection import read_credentials

    credentials_file = config.mqtt.credentials_file
    assert credentials_file is not None
    return _refusal(lambda: read_credentials(credentials_file))


def _tls_problem(config: RoomConfig) -> str | None:
    from roomctl.mqtt.connection import tls_context

    tls = config.mqtt.tls
    assert tls is not None
    return _refusal(lambda: tls_context(tls))


def _refusal(load: Callable[[], object]) -> str | None:
    """What ``load()`` (as the daemon will load a file) refuses, in the daemon's own words; None: it loads."""
    try:
        load()
    except RoomctlError as e:
        return str(e)
    return None


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path("/")


def _creatable_folder(folder: Path) -> str | None:
    """None when ``folder`` exists or can be created by this user."""
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        return f"{folder} is not a folder" if existing == folder else f"cannot create {folder}: {existing} is a file"
    if existing != folder and not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot create {folder}: no permission to write in {existing}"
    if existing == folder and not os.access(folder, os.W_OK | os.X_OK):
        return f"no permission to write in {folder}"
    return None


def _writable_file(path: Path) -> str | None:
    if path.exists():
        if not path.is_file():
            return f"{path} is not a file"
        if not os.access(path, os.R_OK | os.W_OK):
            return f"no permission to read and write {path}"
        return None
    return _creatable_folder(path.parent)


def _storage_problem(path: Path) -> str | None:
    """A configuration problem with the database path; None too for a disk that is read-only or failing, which can
    change while roomctl runs: the daemon then monitors without a record (an alarm) and retries, never exit 2."""
    try:
        if _read_only_file_system(path.parent):
            return None
        return _writable_file(path)
    except OSError:  # an I/O error: the disk, not the configuration
        return None


def _read_only_file_system(folder: Path) -> bool:
    existing = _nearest_existing(folder)
    return bool(os.statvfs(existing).f_flag & os.ST_RDONLY)


def _socket_path_problem(path: Path) -> str | None:
    length = len(os.fsencode(path))
    if length > UNIX_PATH_MAX:
        return (
            f"{path} is {length} bytes long; a Unix socket path may have at most {UNIX_PATH_MAX} "
            "(choose a shorter path, e.g. /run/roomctl/api.sock)"
        )
    if path.parent.exists():
        return socket_folder_problem(path.parent)
    return _creatable_folder(path.parent)

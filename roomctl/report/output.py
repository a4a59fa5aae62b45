"""Where an export or a report is written: never over the room's record, never over a file unless told to.

The file is written under a temporary name in the same folder, then renamed into place: a failed or interrupted export
leaves no half file, and whatever the name pointed at before is replaced whole or not at all.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from roomctl.errors import RoomctlError

SQLITE_MAGIC = b"SQLite format 3\x00"
WAL_MAGICS = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")
"""The first bytes of an SQLite database and of its write-ahead log."""
SIDE_FILES = ("-wal", "-shm", "-journal")


def is_sqlite(path: Path) -> bool:
    """True when ``path`` is an SQLite database or write-ahead log (by its first bytes, whatever its name)."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError:
        return False
    return head == SQLITE_MAGIC or head[:4] in WAL_MAGICS


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_target(out: Path, database: Path, *, force: bool) -> None:
    """Refuse ``out`` if it is the room's database (or one of its side files), any SQLite file, a folder, or an
    existing file when ``force`` is not given."""
    for guarded in (database, *(database.with_name(database.name + s) for s in SIDE_FILES)):
        if _same_file(out, guarded) or out.resolve() == guarded.resolve():
            raise RoomctlError(f"{out}: that is the room's database; export to another file")
    if out.is_dir():
        raise RoomctlError(f"{out}: is a folder; give a file name")
    if out.exists() and not out.is_file():  # a device, a FIFO: --force would put a file in its place
        raise RoomctlError(f"{out}: is not a regular file; give a file name (or leave -o out for standard output)")
    if is_sqlite(out):
        raise RoomctlError(f"{out}: is an SQLite database; never written over, even with --force; give another name")
    if out.exists() and not force:
        raise RoomctlError(f"{out}: exists; give another name, or --force to replace it")


def check_stdout(database: Path) -> None:
    """Refuse to write to standard output when it is the room's database or an SQLite file (``>> roomctl.db``)."""
    try:
        st = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError):
        return  # not a real file (a test's capture): nothing to protect
    if not stat.S_ISREG(st.st_mode):
        return  # a terminal or a pipe
    for guarded in (database, *(database.with_name(database.name + s) for s in SIDE_FILES)):
        with contextlib.suppress(OSError):
            g = guarded.stat()
            if (g.st_dev, g.st_ino) == (st.st_dev, st.st_ino):
                raise RoomctlError("standard output is the room's database; export to another file")
    if is_sqlite(Path(f"/proc/self/fd/{sys.stdout.fileno()}")):
        raise RoomctlError("standard output is an SQLite database; export to another file")


@contextlib.contextmanager
def replacing(out: Path, database: Path, *, force: bool) -> Iterator[Path]:
    """Yield a temporary path next to ``out`` to write; on success it is synced and renamed to ``out``.

    The checks are made before and again just before the rename (the target may have changed meanwhile)."""
    check_target(out, database, force=force)
    folder = out.parent if str(out.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=f".part{out.suffix}")
    except OSError as e:
        raise RoomctlError(f"{out}: cannot write in {folder}: {e.strerror or e}") from e
    os.close(fd)
    tmp = Path(name)
    umask = os.umask(0o22)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)  # mkstemp's 0600 is for a secret; an export gets the mode any new file would
    try:
        yield tmp
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        check_target(out, database, force=force)
        os.replace(tmp, out)
    except OSError as e:
        raise RoomctlError(f"{out}: cannot write: {e.strerror or e}") from e
    finally:
        tmp.unlink(missing_ok=True)

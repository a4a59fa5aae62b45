"""``roomctl session list | export ID | report ID``: the session record for the clinic's file."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roomctl.errors import RoomctlError, StorageError

if TYPE_CHECKING:
    from roomctl.commands import Command
    from roomctl.storage.database import Database


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "session", help="start or end the room's session; list, export or report recorded sessions"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    daemon = argparse.ArgumentParser(add_help=False)
    link = daemon.add_mutually_exclusive_group()
    link.add_argument("--socket", type=Path, help="the daemon's local API socket (default: from the configuration)")
    link.add_argument("--config", type=Path, help="room configuration whose [api] socket_path to use")

    start = actions.add_parser("start", parents=[daemon], help="start a session in the running daemon")
    start.add_argument("kind", help="the kind of session: preparation, dosing or integration")
    start.set_defaults(handler=start_command)
    end = actions.add_parser("end", parents=[daemon], help="end the running session (the record is closed)")
    end.set_defaults(handler=end_command)
    where = argparse.ArgumentParser(add_help=False)
    group = where.add_mutually_exclusive_group()
    group.add_argument("--db", type=Path, help="the room's database (default: storage.path of --config)")
    group.add_argument("--config", type=Path, help="room configuration whose storage.path to use")

    ls = actions.add_parser("list", parents=[where], help="list the sessions in the database, newest first")
    ls.set_defaults(handler=list_command)

    ex = actions.add_parser("export", parents=[where], help="export one session's readings, events and alarms")
    ex.add_argument("id", help="session id (or a unique beginning of it)")
    ex.add_argument("--format", choices=["csv", "json"], default="csv")
    ex.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    ex.add_argument("--force", action="store_true", help="replace the output file if it exists (never a database)")
    ex.set_defaults(handler=export_command)

    rep = actions.add_parser(
        "report", parents=[where], help="make the session report (PDF or PNG) with charts and a summary"
    )
    rep.add_argument("id", help="session id (or a unique beginning of it)")
    rep.add_argument("-o", "--output", type=Path, help="file to write, .pdf or .png (default: session-ID.pdf)")
    rep.add_argument("--utc", action="store_true", help="show times in UTC (default: this machine's time zone)")
    rep.add_argument("--force", action="store_true", help="replace the output file if it exists (never a database)")
    rep.set_defaults(handler=report_command)


def _send(args: argparse.Namespace, command: Command) -> int:
    """Send one command through the daemon's local API; print its answer; exit 1 when refused."""
    import asyncio

    from roomctl.api.client import send_once
    from roomctl.cli.tui_cmd import socket_path

    result = asyncio.run(send_once(socket_path(args), command))
    if not result.ok:
        raise RoomctlError(f"refused: {result.message}")
    print(result.message)
    return 0


def start_command(args: argparse.Namespace) -> int:
    from roomctl.commands import StartSession
    from roomctl.models import SessionKind

    kinds = [k.value for k in SessionKind]
    if args.kind not in kinds:
        raise RoomctlError(f"no session kind '{args.kind}'; the kinds are: {', '.join(kinds)}")
    return _send(args, StartSession(session_kind=SessionKind(args.kind)))


def end_command(args: argparse.Namespace) -> int:
    from roomctl.commands import EndSession

    return _send(args, EndSession())


def _database_path(args: argparse.Namespace) -> Path:
    if args.db is not None:
        return Path(args.db)
    from roomctl.config import StorageConfig, load_config

    if args.config is None:
        return StorageConfig().path
    config = load_config(args.config)
    path = config.storage.path
    return path if path.is_absolute() else Path(args.config).parent / path


def _open(args: argparse.Namespace) -> Database:
    from roomctl.storage.database import Database

    path = _database_path(args)
    try:
        with path.open("rb"):  # as this user: the folder (0700 under the unit) and the file must both let us in
            pass
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as e:
        raise StorageError(f"{path}: no such database; give the right one with --db PATH or --config FILE") from e
    except PermissionError as e:
        raise StorageError(f"{path}: {NO_ACCESS}") from e
    db = Database(path, readonly=True)
    return _upgraded_copy(db) or db


def _upgraded_copy(db: Database) -> Database | None:
    """A database written by an older roomctl (a backup, an archived copy) lacks the newer tables: read it through a
    copy brought to this schema, in a temporary folder, the file itself untouched. None when it is current."""
    import atexit
    import shutil
    import sqlite3
    import tempfile

    from roomctl.storage.database import Database
    from roomctl.storage.schema import SCHEMA_VERSION, current_version, migrate

    found = current_version(db.conn)
    if found >= SCHEMA_VERSION:
        return None
    if found == 0:
        raise StorageError(f"{db.path}: not a roomctl database (no roomctl tables in it); give another with --db PATH")
    folder = Path(tempfile.mkdtemp(prefix="roomctl-upgraded-"))
    atexit.register(shutil.rmtree, folder, True)
    copy = folder / db.path.name
    with contextlib.closing(sqlite3.connect(copy, isolation_level=None)) as conn:
        db.conn.backup(conn)
        migrate(conn)
    db.close()
    print(
        f"{db.path}: written by an older roomctl (schema version {found}); read through an upgraded copy, "
        "the file itself is unchanged",
        file=sys.stderr,
    )
    upgraded = Database(copy, readonly=True)
    upgraded.path = db.path  # messages and the export's guards name the room's file, not the copy
    return upgraded


NO_ACCESS = (
    "this user may not read the room's database; run the command as the roomctl user "
    "(runuser -u roomctl -- roomctl session ...) or as root"
)


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Any failure to read the record becomes one line for the user (a damaged file, no permission, a vanished disk)."""
    import sqlite3

    try:
        yield
    except sqlite3.Error as e:
        text = str(e)
        if "unable to open" in text:  # e.g. the -shm file beside it is not readable by this user
            raise StorageError(f"{path}: cannot read the database ({text}): {NO_ACCESS}") from e
        hint = "the file is damaged or not a roomctl database; give another with --db PATH"
        raise StorageError(f"{path}: cannot read the database ({text}); {hint}") from e
    except PermissionError as e:
        raise StorageError(f"{path}: {NO_ACCESS}") from e


def _resolve(db: Database, given: str) -> str:
    ids = [row.id for row, _n, _e in db.sessions()]
    if given in ids:
        return given
    matches = [i for i in ids if i.startswith(given)] if len(given) >= 4 else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise RoomctlError(f"'{given}' matches {len(matches)} sessions: {', '.join(matches)}; give more of the id")
    raise RoomctlError(f"no session '{given}' in {db.path} (roomctl session list shows them)")


def _local(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M")


def list_command(args: argparse.Namespace) -> int:
    with _reading(_database_path(args)):
        return _list(_open(args))


def _list(db: Database) -> int:
    from roomctl.models import SessionState

    rows = db.sessions()
    if not rows:
        print(f"{db.path}: no sessions recorded yet")
        return 0
    print(f"{'id':<14}{'kind':<13}{'started':<18}{'length':>8}  {'state':<16}{'readings':>9}{'events':>8}")
    for row, readings, events in rows:
        state = SessionState.model_validate_json(row.state)
        end = row.ended_at
        length = "" if end is None else f"{(end - row.started_at) / 3600:.1f} h"
        status = f"open ({state.phase})" if end is None and state.phase else ("open" if end is None else "ended")
        print(
            f"{row.id:<14}{row.session_kind:<13}{_local(row.started_at):<18}{length:>8}  {status:<16}{readings:>9}{events:>8}"
        )
    return 0


def export_command(args: argparse.Namespace) -> int:
    from roomctl.report.export import export
    from roomctl.report.output import check_stdout, replacing

    with _reading(_database_path(args)):
        db = _open(args)
        session_id = _resolve(db, args.id)
        if args.output is None:
            check_stdout(db.path)
            try:
                export(db, session_id, args.format, sys.stdout)
                sys.stdout.flush()
            except BrokenPipeError:  # `| head`: the reader has all it wanted
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        with replacing(args.output, db.path, force=args.force) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
            n = export(db, session_id, args.format, f)
    print(f"{args.output}: {n} records of session {session_id} ({args.format})", file=sys.stderr)
    return 0


def report_command(args: argparse.Namespace) -> int:
    from datetime import UTC

    from roomctl.report.data import load
    from roomctl.report.output import check_target, replacing
    from roomctl.report.render import render

    with _reading(_database_path(args)):
        db = _open(args)
        session_id = _resolve(db, args.id)
        out = args.output or Path(f"session-{session_id}.pdf")
        check_target(out, db.path, force=args.force)  # first: "that is the room's database" says more than a suffix
        if out.suffix.lower() not in (".pdf", ".png"):
            raise RoomctlError(f"{out}: the report is written as .pdf or .png")
        started = time.perf_counter()
        record = load(db, session_id)
        with replacing(out, db.path, force=args.force) as tmp:
            summary = render(record, tmp, tz=UTC if args.utc else None)
    took = time.perf_counter() - started
    print(f"{out}: report of session {session_id}: {len(summary.alarms)} alarm(s), made in {took:.1f} s")
    return 0

"""``roomctl session list | export ID | report ID``: the session record for the clinic's file."""

from __future__ import annotations

import argparse
import os
import sys
import time
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
    ex.set_defaults(handler=export_command)

    rep = actions.add_parser(
        "report", parents=[where], help="make the session report (PDF or PNG) with charts and a summary"
    )
    rep.add_argument("id", help="session id (or a unique beginning of it)")
    rep.add_argument("-o", "--output", type=Path, help="file to write, .pdf or .png (default: session-ID.pdf)")
    rep.add_argument("--utc", action="store_true", help="show times in UTC (default: this machine's time zone)")
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
    if not path.is_file():
        raise StorageError(f"{path}: no such database; give the right one with --db PATH or --config FILE")
    return Database(path, readonly=True)


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
    from roomctl.models import SessionState

    db = _open(args)
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

    db = _open(args)
    session_id = _resolve(db, args.id)
    if args.output is None:
        try:
            export(db, session_id, args.format, sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:  # `| head`: the reader has all it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    try:
        with args.output.open("w", encoding="utf-8", newline="") as out:
            n = export(db, session_id, args.format, out)
    except OSError as e:
        raise RoomctlError(f"{args.output}: cannot write: {e.strerror}") from e
    print(f"{args.output}: {n} records of session {session_id} ({args.format})", file=sys.stderr)
    return 0


def report_command(args: argparse.Namespace) -> int:
    from datetime import UTC

    from roomctl.report.data import load
    from roomctl.report.render import render

    db = _open(args)
    session_id = _resolve(db, args.id)
    out = args.output or Path(f"session-{session_id}.pdf")
    started = time.perf_counter()
    record = load(db, session_id)
    try:
        summary = render(record, out, tz=UTC if args.utc else None)
    except OSError as e:
        raise RoomctlError(f"{out}: cannot write the report: {e.strerror or e}") from e
    took = time.perf_counter() - started
    print(f"{out}: report of session {session_id}: {len(summary.alarms)} alarm(s), made in {took:.1f} s")
    return 0

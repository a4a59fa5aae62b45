"""Entry point: ``roomctl <command> ...``. Errors reach users as one clear line, never a traceback."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from roomctl import __version__
from roomctl.errors import ConfigError, RoomctlError

# Subcommand modules under roomctl.cli, in the order `roomctl --help` lists them. Each defines register(subparsers);
# they import heavy libraries only inside their handlers, so `roomctl decode` stays quick.
COMMAND_MODULES = [
    "config_cmd",
    "session_cmd",
    "decode_cmd",
    "scan_cmd",
    "tui_cmd",
    "run_cmd",
    "demo_cmd",
    "schema_cmd",
    "lights_cmd",
    "alarms_cmd",
    "central_cmd",
    "loadgen_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="roomctl",
        description="Room controller for MDMA-assisted therapy rooms. Not a certified medical device.",
    )
    parser.add_argument("--version", action="version", version=f"roomctl {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"roomctl.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        result: int = args.handler(args)
    except ConfigError as e:
        _complain(*e.problems)
        return 2
    except RoomctlError as e:
        _complain(f"roomctl: {e}")
        return 1
    except KeyboardInterrupt:
        return 130
    return result


def _complain(*lines: str) -> None:
    """Why the command failed, on stderr; under systemd at error priority, so `journalctl -p warning` shows why a
    unit stopped (journald reads the ``<3>`` prefix; without it every line is info)."""
    from roomctl.daemon.logging import is_journal

    prefix = "<3>" if is_journal(sys.stderr) else ""
    for line in lines:
        print(prefix + line, file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())

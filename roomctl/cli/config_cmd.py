"""``roomctl config check FILE`` and ``roomctl config schema``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("config", help="check a room configuration or print its schema")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate a room configuration file")
    check.add_argument("file", type=Path)
    check.add_argument(
        "--file-only",
        action="store_true",
        help="check the file alone, not what `run` needs from this machine (files, folders, groups)",
    )
    check.set_defaults(handler=check_command)
    schema = actions.add_parser("schema", help="print the JSON Schema of the room configuration")
    schema.set_defaults(handler=schema_command)
    docs = actions.add_parser(
        "docs", help="print the configuration reference (Markdown), or --write it into a document"
    )
    docs.add_argument("--write", type=Path, metavar="DOC", help="replace the generated block in DOC")
    docs.set_defaults(handler=docs_command)


def check_command(args: argparse.Namespace) -> int:
    from roomctl.config import ConfigError, load_config
    from roomctl.daemon.preflight import machine_problems

    config = load_config(args.file)  # ConfigError -> exit 2 with one line per problem (cli.main)
    problems = [] if args.file_only else machine_problems(config, str(args.file), args.file.parent)
    notes: list[str] = []
    warnings = config.advisories()
    if config.music.enabled and not args.file_only:  # not a reason for `run` to refuse: music never stops monitoring
        import asyncio

        from roomctl.music.check import check_mpd

        music = asyncio.run(check_mpd(config.music))
        notes += music.notes
        warnings += music.warnings
        problems += [f"{args.file}: {p}" for p in music.problems]
    if problems:  # what `run` would fail on, on this machine
        raise ConfigError(problems)
    for note in warnings:
        print(f"{args.file}: warning: {note}", file=sys.stderr)
    for note in notes:
        print(f"{args.file}: {note}")
    print(f"{args.file}: OK: {config.summary()}")
    return 0


def schema_command(args: argparse.Namespace) -> int:
    from roomctl.config import RoomConfig

    print(json.dumps(RoomConfig.model_json_schema(), indent=2))
    return 0


def docs_command(args: argparse.Namespace) -> int:
    from roomctl.config.reference import markdown_reference, splice

    reference = markdown_reference()
    if args.write is None:
        print(reference, end="")
    else:
        args.write.write_text(splice(args.write.read_text(encoding="utf-8"), reference), encoding="utf-8")
    return 0

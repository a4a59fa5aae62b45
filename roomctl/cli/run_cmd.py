"""``roomctl run [--config FILE]``: the daemon (systemd's roomctl.service). Logs go to stdout, one line per record."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path("/etc/roomctl/room.toml")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "run", help="run the room daemon: wearables, alarms, record, lighting, MQTT, local API"
    )
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help=f"room configuration (default {DEFAULT_CONFIG})"
    )
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    import asyncio

    from roomctl.config import ConfigError, load_config
    from roomctl.daemon.app import Daemon
    from roomctl.daemon.logging import setup_logging
    from roomctl.daemon.malloc import cap_malloc_arenas
    from roomctl.daemon.preflight import machine_problems

    cap_malloc_arenas()  # before any thread starts
    setup_logging(logging.DEBUG if args.verbose else logging.INFO)
    config = load_config(args.config)  # ConfigError -> exit 2 with one line per problem (cli.main)
    problems = machine_problems(config, str(args.config), args.config.parent)
    if problems:  # exit 2 as well: restarting cannot fix these (RestartPreventExitStatus=2)
        raise ConfigError(problems)
    for note in config.advisories():
        logging.getLogger("roomctl.config").warning("%s: %s", args.config, note)
    # Relative storage and socket paths (as in the demo's configuration) are taken from the configuration's folder.
    return asyncio.run(Daemon(config, state_dir=args.config.parent).run())

"""``roomctl tui [--socket PATH] [--config FILE] [--daemon-user NAME]``: the therapists' screen, a client of the daemon's local API."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "tui", help="the therapists' screen (connects to the running daemon; runs on tty1 or over SSH)"
    )
    parser.add_argument("--socket", type=Path, help="local API socket (default: from the configuration)")
    parser.add_argument("--config", type=Path, help="room configuration file, used to find the socket")
    parser.add_argument(
        "--daemon-user",
        help="the user the daemon runs as (default: roomctl); the screen trusts only it, root and itself",
    )
    parser.set_defaults(handler=tui_command)


def socket_path(args: argparse.Namespace) -> Path:
    if args.socket is not None:
        return Path(args.socket)
    if args.config is not None:
        from roomctl.config import load_config

        path = load_config(args.config).api.socket_path
        return path if path.is_absolute() else Path(args.config).parent / path  # as `roomctl run` resolves it
    from roomctl.config import ApiConfig

    return ApiConfig().socket_path


def tui_command(args: argparse.Namespace) -> int:
    from roomctl.api.client import ApiClient
    from roomctl.tui.app import RoomApp
    from roomctl.tui.driver import quiet_driver
    from roomctl.web import driver_for_environment

    path = socket_path(args)
    # Log lines would scribble over the screen: keep only errors, and Textual owns the terminal.
    logging.getLogger().setLevel(logging.ERROR)
    app = RoomApp(ApiClient(path, client_name="screen", daemon_user=args.daemon_user))
    # served in a browser: ends with its server; in a terminal: an input thread that sleeps while nobody types
    app.driver_class = driver_for_environment(quiet_driver(app.driver_class))
    app.run()
    return 0

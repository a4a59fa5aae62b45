"""``roomctl central``: the nursing station (every room at a glance, from the facility's broker)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "central",
        help="the nursing station: every room's tile from the facility's MQTT broker (terminal or browser)",
        description="Every room of a facility at a glance, most urgent first, fed only by MQTT. An information "
        "display: it acknowledges nothing (the room's screen is where alarms are handled).",
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="central.toml (default: /etc/roomctl/central.toml if it exists)"
    )
    parser.add_argument("--check", action="store_true", help="validate the configuration and exit")
    parser.add_argument("--serve", action="store_true", help="serve the station to browsers (textual-serve)")
    parser.add_argument("--host", help="with --serve: address to listen on (default from [serve], 127.0.0.1)")
    parser.add_argument("--port", type=int, help="with --serve: port (default from [serve], 8420)")
    parser.add_argument("--headless", action="store_true", help=argparse.SUPPRESS)  # benchmarks: no terminal
    parser.add_argument("--size", default="160x48", help=argparse.SUPPRESS)  # headless screen size
    parser.add_argument("--trace-alarms", type=Path, help=argparse.SUPPRESS)  # benchmarks: alarm shown -> file
    parser.set_defaults(handler=central_command)


def _config(args: argparse.Namespace) -> Any:
    from roomctl.central.config import DEFAULT_PATH, CentralConfig, load_central_config

    if args.config is not None:
        return load_central_config(args.config)
    if DEFAULT_PATH.exists():
        return load_central_config(DEFAULT_PATH)
    return CentralConfig()


def central_command(args: argparse.Namespace) -> int:
    config = _config(args)  # ConfigError -> exit 2, one line per problem (cli.main)
    if args.check:
        print(f"{args.config or 'defaults'}: OK: {config.summary()}")
        return 0
    if args.serve:
        from roomctl.web import roomctl_command, serve

        forwarded = ["central"] + (["--config", str(args.config.resolve())] if args.config else [])
        host = args.host or config.serve.host
        port = args.port or config.serve.port
        print(f"roomctl central: serving on http://{host}:{port} (Ctrl+C stops)", file=sys.stderr)
        serve(
            roomctl_command(*forwarded),
            host=host,
            port=port,
            title=config.station.title,
            public_url=config.serve.public_url,
        )
        return 0

    from roomctl.central.app import CentralApp
    from roomctl.central.state import Facility
    from roomctl.central.subscriber import FeedReader
    from roomctl.web import driver_for_environment

    logging.getLogger().setLevel(logging.ERROR)  # log lines would scribble over the screen
    app = CentralApp(
        FeedReader(config.mqtt, config.station.sites),
        Facility(
            config.mqtt.topic_prefix,
            limits=config.limits,
            expected=config.station.expected(),
            skew_s=config.station.clock_skew_s,
        ),
        title=config.station.title,
        stale_s=config.station.vitals_stale_s,
        trace_alarms=args.trace_alarms,
    )
    app.driver_class = driver_for_environment(app.driver_class)
    if args.headless:
        width, _, height = args.size.partition("x")
        app.run(headless=True, size=(int(width), int(height)))
    else:
        app.run()
    return app.return_code or 0

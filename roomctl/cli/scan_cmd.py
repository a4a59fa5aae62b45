"""``roomctl scan``: nearby wearables, live, with the profile roomctl recognises; ``--snippet`` prints config for one."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

from roomctl.errors import RoomctlError

if TYPE_CHECKING:
    from roomctl.sensors.scanner import Sighting

ADDRESS = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "scan", help="find nearby wearables and the profile roomctl recognises for each"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to scan (default 10)")
    parser.add_argument("--snippet", metavar="ADDRESS", help="print a [[wearables]] config snippet for this device")
    parser.add_argument("--all", action="store_true", help="also list devices roomctl does not recognise")
    parser.add_argument("--adapter", default="hci0", help="Bluetooth adapter (default hci0)")
    parser.add_argument(
        "--bus", metavar="ADDRESS", help="D-Bus system bus address (e.g. the emulator's); default: the system bus"
    )
    parser.set_defaults(handler=scan_command)


def scan_command(args: argparse.Namespace) -> int:
    if args.snippet is not None and not ADDRESS.fullmatch(args.snippet):
        raise RoomctlError(f"{args.snippet!r} is not a BLE address (AA:BB:CC:DD:EE:FF)")
    if args.timeout <= 0:
        raise RoomctlError("--timeout must be a positive number of seconds")
    if args.bus:
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = args.bus
    found = asyncio.run(_scan(args))
    if args.snippet is not None:
        sighting = found.get(args.snippet.upper())
        if sighting is None:
            print(
                f"roomctl: {args.snippet.upper()} was not seen in {args.timeout:g} s; is it on and near?",
                file=sys.stderr,
            )
            return 1
        print(snippet(sighting))
    return 0


async def _scan(args: argparse.Namespace) -> dict[str, Sighting]:
    from roomctl.clock import SystemClock
    from roomctl.config.wearables import BleConfig
    from roomctl.sensors.errors import translate
    from roomctl.sensors.scanner import SharedScanner

    if not re.fullmatch(r"hci[0-9]+", args.adapter):
        raise RoomctlError(f"{args.adapter!r} is not an adapter name like hci0")
    clock = SystemClock()
    scanner = SharedScanner(clock=clock, ble=BleConfig(adapter=args.adapter))
    wanted = args.snippet.upper() if args.snippet else None
    table = _LiveTable(
        show_all=args.all or wanted is not None,
        live=sys.stdout.isatty() and wanted is None,
        out=sys.stderr if wanted else sys.stdout,
    )
    scanner.add_listener(table.update)
    scan = asyncio.create_task(scanner.scan_once())
    if wanted is not None:  # stop as soon as the wanted device shows up

        def stop_when_seen(s: Sighting) -> None:
            if s.address == wanted:
                scan.cancel()

        scanner.add_listener(stop_when_seen)
    try:
        async with asyncio.timeout(args.timeout):
            await scan
    except (TimeoutError, asyncio.CancelledError):
        pass
    except Exception as e:
        table.close(quiet=True)
        raise translate(e, "scanning") from e
    finally:
        table.close()  # also on Ctrl-C, so the terminal is left tidy
    return scanner.seen


class _LiveTable:
    """A table that redraws as advertisements arrive (on a terminal), or one line per new device (in a pipe)."""

    def __init__(self, *, show_all: bool, live: bool, out: TextIO) -> None:
        self.rows: dict[str, Sighting] = {}
        self._out = out
        self._show_all = show_all
        self._live: Any = None
        self._printed: set[str] = set()
        self._closed = False
        if live:
            from rich.live import Live

            self._live = Live(self._render(), refresh_per_second=4, transient=False)
            self._live.start()

    def update(self, s: Sighting) -> None:
        from roomctl.sensors.profiles import recognise

        profile = recognise(s.name, s.service_uuids)
        if profile is None and not self._show_all:
            return
        self.rows[s.address] = s
        if self._live is not None:
            self._live.update(self._render())
        elif s.address not in self._printed:
            self._printed.add(s.address)
            print(_line(s), flush=True, file=self._out)

    def _render(self) -> Any:
        from rich.table import Table

        table = Table(title="Nearby wearables (Ctrl-C to stop)", box=None)
        for column in ("address", "name", "RSSI", "profile"):
            table.add_column(column)
        for s in sorted(self.rows.values(), key=lambda s: s.address):  # stable rows, easy to read
            cells = _cells(s)
            table.add_row(*cells)
        return table

    def close(self, quiet: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        if self._live is not None:
            self._live.stop()
            self._live = None
        elif not self.rows and not quiet:
            print("no wearables found", file=sys.stderr)


def _cells(s: Sighting) -> tuple[str, str, str, str]:
    from roomctl.sensors.profiles import recognise

    profile = recognise(s.name, s.service_uuids)
    return s.address, s.name or "?", f"{s.rssi} dBm", profile.name if profile else "-"


def _line(s: Sighting) -> str:
    address, name, rssi, profile = _cells(s)
    return f"{address}  {name:<24} {rssi:>8}  {profile}"


def snippet(s: Sighting) -> str:
    """A [[wearables]] block for this device, ready to paste into the room configuration."""
    from roomctl.sensors.profiles import recognise

    profile = recognise(s.name, s.service_uuids)
    slug = re.sub(r"[^a-z0-9]+", "-", (s.name or "wearable").lower()).strip("-")[:24] or "wearable"
    lines = [
        "[[wearables]]",
        f'id = "{slug}"',
        f'profile = "{profile.name}"' if profile else '# profile = "?"  # not recognised: see docs/wearables.md',
        f'address = "{s.address}"',
        f'label = "{(s.name or "Wearable")[:30]}"',
    ]
    return "\n".join(lines)

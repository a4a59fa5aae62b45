"""The canary: every upstream internal roomctl relies on still exists with the shape it expects.

roomctl reaches into three libraries on purpose, each reach pinned by a compatible-release range in pyproject.toml:
paho's client (``roomctl/mqtt/room_client.py``: the QoS 1 fast path; ``mqtt/commands_in.py``: paho's topic check), Textual's
parser and Linux driver (``roomctl/tui/driver.py``: the input loop that sleeps while nobody types) and its web driver
(``roomctl/web.py``: the write that notices a vanished server). An upgrade that moves one of them fails here, saying
which and where it is used, instead of showing up as dropped keepalives or a screen that ignores its keys.
"""

from __future__ import annotations

import inspect
import socket
from collections import deque
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion


def params(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_paho_client_internals_used_by_the_qos1_fast_path() -> None:
    """roomctl/mqtt/room_client.py overrides and calls these; their names, arguments and data shapes are what it assumes."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    where = "used by roomctl/mqtt/room_client.py (RoomClient)"
    for name, args in {
        "_handle_pubackcomp": ["self", "cmd"],
        "_packet_write": ["self"],
        "_sock_recv": ["self", "bufsize"],
        "_sock_close": ["self"],
        "_mid_generate": ["self"],
        "_packet_queue": ["self", "command", "packet", "mid", "qos", "info"],
        "loop_read": ["self", "max_packets"],
    }.items():
        method = getattr(mqtt.Client, name, None)
        assert callable(method), f"paho {mqtt.__name__}.Client.{name} is gone ({where})"
        assert params(method) == args, f"paho Client.{name}{inspect.signature(method)} changed ({where})"
    for name in ("_sock", "_out_packet", "_in_packet", "_msgtime_mutex"):
        assert hasattr(client, name), f"paho Client has no attribute {name} any more ({where})"
    # RoomClient marks the broker heard when it takes PUBACKs itself: paho's keepalive must read the same field, and
    # paho's own reads must mark it the same way (paho 2.2: _last_bytes_received)
    keepalive = inspect.getsource(mqtt.Client._check_keepalive)
    assert "self._last_bytes_received" in keepalive, f"paho's keepalive no longer reads _last_bytes_received ({where})"
    assert "self._last_bytes_received = " in inspect.getsource(mqtt.Client._packet_read), where
    assert isinstance(client._out_packet, deque), "paho's queue of outgoing packets is no longer a deque"
    assert {"command", "packet"} <= set(client._in_packet), f"paho's incoming packet dict: {sorted(client._in_packet)}"
    # a queued packet: the dict RoomClient extends in place while it waits, and builds itself for merged sends
    ours, theirs = socket.socketpair()  # queueing needs a socket to queue for; nothing is sent (no loop runs)
    client._sock = ours
    client.on_socket_register_write = lambda *_: None  # an external loop, as roomctl's: paho queues, never writes
    try:
        client._packet_queue(0x32, bytearray(b"\x00"), 1, 1)
    finally:
        client._sock = None
        ours.close()
        theirs.close()
    assert client._out_packet, "paho's _packet_queue no longer appends to _out_packet"
    queued = client._out_packet[-1]
    assert {"command", "mid", "qos", "pos", "to_process", "packet", "info"} <= set(queued), sorted(queued)
    assert callable(getattr(mqtt, "time_func", None)), "paho's keepalive clock mqtt.time_func is gone"


def test_paho_client_internals_used_by_the_stations_publish_path() -> None:
    """roomctl/central/station_client.py (StationClient) takes PUBLISH packets from RoomClient's read buffer while paho is
    between packets, and acknowledges QoS 1 ones with paho's own PUBACK."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    where = "used by roomctl/central/station_client.py (StationClient)"
    send_puback = getattr(mqtt.Client, "_send_puback", None)
    assert callable(send_puback), f"paho Client._send_puback is gone ({where})"
    assert params(send_puback) == ["self", "mid"], f"paho Client._send_puback changed ({where})"
    assert client._in_packet["command"] == 0, f"paho's idle incoming packet no longer has command 0 ({where})"
    assert "self._last_bytes_received = " in inspect.getsource(mqtt.Client._packet_read), where


def test_paho_topic_check_used_for_command_reply_topics() -> None:
    check = getattr(mqtt.Client, "_raise_for_invalid_topic", None)
    assert callable(check), "paho Client._raise_for_invalid_topic is gone (used by roomctl/mqtt/commands_in.py)"
    check(b"roomctl/site/room/reply")
    with pytest.raises(ValueError, match="wildcards"):
        check(b"roomctl/+/room")


def test_textual_parser_and_linux_driver_used_by_the_quiet_input_loop() -> None:
    """roomctl/tui/driver.py copies Textual 8.2's Linux input loop with these parts."""
    from textual import constants
    from textual._parser import ParseError
    from textual._xterm_parser import XTermParser
    from textual.driver import Driver
    from textual.drivers.linux_driver import LinuxDriver

    where = "used by roomctl/tui/driver.py (QuietLinuxDriver)"
    assert issubclass(ParseError, Exception), where
    parser = XTermParser(False)
    assert callable(parser.feed), where
    assert callable(parser.tick), where
    events = list(parser.feed("q"))
    assert [getattr(e, "key", None) for e in events] == ["q"], f"XTermParser.feed('q') gave {events} ({where})"
    assert isinstance(constants.ESCAPE_DELAY, float), where
    for name in ("run_input_thread", "disable_input", "close", "process_message"):
        assert callable(getattr(LinuxDriver, name, None)), f"Textual LinuxDriver.{name} is gone ({where})"
    init = inspect.getsource(LinuxDriver.__init__)
    assert "self.fileno" in init, f"Textual LinuxDriver no longer keeps self.fileno ({where})"
    # the screen draws on whichever of stderr and stdout is its terminal: Textual's driver writes to self._file
    assert "self._file = " in init, f"Textual LinuxDriver no longer keeps self._file ({where}: terminal_output)"
    assert "WriterThread(self._file)" in inspect.getsource(LinuxDriver.start_application_mode), where
    assert "self.exit_event" in init, f"Textual LinuxDriver no longer keeps self.exit_event ({where})"
    assert "self._debug" in inspect.getsource(Driver.__init__), f"Textual Driver no longer keeps self._debug ({where})"


def test_textual_web_driver_write_used_to_notice_a_vanished_server() -> None:
    from textual.drivers.web_driver import WebDriver

    source = inspect.getsource(WebDriver.__init__)
    assert "self._write = " in source, "Textual WebDriver no longer keeps self._write (used by roomctl/web.py)"
    assert "self._write(" in inspect.getsource(WebDriver.write), "WebDriver.write no longer goes through _write"
    assert callable(getattr(WebDriver, "run_input_thread", None)), "used by roomctl/web.py (ServedDriver)"

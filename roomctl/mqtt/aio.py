"""Drive a paho client from the asyncio loop: its socket is watched by the loop, so there is no paho thread.

Every paho callback (connect, publish acknowledgements, messages, disconnect) then runs on the loop's thread and may
touch the hub directly; publishing costs no thread hand-off. Only the blocking TCP/TLS connect runs in a worker
thread; the socket callbacks paho makes from there hop to the loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from roomctl.mqtt.room_client import RoomClient

log = logging.getLogger(__name__)

MISC_INTERVAL_S = 1.0  # keepalive pings and timeouts (paho's loop_misc)


class LoopDriver:
    def __init__(self, client: mqtt.Client, loop: asyncio.AbstractEventLoop) -> None:
        self._client = client
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._fd: int | None = None
        self._writing = False
        self._write_soon = False
        self._misc: asyncio.Task[None] | None = None
        self._closed = False
        client.on_socket_open = self._on_open
        client.on_socket_close = self._on_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write

    def _in_loop(self, fn: Callable[..., None], *args: Any) -> None:
        if self._loop.is_closed():
            return  # a client finalised after its loop ended (paho's __del__ closes its socket): nothing left to watch
        if threading.get_ident() == self._loop_thread:
            fn(*args)
        else:
            self._loop.call_soon_threadsafe(fn, *args)

    # paho's socket callbacks (any thread)
    def _on_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._in_loop(self._watch, sock.fileno())

    def _on_close(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._in_loop(self._unwatch)

    def _on_register_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._in_loop(self._want_write, True)

    def _on_unregister_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._in_loop(self._want_write, False)

    # on the loop
    def _watch(self, fd: int) -> None:
        if self._closed:
            return
        self._unwatch()
        self._fd = fd
        self._loop.add_reader(fd, self._readable)
        if self._client.want_write():
            self._want_write(True)
        self._misc = self._loop.create_task(self._misc_loop(), name="mqtt-keepalive")

    def _unwatch(self) -> None:
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            if self._writing:
                self._loop.remove_writer(self._fd)
        self._fd = None
        self._writing = False
        if self._misc is not None:
            self._misc.cancel()
            self._misc = None

    def _want_write(self, on: bool) -> None:
        if self._fd is None:
            return
        if on:
            # Write at the end of this loop iteration: every publish made meanwhile goes out in one write, with no
            # selector change. Only a full socket buffer makes us watch for writability.
            if not self._write_soon and not self._writing:
                self._write_soon = True
                self._loop.call_soon(self._write_now)
        elif self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)

    def _write_now(self) -> None:
        self._write_soon = False
        if self._fd is None or self._writing:
            return
        self._client.loop_write()
        if self._fd is not None and self._client.want_write() and not self._writing:
            self._writing = True
            self._loop.add_writer(self._fd, self._writable)

    def _readable(self) -> None:
        client = self._client
        client.loop_read()
        sock = client.socket()
        # Bytes already taken from the socket (the client's read buffer, or TLS's decrypted ones) are no longer
        # reported readable by the kernel: handle them now.
        while client.socket() is sock and (
            (isinstance(client, RoomClient) and client.buffered())
            or (isinstance(sock, ssl.SSLSocket) and sock.pending())
        ):
            client.loop_read()

    def _writable(self) -> None:
        self._client.loop_write()

    async def _misc_loop(self) -> None:
        while True:
            await asyncio.sleep(MISC_INTERVAL_S)
            self._client.loop_misc()

    def close(self) -> None:
        """Stop watching; close the socket if paho has not (the connection is abandoned, not ended politely)."""
        self._closed = True
        self._unwatch()
        sock = self._client.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

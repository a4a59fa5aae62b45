"""The local API server: a Unix socket; each client gets hello, a snapshot, then every hub event, and may send commands.

The socket is mode 0660 with ``socket_group`` (0600 without): only the daemon's user and that group may use it.
Each client has one bounded hub subscription. A client that falls too far behind (its subscription dropped events) is
disconnected: it reconnects and re-syncs from a fresh snapshot, so it never shows a state with holes in it.
The TUI crashing or quitting only closes its connection; monitoring and publishing go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import stat
import struct
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

from roomctl.api.protocol import (
    MAX_CLIENT_LINE,
    Hello,
    Result,
    RoomInfo,
    Snapshot,
    encode,
    encode_event,
    parse_command_line,
)
from roomctl.clock import Clock, SystemClock
from roomctl.commands import CommandHandler, CommandRejected
from roomctl.errors import RoomctlError
from roomctl.hub import Hub, Subscription
from roomctl.models import HubEvent, event_json

log = logging.getLogger(__name__)

COALESCE_S = 0.05
"""A client gets at most one write per this interval: at 200 readings/s a write per reading cost ~60 µs each (bench_pipeline)."""


class ApiError(RoomctlError):
    """The local API socket cannot be set up."""


class ApiServer:
    def __init__(
        self,
        hub: Hub,
        handler: CommandHandler,
        room_info: RoomInfo,
        socket_path: Path | str,
        *,
        socket_group: str | None = None,
        client_queue: int = 2000,
        max_clients: int = 8,
        drain_timeout_s: float = 10.0,
        clock: Clock | None = None,
        pause_remaining: Callable[[], float] | None = None,
    ) -> None:
        self.hub = hub
        self.pause_remaining = pause_remaining
        """The alarm engine's audio pause left (monotonic), so a snapshot's countdown never depends on wall time."""
        self.handler = handler
        self.room_info = room_info
        self.socket_path = Path(socket_path)
        self.socket_group = socket_group
        self.client_queue = client_queue
        self.max_clients = max_clients
        self.drain_timeout_s = drain_timeout_s
        self.clock = clock or SystemClock()
        self.disconnected_slow = 0
        self.rejected_lines = 0
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()
        self._next_client = 0

    @property
    def client_count(self) -> int:
        return len(self._clients)

    async def __aenter__(self) -> Self:
        self._remove_stale_socket()
        mode = 0o660 if self.socket_group else 0o600
        old_umask = os.umask(
            0o777 & ~mode
        )  # the socket is born with its final mode: no window where others can connect
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.socket_path), limit=MAX_CLIENT_LINE + 1
            )
        except OSError as e:
            raise ApiError(f"cannot listen on {self.socket_path}: {e.strerror or e}") from e
        finally:
            os.umask(old_umask)
        try:
            os.chmod(self.socket_path, mode)
            if self.socket_group:
                shutil.chown(self.socket_path, group=self.socket_group)
        except (LookupError, OSError) as e:
            await self.__aexit__(None, None, None)
            raise ApiError(f"cannot give {self.socket_path} to group {self.socket_group!r}: {e}") from e
        log.info("local API listening on %s (mode %o)", self.socket_path, mode)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._clients):
            task.cancel()
        if self._clients:
            await asyncio.gather(*self._clients, return_exceptions=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    def _remove_stale_socket(self) -> None:
        path = self.socket_path
        try:
            st = path.lstat()
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            return
        if not stat.S_ISSOCK(st.st_mode):
            raise ApiError(f"{path} exists and is not a socket; refusing to replace it")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # nobody listens: left over from a crash
            log.info("removed stale API socket %s", path)
            return
        finally:
            probe.close()
        raise ApiError(f"another roomctl daemon is already serving {path}")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._clients) >= self.max_clients:
            writer.write(encode(Result(id=None, ok=False, message="too many clients", error="unavailable")))
            await _close(writer)
            return
        self._clients.add(task)
        self._next_client += 1
        name = f"api-client-{self._next_client} ({_peer(writer)})"
        # Subscribe before taking the snapshot (same loop turn): no event falls between the two.
        sub = self.hub.subscribe(name, maxsize=self.client_queue)
        try:
            writer.write(encode(Hello(room=self.room_info)))
            remaining = self.pause_remaining() if self.pause_remaining is not None else None
            writer.write(encode(Snapshot.from_state(self.hub.state, self.clock.now(), remaining)))
            log.info("%s connected", name)
            pump = asyncio.create_task(self._pump(sub, writer, name))
            try:
                await self._read_commands(reader, writer, name)
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await pump
        except (ConnectionError, OSError) as e:
            log.info("%s went away: %s", name, e)
        except asyncio.CancelledError:
            # The server is shutting down. End normally: Python 3.11's stream callback calls task.exception(),
            # which raises on a cancelled task and logs a spurious error.
            pass
        finally:
            sub.close()
            self._clients.discard(task)
            await _close(writer)
            log.info("%s disconnected", name)

    @staticmethod
    def _encoded_event(event: HubEvent) -> bytes:
        return encode_event(event_json(event).encode())

    async def _pump(self, sub: Subscription, writer: asyncio.StreamWriter, name: str) -> None:
        """Events to the client, in batches; a client that cannot keep up is cut off (it re-syncs on reconnect)."""
        while True:
            batch = await sub.get_batch()
            await asyncio.sleep(COALESCE_S)  # gather what follows: one write per 50 ms, not one per reading
            if len(sub):
                batch += await sub.get_batch()
            if sub.dropped:
                self.disconnected_slow += 1
                log.warning("%s fell behind (%d events dropped): disconnecting it", name, sub.dropped)
                writer.transport.abort()
                return
            writer.write(b"".join(self._encoded_event(e) for e in batch))
            if writer.transport.get_write_buffer_size() < 64 * 1024:
                continue  # the usual case: the kernel took it all; skip drain() and its timeout's task
            try:
                await asyncio.wait_for(writer.drain(), self.drain_timeout_s)
            except TimeoutError:
                self.disconnected_slow += 1
                log.warning("%s stopped reading for %.0f s: disconnecting it", name, self.drain_timeout_s)
                writer.transport.abort()
                return

    async def _read_commands(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str) -> None:
        while True:
            try:
                line = await reader.readuntil(b"\n")
            except asyncio.IncompleteReadError:
                return  # the client closed
            except asyncio.LimitOverrunError:
                self.rejected_lines += 1
                log.warning("%s sent a line longer than %d bytes: closing", name, MAX_CLIENT_LINE)
                writer.write(encode(Result(id=None, ok=False, message="line too long", error="invalid")))
                return
            if not line.strip():
                continue
            try:
                message = parse_command_line(line)
            except CommandRejected as e:
                self.rejected_lines += 1
                log.warning("%s: rejected a message: %s", name, e)
                writer.write(encode(Result(id=e.request_id, ok=False, message=str(e), error="invalid")))
                continue
            try:
                outcome = await self.handler.handle(message.command, source=name)
                result = Result(id=message.id, ok=outcome.ok, message=outcome.message)
            except Exception as e:  # the handler's failure must not take the API down; log it, tell the client
                log.exception("%s: command %s failed", name, message.command.command)
                result = Result(id=message.id, ok=False, message=f"the daemon could not do that: {e}", error="failed")
            writer.write(encode(result))


def _peer(writer: asyncio.StreamWriter) -> str:
    sock = writer.get_extra_info("socket")
    try:
        pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    except (AttributeError, OSError):
        return "peer unknown"
    return f"uid {uid}, pid {pid}"


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError, OSError):
        await writer.wait_closed()

"""The local API server: a Unix socket; each client gets hello, a snapshot, then every hub event, and may send commands.

The socket is mode 0660 with ``socket_group`` (0600 without): only the daemon's user and that group may use it. Its
folder must be writable by the daemon's user only (else another user could replace the socket): anything else is refused.
Each client has one bounded hub subscription, and one bounded output (events and replies alike). A client that falls
too far behind, stops reading, or leaves too much unread is disconnected: it reconnects and re-syncs from a fresh
snapshot, so it never shows a state with holes in it. A client must send a hello (or a command) within the handshake
timeout. The screen's connections (root, the daemon's user, ``roomctl-screen``) have places of their own, so other
clients can never shut it out. Rejected lines are logged cut short and at most once per 10 s per client.
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
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

from roomctl.api.peers import SCREEN_USER, Peer, peer_of, socket_folder_problem, uids_of
from roomctl.api.protocol import (
    HEARTBEAT_S,
    MAX_CLIENT_LINE,
    PROTOCOL_VERSION,
    ClientHello,
    Heartbeat,
    Hello,
    History,
    Result,
    RoomInfo,
    Snapshot,
    encode,
    encode_event,
    parse_client_line,
)
from roomctl.clock import Clock, SystemClock
from roomctl.commands import CommandHandler, CommandRejected
from roomctl.errors import RoomctlError
from roomctl.hub import Hub, Subscription
from roomctl.models import HubEvent, event_json
from roomctl.ratelimit import Every, excerpt

log = logging.getLogger(__name__)

COALESCE_S = 0.05
"""A client gets at most one write per this interval: at 200 readings/s a write per reading cost ~60 µs each (bench_pipeline)."""


MAX_UNSENT_BYTES = 2 * 1024 * 1024
"""A client's output (events and replies) it has not read yet; past this it is cut off."""
DRAIN_AT_BYTES = 64 * 1024
"""Below this much unread output a client is not waited for."""
HANDSHAKE_TIMEOUT_S = 10.0
RESERVED_CLIENTS = 2
"""Places kept for the screen (root, the daemon's own user, ``roomctl-screen``) beside ``max_clients`` for the rest."""
REJECTED_LOG_EVERY_S = 10.0


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
        handshake_timeout_s: float = HANDSHAKE_TIMEOUT_S,
        max_unsent_bytes: int = MAX_UNSENT_BYTES,
        reserved_uids: Iterable[int] | None = None,
        reserved_clients: int = RESERVED_CLIENTS,
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
        self.handshake_timeout_s = handshake_timeout_s
        self.max_unsent_bytes = max_unsent_bytes
        self.reserved_uids = (
            frozenset(reserved_uids)
            if reserved_uids is not None
            else frozenset({0, os.getuid()}) | uids_of([SCREEN_USER])
        )
        """Peers whose connections use the screen's own places."""
        self.reserved_clients = reserved_clients
        self.turned_away = 0
        self._turned_away_log = Every(REJECTED_LOG_EVERY_S)
        self.clock = clock or SystemClock()
        self.disconnected_slow = 0
        self.rejected_lines = 0
        self._server: asyncio.Server | None = None
        self._socket_identity: tuple[int, int] | None = None
        self._screens: set[asyncio.Task[None]] = set()
        self._others: set[asyncio.Task[None]] = set()
        self._next_client = 0

    @property
    def client_count(self) -> int:
        return len(self._screens) + len(self._others)

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
        st = os.stat(self.socket_path)
        self._socket_identity = (st.st_dev, st.st_ino)
        log.info("local API listening on %s (mode %o)", self.socket_path, mode)
        return self

    def problems(self) -> list[str]:
        """For the watchdog: the screen can reach the daemon — the server listens and its socket is still at its path
        (one deleted or replaced leaves every screen dark; a restart makes it again)."""
        if self._server is None or not self._server.is_serving():
            return ["the local API is not listening"]
        try:
            st = os.stat(self.socket_path)
        except OSError:
            return [f"the local API socket {self.socket_path} is gone: no screen can connect"]
        if (st.st_dev, st.st_ino) != self._socket_identity:
            return [f"the local API socket {self.socket_path} was replaced: no screen can reach this daemon"]
        return []

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        clients = self._screens | self._others
        for task in clients:
            task.cancel()
        if clients:
            await asyncio.gather(*clients, return_exceptions=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    def _remove_stale_socket(self) -> None:
        path = self.socket_path
        path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        problem = socket_folder_problem(path.parent)
        if problem is not None:
            raise ApiError(f"refusing to serve the local API: {problem}")
        try:
            st = path.lstat()
        except FileNotFoundError:
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

    def _place_for(self, peer: Peer | None) -> set[asyncio.Task[None]] | None:
        """The pool a new connection joins, or None when it must be turned away. The screen's places are kept apart."""
        if peer is not None and peer.uid in self.reserved_uids and len(self._screens) < self.reserved_clients:
            return self._screens
        if len(self._others) < self.max_clients:
            return self._others
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = peer_of(writer.get_extra_info("socket"))
        place = self._place_for(peer)
        if place is None:
            self.turned_away += 1
            if self._turned_away_log.ready():
                log.warning(
                    "local API: turned away %s: %d clients connected (%d more turned away since the last report)",
                    peer or "a peer",
                    self.client_count,
                    self._turned_away_log.take_held(),
                )
            message = f"too many clients: {self.max_clients} are connected; try again later"
            writer.write(encode(Result(id=None, ok=False, message=message, error="unavailable")))
            await _close(writer)
            return
        place.add(task)
        self._next_client += 1
        client = _Client(writer, f"api-client-{self._next_client} ({peer or 'peer unknown'})", self)
        # Subscribe before taking the snapshot (same loop turn): no event falls between the two.
        sub = self.hub.subscribe(client.name, maxsize=self.client_queue)
        try:
            client.send(encode(Hello(room=self.room_info)))
            remaining = self.pause_remaining() if self.pause_remaining is not None else None
            client.send(encode(Snapshot.from_state(self.hub.state, self.clock.now(), remaining)))
            client.send(encode(History.from_trends(self.hub.state.trends)))
            log.info("%s connected", client.name)
            pump = asyncio.create_task(self._pump(sub, client))
            try:
                await self._read_lines(reader, client)
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await pump
        except (ConnectionError, OSError) as e:
            log.info("%s went away: %s", client.name, e)
        except asyncio.CancelledError:
            # The server is shutting down. End normally: Python 3.11's stream callback calls task.exception(),
            # which raises on a cancelled task and logs a spurious error.
            pass
        finally:
            sub.close()
            place.discard(task)
            await _close(writer)
            log.info("%s disconnected", client.name)

    @staticmethod
    def _encoded_event(event: HubEvent) -> bytes:
        return encode_event(event_json(event).encode())

    async def _pump(self, sub: Subscription, client: _Client) -> None:
        """Events to the client, in batches; a client that cannot keep up is cut off (it re-syncs on reconnect)."""
        while not client.closed:
            await asyncio.sleep(COALESCE_S)  # gather what comes: one write per 50 ms at most, not one per reading
            if not len(sub):  # (while events flow, the pump only sleeps and sends: no timer to set up and cancel)
                try:
                    async with asyncio.timeout(HEARTBEAT_S):
                        await sub.wait()
                except TimeoutError:  # nothing to send for a while: say the loop is alive (a hung daemon says nothing)
                    if not client.send(encode(Heartbeat(ts=self.clock.now()))):
                        return
                continue
            batch = sub.take()
            if sub.dropped:
                client.cut_off(f"fell behind ({sub.dropped} events dropped)")
                return
            if not client.send(b"".join(self._encoded_event(e) for e in batch)):
                return
            await client.drain()

    async def _read_lines(self, reader: asyncio.StreamReader, client: _Client) -> None:
        """The client's lines, one at a time. Until its first valid hello or command, it has the handshake timeout."""
        deadline: float | None = asyncio.get_running_loop().time() + self.handshake_timeout_s
        while not client.closed:
            try:
                async with asyncio.timeout_at(deadline):
                    line = await reader.readuntil(b"\n")
            except TimeoutError:
                log.info("%s sent no hello within %g s: closing", client.name, self.handshake_timeout_s)
                late = f'no hello within {self.handshake_timeout_s:g} s: send {{"type": "hello"}} first'
                client.send(encode(Result(id=None, ok=False, message=late, error="unavailable")))
                return
            except asyncio.IncompleteReadError:
                return  # the client closed
            except asyncio.LimitOverrunError:
                self.rejected_lines += 1
                log.warning("%s sent a line longer than %d bytes: closing", client.name, MAX_CLIENT_LINE)
                client.send(encode(Result(id=None, ok=False, message="line too long", error="invalid")))
                return
            if not line.strip():
                continue
            try:
                message = parse_client_line(line)
            except CommandRejected as e:
                self.rejected_lines += 1
                if client.rejected_log.ready():
                    held = client.rejected_log.take_held()
                    more = f" ({held} more rejected since the last report)" if held else ""
                    log.warning("%s: rejected a message: %s%s", client.name, excerpt(str(e)), more)
                client.send(encode(Result(id=e.request_id, ok=False, message=str(e), error="invalid")))
                await client.drain()
                continue
            deadline = None  # the handshake is complete
            if isinstance(message, ClientHello):
                if message.protocol != PROTOCOL_VERSION:
                    text = f"this daemon speaks API protocol {PROTOCOL_VERSION}, not {message.protocol}"
                    client.send(encode(Result(id=None, ok=False, message=text, error="unavailable")))
                    return
                log.info("%s is %s", client.name, excerpt(message.client, 64))
                continue
            try:
                outcome = await self.handler.handle(message.command, source=client.name)
                result = Result(id=message.id, ok=outcome.ok, message=outcome.message)
            except Exception as e:  # the handler's failure must not take the API down; log it, tell the client
                log.exception("%s: command %s failed", client.name, message.command.command)
                result = Result(id=message.id, ok=False, message=f"the daemon could not do that: {e}", error="failed")
            client.send(encode(result))
            await client.drain()


class _Client:
    """One connection. Everything it is sent (hello, snapshot, events, command results) goes through :meth:`send`:
    the connection's buffer is the client's one queue, bounded by ``max_unsent_bytes`` and drained within
    ``drain_timeout_s``; a client over either is cut off (it re-syncs from a fresh snapshot when it reconnects)."""

    def __init__(self, writer: asyncio.StreamWriter, name: str, server: ApiServer) -> None:
        self.writer = writer
        self.name = name
        self.server = server
        self.closed = False
        self.rejected_log = Every(REJECTED_LOG_EVERY_S)

    def unsent(self) -> int:
        return self.writer.transport.get_write_buffer_size()

    def send(self, data: bytes) -> bool:
        """Queue ``data``; False (and the client cut off) when it has more unread than allowed."""
        if self.closed:
            return False
        self.writer.write(data)
        if self.unsent() > self.server.max_unsent_bytes:
            self.cut_off(f"left {self.unsent()} bytes unread (the limit is {self.server.max_unsent_bytes})")
            return False
        return True

    async def drain(self) -> None:
        """Wait while the client reads what is queued; cut it off when it stops reading for ``drain_timeout_s``."""
        if self.closed or self.unsent() < DRAIN_AT_BYTES:
            return  # the usual case: the kernel took it all; skip drain() and its timeout's task
        try:
            async with asyncio.timeout(self.server.drain_timeout_s):
                await self.writer.drain()
        except TimeoutError:
            self.cut_off(f"stopped reading for {self.server.drain_timeout_s:g} s")

    def cut_off(self, why: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.disconnected_slow += 1
        log.warning("%s %s: disconnecting it", self.name, why)
        self.writer.transport.abort()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError, OSError):
        await writer.wait_closed()

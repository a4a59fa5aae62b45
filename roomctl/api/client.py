"""The local API client: connects, reconnects with backoff when the daemon restarts, yields messages, sends commands.

``async for item in client.updates()`` gives :class:`~roomctl.api.protocol.Hello`, ``Snapshot``, ``History``,
``EventMessage`` and ``Heartbeat``
messages, and a :class:`Disconnected` whenever the link is down (with the reason in words and when it retries).
Command results are matched to :meth:`ApiClient.send` calls by request id; they are not yielded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from roomctl.api.peers import peer_of, trusted_daemon_uids, user_name
from roomctl.api.protocol import (
    MAX_SERVER_LINE,
    PROTOCOL_VERSION,
    SERVER_ADAPTER,
    ClientHello,
    CommandMessage,
    EventMessage,
    Heartbeat,
    Hello,
    History,
    Result,
    Snapshot,
    encode,
)
from roomctl.commands import Command, CommandResult
from roomctl.errors import RoomctlError

log = logging.getLogger(__name__)


class ApiUnavailable(RoomctlError):
    """The daemon is not reachable (not running, restarting, or the link broke)."""


@dataclass(frozen=True)
class Disconnected:
    reason: str
    retry_in_s: float


Update = Hello | Snapshot | History | EventMessage | Heartbeat | Disconnected


class ApiClient:
    def __init__(
        self,
        socket_path: Path | str,
        *,
        min_backoff_s: float = 0.2,
        max_backoff_s: float = 3.0,
        client_name: str = "client",
        daemon_user: str | None = None,
    ) -> None:
        self.socket_path = Path(socket_path)
        self.client_name = client_name
        self.trusted_uids = trusted_daemon_uids(daemon_user)
        """Whom this client believes to be the daemon (``SO_PEERCRED``): root, itself and the daemon's user."""
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.connected = False
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[str, asyncio.Future[Result]] = {}
        self._ids = itertools.count(1)

    async def updates(self) -> AsyncGenerator[Update, None]:
        """Connect, yield what the daemon sends, and on any loss yield :class:`Disconnected` and reconnect. Forever."""
        backoff = self.min_backoff_s
        while True:
            try:
                reader, writer = await asyncio.open_unix_connection(str(self.socket_path), limit=MAX_SERVER_LINE)
            except FileNotFoundError:
                reason = f"daemon not reachable ({self.socket_path} does not exist)"
            except PermissionError:
                reason = f"no permission to use {self.socket_path} (is this user in the roomctl group?)"
            except OSError as e:
                reason = f"daemon not reachable ({e.strerror or e})"
            else:
                reason = "connection to the daemon lost"
                try:
                    self._check_peer(writer)
                    async for message in self._session(reader, writer):
                        backoff = self.min_backoff_s  # a working connection resets the backoff
                        yield message
                except _ProtocolMismatch as e:
                    reason = str(e)
                    backoff = self.max_backoff_s
                except (ConnectionError, OSError, asyncio.LimitOverrunError, asyncio.IncompleteReadError) as e:
                    reason = f"connection to the daemon lost ({e})"
                finally:
                    self._drop_connection(writer)
            yield Disconnected(reason, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> AsyncIterator[Update]:
        first = True
        while True:
            line = await reader.readline()
            if not line:
                return
            try:
                message = SERVER_ADAPTER.validate_json(line)
            except ValidationError as e:
                if first:
                    raise _ProtocolMismatch(f"the daemon sent something this screen does not understand: {e}") from e
                log.warning("ignoring a message from the daemon that does not parse: %s", e)
                continue
            if first:
                if isinstance(message, Result) and not message.ok:
                    raise _ProtocolMismatch(f"the daemon turned this screen away: {message.message}")
                if not isinstance(message, Hello) or message.protocol != PROTOCOL_VERSION:
                    got = message.protocol if isinstance(message, Hello) else "none"
                    raise _ProtocolMismatch(f"daemon speaks API protocol {got}, this screen {PROTOCOL_VERSION}")
                first = False
                writer.write(encode(ClientHello(client=self.client_name)))  # the handshake: we are here to stay
                self._writer = writer
                self.connected = True
            if isinstance(message, Result):
                fut = self._pending.pop(message.id or "", None)
                if fut is not None and not fut.done():
                    fut.set_result(message)
                elif message.error == "unavailable":
                    raise _ProtocolMismatch(f"the daemon closed this connection: {message.message}")
                elif not message.ok:
                    log.warning("daemon: %s", message.message)
                continue
            yield message

    def _check_peer(self, writer: asyncio.StreamWriter) -> None:
        """Refuse to believe a socket served by anyone but the daemon's user (someone may have replaced the socket)."""
        peer = peer_of(writer.get_extra_info("socket"))
        if peer is not None and peer.uid not in self.trusted_uids:
            raise _ProtocolMismatch(  # short first: the screen's status line is narrow
                f"not trusting the socket: served by {user_name(peer.uid)}, not the daemon's user "
                f"(pid {peer.pid}; someone may have replaced {self.socket_path})"
            )

    def _drop_connection(self, writer: asyncio.StreamWriter) -> None:
        self.connected = False
        self._writer = None
        writer.close()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ApiUnavailable("the connection to the daemon was lost before it answered"))
        self._pending.clear()

    async def send(self, command: Command, timeout_s: float = 10.0) -> CommandResult:
        """Send one command and wait for the daemon's answer. Raises :class:`ApiUnavailable` when not connected."""
        writer = self._writer
        if writer is None:
            raise ApiUnavailable("the daemon is not reachable; the command was not sent")
        request_id = str(next(self._ids))
        fut: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = fut
        try:
            writer.write(encode(CommandMessage(id=request_id, command=command)))
            await writer.drain()
            async with asyncio.timeout(timeout_s):
                result = await fut
        except TimeoutError as e:
            raise ApiUnavailable(f"the daemon did not answer within {timeout_s:.0f} s") from e
        except (ConnectionError, OSError) as e:
            raise ApiUnavailable(f"the command could not be sent: {e}") from e
        finally:
            self._pending.pop(request_id, None)
        return CommandResult(ok=result.ok, message=result.message)

    async def close(self) -> None:
        if self._writer is not None:
            writer = self._writer
            self._drop_connection(writer)
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


class _ProtocolMismatch(Exception):
    pass


async def send_once(socket_path: Path | str, command: Command, timeout_s: float = 10.0) -> CommandResult:
    """Connect, send one command, return the daemon's answer (for scripts and ``roomctl session``).

    Raises :class:`ApiUnavailable` when the daemon is not reachable or does not answer within ``timeout_s``.
    """
    client = ApiClient(socket_path)
    ready = asyncio.Event()
    problem: list[str] = []

    async def read() -> None:  # keep reading: the answer arrives on the same stream as the events
        async for update in client.updates():
            if isinstance(update, Disconnected):
                problem.append(update.reason)
                ready.set()
                return
            if isinstance(update, Snapshot):
                ready.set()

    reader = asyncio.create_task(read())
    try:
        try:
            async with asyncio.timeout(timeout_s):
                await ready.wait()
        except TimeoutError as e:
            raise ApiUnavailable(f"the daemon at {socket_path} did not answer within {timeout_s:.0f} s") from e
        if problem:
            raise ApiUnavailable(problem[0])
        return await client.send(command, timeout_s)
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await client.close()

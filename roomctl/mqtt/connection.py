"""One connection to the broker: a fresh paho client (MQTT v5, VERSION2 callbacks) driven by the asyncio loop.

A fresh client per connection keeps paho's RAM queue from outliving a connection: whatever was not acknowledged is
replayed from the durable outbox instead. Failures become :class:`BrokerUnavailable` with a message a user understands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from roomctl.config.mqtt import BrokerConfig, TlsConfig
from roomctl.errors import RoomctlError
from roomctl.mqtt.aio import LoopDriver
from roomctl.mqtt.room_client import RoomClient

log = logging.getLogger(__name__)

ClientFactory = Callable[[str], RoomClient]
CONNECT_TIMEOUT_S = 10.0


def publish_properties() -> Properties:
    return Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]  # paho leaves it unannotated


class BrokerUnavailable(RoomctlError):
    """The broker cannot be reached or refused us; the publisher retries with backoff."""


def read_credentials(path: Path) -> tuple[str, str]:
    """Username and password from a two-line file. Never logged."""
    try:
        mode = path.stat().st_mode
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise RoomctlError(f"cannot read the MQTT credentials file {path}: {e}") from e
    if len(lines) < 2 or not lines[0].strip() or not lines[1]:
        raise RoomctlError(f"MQTT credentials file {path} must have two lines: the username, then the password")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("MQTT credentials file %s can be read by more than its owner; chmod 600 it", path)
    return lines[0].strip(), lines[1]


def tls_context(tls: TlsConfig) -> ssl.SSLContext:
    """Verify the broker (its CA, or the system's) and its host name; present a client certificate if configured."""
    try:
        context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
        if tls.cert_file is not None and tls.key_file is not None:
            context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
    except (OSError, ssl.SSLError) as e:
        raise RoomctlError(f"cannot load the MQTT TLS files: {e}") from e
    return context


def default_client_factory(client_id: str) -> RoomClient:
    return RoomClient(client_id)


def _describe_os_error(e: BaseException, where: str) -> str:
    if isinstance(e, ssl.SSLCertVerificationError):
        return f"TLS: the broker's certificate is not trusted ({e.verify_message}); check mqtt.tls.ca_file"
    if isinstance(e, ssl.SSLError):
        return f"TLS handshake with {where} failed ({e.reason or e})"
    if isinstance(e, ConnectionRefusedError):
        return f"{where} refused the connection (is the broker running and listening there?)"
    if isinstance(e, socket.gaierror):
        return f"cannot find the broker host in {where} ({e.strerror})"
    if isinstance(e, TimeoutError):
        return f"no answer from {where}"
    if isinstance(e, OSError):
        return f"cannot reach {where} ({e.strerror or e})"
    return f"cannot connect to {where} ({e})"


def describe_reason(rc: ReasonCode) -> str:
    name = rc.getName()
    if rc.value == 0x86:
        return "the broker rejected the username or password (check mqtt.credentials_file)"
    if rc.value == 0x87:
        return "the broker refused this client as not authorised (check the username and password in mqtt.credentials_file)"
    return f"the broker refused the connection: {name}"


_REFUSAL_ADVICE = {
    "not authorized": "check the room's broker user and the ACL",
    "quota exceeded": "check the broker's limits for this client",
    "topic name invalid": "check mqtt.topic_prefix and the room's site and room ids",
    "packet too large": "check the broker's message_size_limit",
    "payload format invalid": "check the broker's configuration",
}


def refusal_text(reason: str) -> str:
    """A broker's PUBACK failure reason (paho's name for it, e.g. "Not authorized") in words, with what to check."""
    what = reason.strip().lower() or "no reason given"
    advice = _REFUSAL_ADVICE.get(what, "check the broker's log and the ACL")
    return f"the broker refuses this room's messages: {what} — {advice}"


class Connection:
    """A connected client. Callbacks run on the loop: ``on_acks(mids, ok, reason)``, ``on_message(msg)``."""

    def __init__(self, client: RoomClient, where: str) -> None:
        self.client = client
        self.where = where
        self.lost = asyncio.Event()
        self.lost_reason = ""
        self.on_acks: Callable[[list[int], bool, str], None] = lambda mids, ok, reason: None
        self.on_message: Callable[[mqtt.MQTTMessage], None] = lambda msg: None
        self.subscribed = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._driver = LoopDriver(client, self._loop)
        self._connack: asyncio.Future[None] = self._loop.create_future()
        self._waiters: dict[int, asyncio.Future[bool]] = {}
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_acks = self._on_acks
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe

    @classmethod
    async def open(
        cls, config: BrokerConfig, client: RoomClient, *, will_topic: str | None, ssl_context: ssl.SSLContext | None,
        credentials: tuple[str, str] | None,
    ) -> Connection:  # fmt: skip
        """Connect; ``will_topic`` gets the retained last will ``offline`` (None: a reader, which has no will)."""
        where = f"broker {config.host}:{config.port}"
        conn = cls(client, where)
        if will_topic is not None:
            client.will_set(will_topic, "offline", qos=1, retain=True)
        if credentials is not None:
            client.username_pw_set(*credentials)
        if ssl_context is not None:
            client.tls_set_context(ssl_context)
        try:
            try:
                await asyncio.to_thread(client.connect, config.host, config.port, config.keepalive_s)
            except (OSError, ValueError) as e:
                raise BrokerUnavailable(_describe_os_error(e, where)) from e
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT_S):
                    await asyncio.shield(conn._connack)
            except TimeoutError as e:
                raise BrokerUnavailable(f"{where} accepted the connection but did not answer MQTT") from e
        except BaseException:
            conn.close()
            raise
        return conn

    # paho callbacks, on the loop's thread; kept exception-proof
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: ReasonCode, props: Any) -> None:
        if self._connack.done():
            return
        if rc.is_failure:
            self._connack.set_exception(BrokerUnavailable(describe_reason(rc)))
        else:
            self._connack.set_result(None)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: ReasonCode, props: Any) -> None:
        reason = rc.getName() if rc.value != 0 else "closed"
        self.lost_reason = self.lost_reason or f"connection to {self.where} lost ({reason})"
        if not self._connack.done():
            self._connack.set_exception(BrokerUnavailable(f"{self.where} closed the connection ({reason})"))
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_result(False)
        self.lost.set()

    def _on_acks(self, mids: list[int], ok: bool, reason: str) -> None:
        if self._waiters:  # publish_confirmed's (goodbyes): answered here, not passed on
            waited = [mid for mid in mids if mid in self._waiters]
            for mid in waited:
                waiter = self._waiters.pop(mid)
                if not waiter.done():
                    waiter.set_result(ok)
            if waited:
                mids = [mid for mid in mids if mid not in waited]
                if not mids:
                    return
        try:
            self.on_acks(mids, ok, reason)
        except Exception:
            log.exception("MQTT acknowledgement handling failed")

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, rcs: list[ReasonCode], props: Any) -> None:
        if all(not rc.is_failure for rc in rcs):
            self.subscribed.set()
        else:
            log.error("MQTT: the broker refused the subscription to commands (%s); check its ACL", rcs[0].getName())

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self.on_message(msg)
        except Exception:
            log.exception("MQTT message handling failed")

    # use
    def publish(self, topic: str, payload: bytes, *, retain: bool, properties: Properties | None = None) -> int:
        """Queue one QoS 1 message; returns its mid. Raises :class:`BrokerUnavailable` without a connection and
        ValueError for a topic MQTT cannot carry."""
        try:
            return self.client.publish_qos1(topic, payload, retain=retain, properties=properties)
        except ConnectionError as e:
            raise BrokerUnavailable(f"cannot publish to {self.where}: the connection is gone") from e

    async def publish_and_wait(self, topic: str, payload: bytes, *, retain: bool, within_s: float) -> bool:
        """Publish and wait for the broker's acknowledgement (for goodbyes); False if it did not come."""
        try:
            return await self.publish_confirmed(topic, payload, retain=retain, within_s=within_s)
        except BrokerUnavailable:
            return False

    async def publish_confirmed(
        self, topic: str, payload: bytes, *, retain: bool, within_s: float, properties: Properties | None = None
    ) -> bool:
        """Publish and wait for the broker's acknowledgement; False if it did not come within ``within_s``.
        Raises :class:`BrokerUnavailable` when paho cannot take it (its queue is full, or no connection)."""
        mid = self.publish(topic, payload, retain=retain, properties=properties)
        waiter = self._loop.create_future()
        self._waiters[mid] = waiter
        done, _ = await asyncio.wait({waiter}, timeout=within_s)
        if not done:
            self._waiters.pop(mid, None)
        return bool(done) and waiter.result()

    def subscribe(self, topic: str, qos: int = 1) -> None:
        self.client.subscribe(topic, options=SubscribeOptions(qos=qos, noLocal=True, retainAsPublished=True))

    async def disconnect(self, within_s: float) -> None:
        """End the connection politely (no last will), waiting at most ``within_s`` seconds."""
        if self.client.is_connected():
            self.client.disconnect()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within_s):
                    await self.lost.wait()

    def close(self) -> None:
        self._driver.close()
        if not self._connack.done():
            self._connack.cancel()
        elif not self._connack.cancelled():
            self._connack.exception()  # retrieved: no "never retrieved" warning
        self.lost.set()

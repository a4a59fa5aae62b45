"""Credentials, TLS: clear errors, retries with backoff, no crash; the hub hears the broker is unreachable."""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest

from roomctl.config import TlsConfig
from roomctl.errors import RoomctlError
from roomctl.hub import Hub
from roomctl.mqtt.connection import read_credentials
from roomctl.mqtt.publisher import MqttPublisher
from tests.mqtt.broker import Broker
from tests.mqtt.conftest import Subscribe, broker_tls
from tests.mqtt.events import reading
from tests.mqtt.helpers import ROOM, ROOT, credentials_file, mqtt_config, running
from tests.mqtt.memory_outbox import MemoryOutbox


class LogWatch(logging.Handler):
    """Wakes the test at every log line of the publisher (logged on the loop's thread)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.changed.set()

    async def wait_for(self, text: str, count: int) -> list[str]:
        async with asyncio.timeout(20):
            while len(found := [line for line in self.lines if text in line]) < count:
                self.changed.clear()
                await self.changed.wait()
        return found


async def wait_health(hub: Hub, ok: bool) -> str:
    since = 0
    async with asyncio.timeout(20):
        while (health := hub.state.health.get("mqtt")) is None or health.ok is not ok:
            since = await hub.wait_changed(since)
    return health.detail


async def test_wrong_password_is_a_clear_error_retried_with_backoff(
    start_broker: Callable[..., Broker],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    hub: Hub,
) -> None:
    broker = start_broker(users={"room": "right-secret"})
    outbox = MemoryOutbox()
    outbox.add(reading(1))
    config = mqtt_config(broker.port, credentials_file=credentials_file(tmp_path, "room", "wrong-secret"),
                         reconnect_min_s=0.05, reconnect_max_s=0.4)  # fmt: skip
    caplog.set_level(logging.WARNING, logger="roomctl.mqtt")
    watch = LogWatch()
    logging.getLogger("roomctl.mqtt").addHandler(watch)
    async with running(config, outbox, hub) as publisher:
        detail = await wait_health(hub, ok=False)
        # mosquitto answers a wrong password with "not authorised" (0x87); others say "bad user name or password"
        assert "mqtt.credentials_file" in detail
        assert detail.startswith(
            ("the broker refused this client as not authorised", "the broker rejected the username")
        )
        attempts = await watch.wait_for("next attempt in", 5)
        delays = [float(re.search(r"next attempt in ([\d.]+) s", a)[1]) for a in attempts]  # type: ignore[index]
        assert delays[:5] == [0.05, 0.1, 0.2, 0.4, 0.4]  # doubling, capped at reconnect_max_s
        assert publisher.stats.connects == 0
        assert 1 in outbox.unsent  # the reading waits in the outbox
    logging.getLogger("roomctl.mqtt").removeHandler(watch)
    assert "wrong-secret" not in caplog.text


def test_credentials_file_problems_are_clear(tmp_path: Path) -> None:
    one_line = tmp_path / "creds"
    one_line.write_text("only-a-user\n")
    with pytest.raises(RoomctlError, match="must have two lines: the username, then the password"):
        read_credentials(one_line)
    with pytest.raises(RoomctlError, match="cannot read the MQTT credentials file"):
        read_credentials(tmp_path / "missing")


async def test_right_password_connects(start_broker: Callable[..., Broker], tmp_path: Path, hub: Hub) -> None:
    broker = start_broker(users={"room": "right-secret"})
    outbox = MemoryOutbox()
    outbox.add(reading(1))
    config = mqtt_config(broker.port, credentials_file=credentials_file(tmp_path, "room", "right-secret"))
    async with running(config, outbox, hub):
        await asyncio.wait_for(outbox.wait_all_sent(), 20)
        assert await wait_health(hub, ok=True) == f"connected to broker 127.0.0.1:{broker.port}"


def client_tls(pki: dict[str, Path], ca: str = "ca", client_cert: bool = False) -> TlsConfig:
    if client_cert:
        return TlsConfig(ca_file=pki[ca], cert_file=pki["client_cert"], key_file=pki["client_key"])
    return TlsConfig(ca_file=pki[ca])


@pytest.mark.parametrize("mutual", [False, True], ids=["server-auth", "mutual-tls"])
async def test_tls_with_the_test_ca_works(
    start_broker: Callable[..., Broker],
    pki: dict[str, Path],
    subscribe: Subscribe,
    mutual: bool,
    hub: Hub,
) -> None:
    broker = start_broker(tls=broker_tls(pki, require_certificate=mutual))
    sub_ctx = ssl.create_default_context(cafile=str(pki["ca"]))
    if mutual:
        sub_ctx.load_cert_chain(str(pki["client_cert"]), str(pki["client_key"]))
    sub = await subscribe(broker.port, (f"{ROOT}/vitals/#",), tls=sub_ctx)
    outbox = MemoryOutbox()
    outbox.add(reading(1, value=64.0))
    async with running(mqtt_config(broker.port, tls=client_tls(pki, client_cert=mutual)), outbox, hub):
        got = await sub.wait_for(lambda ms: len(ms) >= 1)
    assert got[0].json()["value"] == 64.0


async def test_tls_with_a_wrong_ca_is_refused(
    start_broker: Callable[..., Broker], pki: dict[str, Path], hub: Hub
) -> None:
    broker = start_broker(tls=broker_tls(pki))
    outbox = MemoryOutbox()
    outbox.add(reading(1))
    async with running(mqtt_config(broker.port, tls=client_tls(pki, ca="other_ca")), outbox, hub) as publisher:
        detail = await wait_health(hub, ok=False)
        assert detail.startswith("TLS: the broker's certificate is not trusted")
        assert "check mqtt.tls.ca_file" in detail
        assert publisher.stats.connects == 0
    assert 1 in outbox.unsent  # the reading waits in the outbox


async def test_mutual_tls_without_a_client_certificate_is_refused(
    start_broker: Callable[..., Broker],
    pki: dict[str, Path],
    hub: Hub,
) -> None:
    broker = start_broker(tls=broker_tls(pki, require_certificate=True))
    outbox = MemoryOutbox()
    outbox.add(reading(1))
    async with running(mqtt_config(broker.port, tls=client_tls(pki)), outbox, hub):
        detail = await wait_health(hub, ok=False)
    assert "certificate" in detail or "closed the connection" in detail, detail
    assert 1 in outbox.unsent  # the reading waits in the outbox


def test_broken_tls_files_are_a_clear_error(tmp_path: Path, pki: dict[str, Path], hub: Hub) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(RoomctlError, match="cannot load the MQTT TLS files"):
        MqttPublisher(mqtt_config(1883, tls=TlsConfig(ca_file=garbage)), ROOM, MemoryOutbox(), hub)

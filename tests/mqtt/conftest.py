"""Fixtures on top of the root ones (``broker``, ``start_broker``): subscribers, TLS files, the shipped schemas."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.mqtt.broker import Tls, make_ca, make_cert
from tests.mqtt.subscriber import Subscriber

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "mqtt"


@pytest.fixture
async def subscribers() -> AsyncIterator[list[Subscriber]]:
    """Append subscribers here; they are closed after the test."""
    subs: list[Subscriber] = []
    yield subs
    for sub in subs:
        sub.close()


Subscribe = Callable[..., Awaitable[Subscriber]]


@pytest.fixture
def subscribe(subscribers: list[Subscriber]) -> Subscribe:
    """``await subscribe(port, topics, **options)``: a :class:`Subscriber` whose subscription the broker has
    acknowledged; closed after the test."""

    async def start(port: int, topics: Sequence[str], **options: Any) -> Subscriber:
        sub = Subscriber(port, topics, **options)
        subscribers.append(sub)
        await sub.wait_subscribed()
        return sub

    return start


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A test CA with a server and a client certificate, and an unrelated CA."""
    d = tmp_path_factory.mktemp("pki")
    ca = make_ca(d, "test-ca")
    other = make_ca(d, "other-ca")
    server = make_cert(d, "server", ca, server=True)
    client = make_cert(d, "client", ca, server=False)
    return {
        "ca": ca[0],
        "other_ca": other[0],
        "server_cert": server[0],
        "server_key": server[1],
        "client_cert": client[0],
        "client_key": client[1],
    }


def broker_tls(pki: dict[str, Path], *, require_certificate: bool = False) -> Tls:
    return Tls(pki["ca"], pki["server_cert"], pki["server_key"], require_certificate)


@pytest.fixture(scope="session")
def shipped_schemas() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(SCHEMA_DIR.glob("*.json"))}

"""Suite-wide test settings.

Privacy: coach never talks to the network. Every test runs with IP sockets blocked (connect, DNS look-ups);
the virtual strap runs on bumble's in-process link, and asyncio's self-pipe uses AF_UNIX socketpairs, so neither
needs the network. A test that tries to reach one fails with ``NetworkBlocked``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realdata import DATA


class NetworkBlocked(RuntimeError):
    pass


def _is_ip(family: int) -> bool:
    return family in (socket.AF_INET, socket.AF_INET6)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guard(sock: socket.socket, address: object) -> None:
        if _is_ip(sock.family):
            raise NetworkBlocked(f"network access attempted in a test: {address!r}")

    def connect(self: socket.socket, address: object) -> None:
        guard(self, address)
        return real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        guard(self, address)
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        raise NetworkBlocked(f"DNS look-up attempted in a test: {host!r}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield


@pytest.fixture
def data_dir() -> Path:
    """The committed real recordings (tests/data; provenance and licences in tests/data/README.md)."""
    return DATA


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis without its per-example deadline (200 ms of wall time by default), suite-wide: a busy machine
    must not fail a test. Each test keeps its own example budget (bench/RESULTS.md counts them)."""
    from hypothesis import settings

    settings.register_profile("coach", deadline=None)
    settings.load_profile("coach")

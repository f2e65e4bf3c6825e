"""The suite itself enforces "no network": the guard in conftest must really block IP sockets."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import NetworkBlocked


def test_ip_connect_is_blocked() -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkBlocked):
            s.connect(("127.0.0.1", 9))
    finally:
        s.close()


def test_dns_is_blocked() -> None:
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("example.org", 80)


def test_unix_socketpair_still_works() -> None:
    a, b = socket.socketpair()
    try:
        a.sendall(b"x")
        assert b.recv(1) == b"x"
    finally:
        a.close()
        b.close()


def test_no_module_imports_a_network_client() -> None:
    """No production module imports an HTTP/network client library."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    banned = (
        "import requests",
        "import urllib.request",
        "import http.client",
        "import httpx",
        "import aiohttp",
    )
    offenders = [
        str(p.relative_to(root))
        for pkg in ("coach", "sensors")
        for p in (root / pkg).rglob("*.py")
        if any(b in p.read_text(encoding="utf-8") for b in banned)
    ]
    assert offenders == []

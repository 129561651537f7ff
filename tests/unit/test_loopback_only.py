"""The loopback-only guard of tests/conftest.py is in force for every test."""

from __future__ import annotations

import socket

import pytest


def test_a_connection_outside_loopback_is_refused_before_it_is_attempted() -> None:
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="loopback"):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never routable, refused by the guard first


def test_loopback_connections_are_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass

"""Shared fixtures live in tests/fixtures/<area>.py; this list registers them for every test.

Every test talks only to loopback addresses: an audit hook refuses any other connection made from the
test process (the SDKs, azure-identity, kubernetes, kopf and aiohttp all connect through `socket`), so a
stray default endpoint fails the test instead of reaching out.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from typing import Any

pytest_plugins = [
    "fixtures.emulator",
    "fixtures.kube",
    "fixtures.kube_world",
    "fixtures.crds",
    "fixtures.azure_layer",
    "fixtures.cluster_world",
    "fixtures.cli",
]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _loopback_only(event: str, args: tuple[Any, ...]) -> None:
    if event != "socket.connect":
        return
    sock, address = args
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(str(address[0])):
        raise ConnectionRefusedError(f"tests may only connect to loopback addresses, not {address[0]}")


sys.addaudithook(_loopback_only)

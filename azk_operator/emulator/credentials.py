"""Token credentials that hand out the emulator's static test token (sync and async)."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from azure.core.credentials import AccessToken

from azk_operator.emulator.identity import STATIC_TEST_TOKEN


class EmulatorCredential:
    """A ``TokenCredential`` for SDK clients pointed at the emulator."""

    def __init__(self, token: str = STATIC_TEST_TOKEN) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)

    def close(self) -> None:
        return None


class AsyncEmulatorCredential:
    """An ``AsyncTokenCredential`` for ``.aio`` SDK clients pointed at the emulator."""

    def __init__(self, token: str = STATIC_TEST_TOKEN) -> None:
        self._token = token

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> AsyncEmulatorCredential:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

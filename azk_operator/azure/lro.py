"""Long-running operations without waiting for them.

azure-core's pollers are built to ``await poller.result()`` until the operation ends. azk instead starts an
operation, keeps its continuation token and, on every later reconcile, advances it by at most one status
request. ``StepPolling`` is the SDK's own ARM polling with one change: where the SDK would sleep before the
next status request, it stops and reports how long Azure asked us to wait.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from azure.core.polling import AsyncLROPoller
from azure.mgmt.core.polling.async_arm_polling import AsyncARMPolling

from azk_operator.azure.errors import parse_retry_after

T = TypeVar("T")


def compact_token(token: str) -> str:
    """The SDK's continuation token without the initial response body (which it stores twice).

    The body is not needed to resume ARM polling (status URLs and the final GET come from the headers and
    the request), and without it a token is well under 1 KB instead of tens of KB: small enough for a
    Kubernetes status. A token in any other shape is returned unchanged.
    """
    try:
        state = json.loads(base64.b64decode(token, validate=True))
        data = state["data"]
        data["response"]["content"] = ""
        data.setdefault("context", {})["deserialized_data"] = None
    except (binascii.Error, ValueError, KeyError, TypeError):
        return token
    return base64.b64encode(json.dumps(state, separators=(",", ":")).encode()).decode("ascii")


class _NotFinishedError(Exception):
    def __init__(self, delay: float) -> None:
        super().__init__(f"operation still running; poll again in {delay:.2f}s")
        self.delay = delay


class StepPolling(AsyncARMPolling):
    """ARM polling that never sleeps: ``run()`` sends at most one status request (plus the final GET)."""

    def next_delay(self) -> float:
        """Azure's hint from the last response (the precise ``retry-after-ms`` first), else the interval.

        azure-core would prefer the integer ``Retry-After``, which rounds a 2.9 s wait down to 2 s.
        """
        delay = parse_retry_after(self._pipeline_response.http_response.headers)
        return float(self._timeout) if delay is None else delay

    async def _delay(self) -> None:
        raise _NotFinishedError(self.next_delay())


@dataclass(frozen=True)
class Pending:
    token: str
    retry_after: float


@dataclass(frozen=True)
class Finished(Generic[T]):
    value: T


Begin = Callable[[StepPolling], Awaitable[AsyncLROPoller[T]]]


class Lro:
    """Starts and advances operations for clients pointed at ``endpoint`` (the ARM base URL)."""

    def __init__(self, endpoint: str, polling_interval: float) -> None:
        self._endpoint = endpoint
        self.interval = polling_interval

    def polling(self) -> StepPolling:
        # The generated begin_* methods build exactly this (interval + endpoint for relative status links).
        return StepPolling(self.interval, path_format_arguments={"endpoint": self._endpoint})

    async def start(self, begin: Begin[T]) -> Pending | Finished[T]:
        """Send the initial request; a synchronous answer finishes here, anything else is ``Pending``.

        No status request is sent right away: Azure has just told us how long to wait.
        """
        polling = self.polling()
        poller = await begin(polling)
        if polling.finished():
            return Finished(await poller.result())
        return Pending(compact_token(poller.continuation_token()), polling.next_delay())

    async def advance(self, begin: Begin[T]) -> Pending | Finished[T]:
        """Resume from a token (``begin`` passes ``continuation_token=``) and poll once.

        Raises the SDK's ``HttpResponseError`` when the operation failed (its ``error`` carries Azure's code
        and message) and ``ValueError`` when the token cannot be decoded.
        """
        polling = self.polling()
        poller = await begin(polling)
        token = compact_token(poller.continuation_token())
        try:
            value = await poller.result()
        except _NotFinishedError as pending:
            return Pending(token, pending.delay)
        return Finished(value)

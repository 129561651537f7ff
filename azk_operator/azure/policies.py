"""azure-core pipeline policies added to every azk client: back-off gate, accounting, retry tuning.

Order inside the retry loop (per-retry policies): ``ThrottleGatePolicy`` → ``AccountingPolicy`` → auth →
transport. So a request the gate holds back is neither sent nor counted, and every attempt that reaches the
wire is counted once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import AsyncHTTPPolicy, AsyncRetryPolicy

from azk_operator.azure.accounting import RequestAccounting
from azk_operator.azure.errors import DEFAULT_THROTTLE_DELAY_S, LocallyThrottledError, parse_retry_after

# azure-core may sleep inside a call only for short waits; longer ones go back to the caller as "retry later".
MAX_INLINE_RETRY_WAIT_S = 2.0
# Present on compute's answers when a per-resource policy (e.g. updates per scale set) applied.
RESOURCE_LIMIT_HEADER = "x-ms-ratelimit-remaining-resource"


def throttle_scopes(url: str) -> tuple[str, ...]:
    """The back-off scopes a request falls in: its subscription, plus its VM scale set for compute calls.

    ARM throttles per subscription and principal; compute additionally limits updates per scale set, so a
    429 on one scale set must not stall everything else.
    """
    segments = [segment.lower() for segment in urlsplit(url).path.split("/") if segment]
    scopes: list[str] = []
    if len(segments) >= 2 and segments[0] == "subscriptions":
        scopes.append(f"subscription:{segments[1]}")
    if "virtualmachinescalesets" in segments:
        index = segments.index("virtualmachinescalesets")
        if index + 1 < len(segments):
            scopes.append(f"{scopes[0] if scopes else ''}/vmss:{segments[index + 1]}")
    return tuple(scopes) or ("global",)


class ThrottleGate:
    """Remembers, per scope, until when Azure asked us not to send anything.

    After a 429 (or a 503 with ``Retry-After``) every request in that scope fails fast with
    ``LocallyThrottledError`` until the time has passed: the caller reports "retry later" instead of
    blocking, and Azure sees no request before the ``Retry-After`` it gave.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._closed_until: dict[str, float] = {}

    def remaining(self, scopes: tuple[str, ...]) -> float:
        now = self._clock()
        with self._lock:
            return max([self._closed_until.get(scope, now) - now for scope in scopes] + [0.0])

    def close(self, scope: str, seconds: float) -> None:
        until = self._clock() + seconds
        with self._lock:
            self._closed_until[scope] = max(until, self._closed_until.get(scope, until))


class ThrottleGatePolicy(AsyncHTTPPolicy[Any, Any]):
    def __init__(self, gate: ThrottleGate) -> None:
        super().__init__()
        self._gate = gate

    async def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        scopes = throttle_scopes(request.http_request.url)
        wait = self._gate.remaining(scopes)
        if wait > 0:
            raise LocallyThrottledError(wait)
        response = await self.next.send(request)
        status = response.http_response.status_code
        headers = _lower_keys(response.http_response.headers)
        if status == 429 or (status == 503 and "retry-after" in headers):
            delay = (
                parse_retry_after(response.http_response.headers, longest=True) or DEFAULT_THROTTLE_DELAY_S
            )
            # A resource-level limit (compute names it in x-ms-ratelimit-remaining-resource) closes only the
            # scale set; anything else is the subscription's limit and closes the whole subscription.
            resource_limited = status == 429 and RESOURCE_LIMIT_HEADER in headers
            self._gate.close(scopes[-1] if resource_limited else scopes[0], delay)
        return response


class AccountingPolicy(AsyncHTTPPolicy[Any, Any]):
    def __init__(self, accounting: RequestAccounting) -> None:
        super().__init__()
        self._accounting = accounting

    async def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        method, url = request.http_request.method, request.http_request.url
        try:
            response = await self.next.send(request)
        except Exception:
            self._accounting.record(method, url, None)
            raise
        self._accounting.record(method, url, response.http_response.status_code)
        return response


class AzkRetryPolicy(AsyncRetryPolicy):  # type: ignore[type-arg]
    """azure-core's retry, minus the waits a handler must not spend inside one call.

    429s are never retried here (the gate and the caller handle them), nor anything whose ``Retry-After``
    exceeds ``MAX_INLINE_RETRY_WAIT_S``; connection errors and 5xx blips still get quick retries.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("retry_total", 3)
        kwargs.setdefault("retry_backoff_factor", 0.2)
        kwargs.setdefault("retry_backoff_max", MAX_INLINE_RETRY_WAIT_S)
        super().__init__(**kwargs)

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        http_response = response.http_response
        if http_response.status_code == 429:
            return False
        delay = parse_retry_after(http_response.headers, longest=True)
        if delay is not None and delay > MAX_INLINE_RETRY_WAIT_S:
            return False
        return bool(super().is_retry(settings, response))


def _lower_keys(headers: Any) -> set[str]:
    return {str(key).lower() for key in headers}

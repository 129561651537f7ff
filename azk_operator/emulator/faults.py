"""Fault injection: answers, delays and failed operations that tests ask for."""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

_DEFAULT_CODES = {
    400: "BadRequest",
    404: "NotFound",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


@dataclass
class FaultRule:
    """Matches requests by method (``*`` for any) and a case-insensitive path regex.

    With ``status`` set the request is answered with that status (and ``retry_after`` seconds or
    ``retry_after_ms``) instead of reaching ARM; ``latency_ms`` delays it either way. ``count`` limits how
    many requests the rule hits; ``probability`` with ``seed`` makes hits reproducible random draws.
    """

    path: str = ".*"
    method: str = "*"
    status: int | None = None
    code: str | None = None
    message: str = "Injected fault"
    body: dict[str, Any] | None = None
    retry_after: int | None = None
    retry_after_ms: int | None = None
    latency_ms: int = 0
    count: int | None = None
    probability: float = 1.0
    seed: int | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    hits: int = 0

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path, re.IGNORECASE)
        self._random = random.Random(self.seed)  # noqa: S311 - reproducible test draws, not secrets

    def matches(self, method: str, path: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        if not self._pattern.search(path):
            return False
        return self.probability >= 1.0 or self._random.random() < self.probability

    def consume(self) -> None:
        self.hits += 1
        if self.count is not None:
            self.count -= 1

    def response_body(self) -> dict[str, Any]:
        if self.body is not None:
            return self.body
        code = self.code or _DEFAULT_CODES.get(self.status or 500, "InjectedFault")
        return {"error": {"code": code, "message": self.message}}

    def response_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.retry_after_ms is not None:
            headers["retry-after-ms"] = str(self.retry_after_ms)
        return headers

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if not key.startswith("_")}


@dataclass
class OperationFault:
    """The next ``count`` operations whose target matches ``path`` end Failed with ``code``."""

    code: str
    message: str = "Injected operation failure"
    path: str = ".*"
    count: int = 1
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def take(self, target: str) -> dict[str, str] | None:
        if self.count <= 0 or not re.search(self.path, target, re.IGNORECASE):
            return None
        self.count -= 1
        return {"code": self.code, "message": self.message}


class FaultBook:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.operation_faults: list[OperationFault] = []

    def match(self, method: str, path: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.matches(method, path):
                rule.consume()
                return rule
        return None

    def operation_failure(self, target: str) -> dict[str, str] | None:
        for fault in self.operation_faults:
            error = fault.take(target)
            if error is not None:
                return error
        return None

    def remove(self, fault_id: str) -> bool:
        before = len(self.rules) + len(self.operation_faults)
        self.rules = [rule for rule in self.rules if rule.id != fault_id]
        self.operation_faults = [fault for fault in self.operation_faults if fault.id != fault_id]
        return len(self.rules) + len(self.operation_faults) != before

    def clear(self) -> None:
        self.rules.clear()
        self.operation_faults.clear()

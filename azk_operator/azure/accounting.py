"""Counters of the requests azk sends to Azure, by category, resource type and outcome.

Every request that reaches the wire is counted once (retries included), so the figures match what ARM's
throttling buckets see. Reads are GET/HEAD (status polls included), writes PUT/PATCH/POST, deletes DELETE.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

Category = Literal["read", "write", "delete"]


def category_of(method: str) -> Category:
    method = method.upper()
    if method in ("GET", "HEAD"):
        return "read"
    if method == "DELETE":
        return "delete"
    return "write"


def resource_type_of(url: str, method: str = "GET") -> str:
    """Lower-case ARM type of the resource a URL addresses (``microsoft.network/virtualnetworks/subnets``).

    Only the part after the last ``/providers/`` counts: ``<namespace>/<type>/<name>/<type>/<name>…``; a
    trailing segment without a name is a collection (GET of a list) or, for POST, an action on the resource.
    """
    segments = [segment for segment in urlsplit(url).path.split("/") if segment]
    lowered = [segment.lower() for segment in segments]
    if "providers" in lowered:
        start = len(lowered) - 1 - lowered[::-1].index("providers")
        rest = lowered[start + 1 :]
        if not rest:
            return "unknown"
        types = rest[1::2]
        if method.upper() == "POST" and len(rest) % 2 == 0:
            types = types[:-1]
        return "/".join([rest[0], *types]) if types else rest[0]
    if "resourcegroups" in lowered:
        return "microsoft.resources/resourcegroups"
    if lowered[:1] == ["subscriptions"]:
        return "microsoft.resources/subscriptions"
    return "unknown"


def outcome_of(status: int | None) -> str:
    if status is None:
        return "connection_error"
    if status < 400:
        return "success"
    if status == 404:
        return "not_found"
    if status == 429:
        return "throttled"
    if status < 500:
        return "client_error"
    return "server_error"


@dataclass(frozen=True)
class RequestKey:
    category: Category
    resource_type: str
    outcome: str


@dataclass(frozen=True)
class AccountingSnapshot:
    """An immutable copy of the counters; subtract two snapshots to see what happened in between."""

    counts: dict[RequestKey, int] = field(default_factory=dict)

    def count(
        self, category: Category | None = None, resource_type: str | None = None, outcome: str | None = None
    ) -> int:
        return sum(
            value
            for key, value in self.counts.items()
            if (category is None or key.category == category)
            and (resource_type is None or key.resource_type == resource_type.lower())
            and (outcome is None or key.outcome == outcome)
        )

    def __sub__(self, earlier: AccountingSnapshot) -> AccountingSnapshot:
        diff = {key: value - earlier.counts.get(key, 0) for key, value in self.counts.items()}
        return AccountingSnapshot({key: value for key, value in diff.items() if value})

    def __iter__(self) -> Iterator[tuple[RequestKey, int]]:
        return iter(sorted(self.counts.items(), key=lambda item: (item[0].category, item[0].resource_type)))


class RequestAccounting:
    """Thread-safe counters shared by every client of one ``AzureClientFactory``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[RequestKey] = Counter()

    def record(self, method: str, url: str, status: int | None) -> None:
        key = RequestKey(category_of(method), resource_type_of(url, method), outcome_of(status))
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> AccountingSnapshot:
        with self._lock:
            return AccountingSnapshot(dict(self._counts))

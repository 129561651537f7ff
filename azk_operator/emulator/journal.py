"""The request journal and per-type counters the control API exposes."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

_JOURNAL_SIZE = 100_000


@dataclass(frozen=True)
class JournalEntry:
    time: float
    method: str
    path: str
    api_version: str | None
    client_request_id: str | None
    status: int
    resource_type: str
    kind: str  # read, write or delete


def request_kind(method: str) -> str:
    method = method.upper()
    if method in ("GET", "HEAD"):
        return "read"
    if method == "DELETE":
        return "delete"
    return "write"


class Journal:
    def __init__(self) -> None:
        self.entries: deque[JournalEntry] = deque(maxlen=_JOURNAL_SIZE)
        self.counters: dict[str, dict[str, int]] = {}

    def record(
        self,
        *,
        method: str,
        path: str,
        api_version: str | None,
        client_request_id: str | None,
        status: int,
        resource_type: str,
        kind: str,
    ) -> None:
        self.entries.append(
            JournalEntry(
                time.time(), method, path, api_version, client_request_id, status, resource_type, kind
            )
        )
        per_type = self.counters.setdefault(resource_type, {"read": 0, "write": 0, "delete": 0})
        per_type[kind] = per_type.get(kind, 0) + 1

    def to_json(self) -> list[dict[str, Any]]:
        return [asdict(entry) for entry in self.entries]

    def clear(self) -> None:
        self.entries.clear()
        self.counters.clear()

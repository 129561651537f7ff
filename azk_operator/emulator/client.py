"""``EmulatorControl``: a small blocking client of the ``/_emulator/`` control API.

Use it from tests, benchmarks and scripts (any thread except the emulator's own event loop).
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class InventoryItem:
    id: str
    type: str
    name: str
    location: str | None
    tags: dict[str, str]
    provisioning_state: str | None


@dataclass(frozen=True)
class JournalRecord:
    time: float
    method: str
    path: str
    api_version: str | None
    client_request_id: str | None
    status: int
    resource_type: str
    kind: str


class EmulatorControlError(RuntimeError):
    pass


class EmulatorControl:
    def __init__(self, endpoint: str, ca: Path | str, timeout: float = 10.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._context = ssl.create_default_context(cafile=str(ca))
        self._timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - the URL is the emulator's own https endpoint
            f"{self.endpoint}/_emulator/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        try:
            with urllib.request.urlopen(request, context=self._context, timeout=self._timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as err:
            raise EmulatorControlError(
                f"{method} /_emulator/{path}: {err.code} {err.read().decode()}"
            ) from err
        return json.loads(raw) if raw else None

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "health")
        return result

    def inventory(self, resource_type: str | None = None) -> list[InventoryItem]:
        query = f"?type={resource_type}" if resource_type else ""
        return [
            InventoryItem(
                id=item["id"],
                type=item["type"],
                name=item["name"],
                location=item.get("location"),
                tags=item.get("tags") or {},
                provisioning_state=item.get("provisioningState"),
            )
            for item in self._call("GET", f"inventory{query}")["resources"]
        ]

    def journal(self) -> list[JournalRecord]:
        return [JournalRecord(**entry) for entry in self._call("GET", "journal")["entries"]]

    def counters(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = self._call("GET", "counters")["counters"]
        return result

    def operations(self) -> list[dict[str, Any]]:
        """Operations still in progress."""
        result: list[dict[str, Any]] = self._call("GET", "operations")["operations"]
        return result

    def inject_fault(
        self,
        path: str = ".*",
        method: str = "*",
        *,
        status: int | None = None,
        code: str | None = None,
        message: str = "Injected fault",
        body: dict[str, Any] | None = None,
        retry_after: int | None = None,
        retry_after_ms: int | None = None,
        latency_ms: int = 0,
        count: int | None = None,
        probability: float = 1.0,
        seed: int | None = None,
    ) -> str:
        """Answer matching requests with ``status`` (or only delay them by ``latency_ms``); returns the id."""
        spec = {
            "path": path,
            "method": method,
            "status": status,
            "code": code,
            "message": message,
            "body": body,
            "retry_after": retry_after,
            "retry_after_ms": retry_after_ms,
            "latency_ms": latency_ms,
            "count": count,
            "probability": probability,
            "seed": seed,
        }
        fault_id: str = self._call("POST", "faults", spec)["id"]
        return fault_id

    def fail_next_operation(
        self, code: str, message: str = "Injected operation failure", path: str = ".*", count: int = 1
    ) -> str:
        """The next ``count`` operations on resources matching ``path`` end Failed with ``code``."""
        body = {"code": code, "message": message, "path": path, "count": count}
        fault_id: str = self._call("POST", "operation-faults", body)["id"]
        return fault_id

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "faults")
        return result

    def remove_fault(self, fault_id: str) -> None:
        self._call("DELETE", f"faults/{fault_id}")

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def set_throttling(
        self,
        enabled: bool = True,
        *,
        reads: tuple[float, float] | None = None,
        writes: tuple[float, float] | None = None,
        scale_set_updates: tuple[float, float] | None = None,
    ) -> None:
        """Turn the token buckets on (ARM's limits by default) or off; a bucket is (capacity, refill/s)."""

        def spec(bucket: tuple[float, float] | None) -> dict[str, float] | None:
            return {"capacity": bucket[0], "refill_per_second": bucket[1]} if bucket else None

        self._call(
            "PUT",
            "throttling",
            {
                "enabled": enabled,
                "reads": spec(reads),
                "writes": spec(writes),
                "scale_set_updates": spec(scale_set_updates),
            },
        )

    def set_page_size(self, page_size: int) -> None:
        self._call("PUT", "config", {"page_size": page_size})

    def issue_token(self, subject: str = "azk-test") -> str:
        """A bearer token the emulator signed (as its token endpoint would issue)."""
        token: str = self._call("POST", "tokens", {"subject": subject})["access_token"]
        return token

    def persist(self) -> None:
        self._call("POST", "persist")

    def reset(self, *, resources: bool = True, journal: bool = True, faults: bool = True) -> None:
        """Forget resources, journal/counters and faults/throttling (each optional)."""
        self._call("POST", "reset", {"resources": resources, "journal": journal, "faults": faults})

"""The generic resource store: every ARM resource as a JSON body keyed by its lowercase id.

Embedded children (subnets inside a virtual network, rules inside a security group, the parts of a load
balancer) live inside their parent's body, exactly as ARM returns them; ``find_child`` resolves their ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Record:
    """One stored resource. ``body`` is what ARM serves; ``meta`` is emulator-private (customData,
    address allocations, scale-set counters) and never leaves the emulator except to boot hooks."""

    id: str
    type: str
    body: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.id.lower()

    @property
    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = self.body.setdefault("properties", {})
        return props

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "body": self.body, "meta": self.meta}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        return cls(id=data["id"], type=data["type"], body=data["body"], meta=data.get("meta", {}))


def iter_reference_ids(value: Any) -> Iterator[str]:
    """Every ``{"id": "/subscriptions/..."}`` reference anywhere inside a body."""
    if isinstance(value, dict):
        ref = value.get("id")
        if isinstance(ref, str) and ref.lower().startswith("/subscriptions/"):
            yield ref
        for key, item in value.items():
            if key != "id":
                yield from iter_reference_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_reference_ids(item)


def parent_and_child(resource_id: str) -> tuple[str, str, str] | None:
    """Split ``<parent>/<collection>/<name>`` (a child id) into its three parts."""
    parts = resource_id.rstrip("/").split("/")
    if len(parts) < 11:  # "", subscriptions, s, resourceGroups, g, providers, ns, type, name, coll, name
        return None
    return "/".join(parts[:-2]), parts[-2], parts[-1]


class ResourceStore:
    """Records by lowercase id, in insertion order (ARM lists are stable, so paging is too)."""

    def __init__(self) -> None:
        self._records: dict[str, Record] = {}

    def __len__(self) -> int:
        return len(self._records)

    def get(self, resource_id: str) -> Record | None:
        return self._records.get(resource_id.lower())

    def put(self, record: Record) -> None:
        self._records[record.key] = record

    def remove(self, resource_id: str) -> Record | None:
        return self._records.pop(resource_id.lower(), None)

    def records(self) -> list[Record]:
        return list(self._records.values())

    def under(self, prefix: str) -> list[Record]:
        """Records whose id starts with ``prefix/`` (a group's resources, a scale set's instances)."""
        low = prefix.lower().rstrip("/") + "/"
        return [rec for key, rec in self._records.items() if key.startswith(low)]

    def find_child(self, child_id: str) -> tuple[Record, dict[str, Any]] | None:
        """The parent record and the embedded child object for a child id such as a subnet's."""
        split = parent_and_child(child_id)
        if split is None:
            return None
        parent_id, collection, name = split
        parent = self.get(parent_id)
        if parent is None:
            return None
        for child in parent.properties.get(collection, []) or []:
            if isinstance(child, dict) and str(child.get("name", "")).lower() == name.lower():
                return parent, child
        return None

    def exists(self, resource_id: str) -> bool:
        return self.get(resource_id) is not None or self.find_child(resource_id) is not None

    def referrers(self, target_id: str) -> list[Record]:
        """Records (other than the target and its own descendants) that reference the target or
        anything inside it."""
        low = target_id.lower()
        found: list[Record] = []
        for key, rec in self._records.items():
            if key == low or key.startswith(low + "/"):
                continue
            for ref in iter_reference_ids(rec.body):
                ref_low = ref.lower()
                if ref_low == low or ref_low.startswith(low + "/"):
                    found.append(rec)
                    break
        return found

    def clear(self) -> None:
        self._records.clear()

    def to_json(self) -> list[dict[str, Any]]:
        return [rec.to_json() for rec in self._records.values()]

    def load_json(self, data: list[dict[str, Any]]) -> None:
        self._records = {}
        for item in data:
            self.put(Record.from_json(item))

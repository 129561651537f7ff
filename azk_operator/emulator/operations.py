"""Long-running operations: their progress, their outcome and the effects they apply when done.

An operation's effects are plain JSON (``{"kind": "remove", "id": ...}``) so a persisted operation can be
finished by a restarted emulator. Finished operations are kept (bounded), so their URLs keep answering.
"""

from __future__ import annotations

import datetime
import time
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from azk_operator.emulator.profiles import Latency

Status = Literal["InProgress", "Succeeded", "Failed"]
_KEEP_FINISHED = 50_000
UNWATCHED_GRACE_S = 5.0
"""Azure finishes an operation whether or not anyone polls it. The emulator finishes operations on
observation (deterministic for tests), and one that nobody has observed for this long after its duration
is up (a resource-group delete whose caller went away with the group) on its own."""


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Operation:
    id: str
    subscription: str
    namespace: str  # provider namespace of the URL ("Microsoft.Network"), "" for group deletes
    location: str
    method: str  # PUT, PATCH, DELETE or POST
    target: str  # the resource id the operation works on
    started: float
    polls_required: int
    seconds: float
    effects: list[dict[str, Any]] = field(default_factory=list)
    status: Status = "InProgress"
    polls: int = 0
    last_observed: float | None = None
    ended: float | None = None
    error: dict[str, str] | None = None
    fail_with: dict[str, str] | None = None  # set by "fail the next operation" faults

    def remaining(self, now: float) -> float:
        return max(0.0, self.started + self.seconds - now)

    def ready(self, now: float) -> bool:
        return self.polls >= self.polls_required and self.remaining(now) <= 0.0

    def finishes_unwatched(self, now: float) -> bool:
        due = max(self.started + self.seconds, self.last_observed or 0.0)
        return now >= due + UNWATCHED_GRACE_S

    def status_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "name": self.id, "status": self.status}
        body["startTime"] = _iso(self.started)
        if self.ended is not None:
            body["endTime"] = _iso(self.ended)
        if self.error is not None:
            body["error"] = self.error
        return body

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Operation:
        return cls(**data)


class OperationBook:
    """All operations by id, plus which in-flight operation each resource has."""

    def __init__(self) -> None:
        self._ops: OrderedDict[str, Operation] = OrderedDict()
        self._by_target: dict[str, str] = {}

    def start(
        self,
        *,
        subscription: str,
        namespace: str,
        location: str,
        method: str,
        target: str,
        latency: Latency,
        effects: list[dict[str, Any]],
    ) -> Operation:
        op = Operation(
            id=str(uuid.uuid4()),
            subscription=subscription,
            namespace=namespace,
            location=location,
            method=method,
            target=target,
            started=time.time(),
            polls_required=latency.polls,
            seconds=latency.seconds,
            effects=effects,
        )
        self._ops[op.id] = op
        self._by_target[target.lower()] = op.id
        while len(self._ops) > _KEEP_FINISHED:
            oldest = next(iter(self._ops.values()))
            if oldest.status == "InProgress":
                break
            self._ops.popitem(last=False)
        return op

    def get(self, op_id: str) -> Operation | None:
        return self._ops.get(op_id)

    def pending_for(self, target: str) -> Operation | None:
        op_id = self._by_target.get(target.lower())
        op = self._ops.get(op_id) if op_id else None
        return op if op is not None and op.status == "InProgress" else None

    def pending_under(self, prefix: str) -> list[Operation]:
        low = prefix.lower()
        return [
            op
            for op in self._ops.values()
            if op.status == "InProgress"
            and (op.target.lower() == low or op.target.lower().startswith(low + "/"))
        ]

    def finish(self, op: Operation, error: dict[str, str] | None) -> None:
        op.status = "Failed" if error else "Succeeded"
        op.error = error
        op.ended = time.time()
        if self._by_target.get(op.target.lower()) == op.id:
            del self._by_target[op.target.lower()]

    def in_flight(self) -> list[Operation]:
        return [op for op in self._ops.values() if op.status == "InProgress"]

    def to_json(self) -> list[dict[str, Any]]:
        return [op.to_json() for op in self._ops.values()]

    def load_json(self, data: list[dict[str, Any]]) -> None:
        self.clear()
        for item in data:
            op = Operation.from_json(item)
            self._ops[op.id] = op
            if op.status == "InProgress":
                self._by_target[op.target.lower()] = op.id

    def clear(self) -> None:
        self._ops.clear()
        self._by_target.clear()

"""Building a NodeSet's status during one pass: conditions, the instance list, and when to look again."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import kopf

from azk_operator.api.conditions import READY, ConditionStatus, find_condition, set_condition
from azk_operator.api.nodeset import NodeSet, NodeSetStatus
from azk_operator.api.status import PendingOperation
from azk_operator.azure.results import StepResult, StepState

SCALE_SET_READY = "ScaleSetReady"
SCALING_UP = "ScalingUp"
SCALING_DOWN = "ScalingDown"
DRAINING = "Draining"
DRAIN_BLOCKED = "DrainBlocked"
DELETING = "Deleting"
#: Conditions that only appear once they have been True: a NodeSet that is not being deleted shows no
#: Deleting. Draining and DrainBlocked are always present, so a pass that started from a body read before
#: another pass's status write can never drop them.
OPTIONAL_CONDITIONS = frozenset({DELETING})


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


@dataclass
class Pass:
    """The status one reconcile or delete pass computes, and the earliest moment it wants to run again."""

    nodeset: NodeSet
    before: NodeSetStatus
    status: NodeSetStatus
    retry_after: float | None = None
    waiting_for: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, nodeset: NodeSet) -> Pass:
        before = nodeset.status or NodeSetStatus()
        status = before.model_copy(deep=True, update={"observed_generation": nodeset.metadata.generation})
        return cls(nodeset, before, status)

    def condition(self, kind: str, status: ConditionStatus, reason: str, message: str) -> None:
        if (
            kind in OPTIONAL_CONDITIONS
            and status == "False"
            and find_condition(self.status.conditions, kind) is None
        ):
            return
        conditions = set_condition(
            self.status.conditions,
            kind,
            status,
            reason,
            message,
            now=now(),
            observed_generation=self.nodeset.metadata.generation,
        )
        self.status = self.status.model_copy(update={"conditions": conditions})

    def became(self, kind: str, status: ConditionStatus, reason: str | None = None) -> bool:
        """The condition now has `status` (and `reason`) and did not have it before this pass."""
        new = find_condition(self.status.conditions, kind)
        old = find_condition(self.before.conditions, kind)
        if new is None or new.status != status or (reason is not None and new.reason != reason):
            return False
        return old is None or old.status != new.status or old.reason != new.reason

    def wait(self, delay: float, what: str) -> None:
        self.retry_after = delay if self.retry_after is None else min(self.retry_after, delay)
        self.waiting_for.append(what)

    def step(self, kind: str, result: StepResult, ready_message: str) -> None:
        """A condition from an Azure step, and a retry when it is still in progress."""
        if result.done:
            self.condition(kind, "True", "Succeeded", ready_message)
            return
        self.condition(kind, "False", result.reason, result.message or f"{result.name}: {result.reason}")
        if result.state is StepState.IN_PROGRESS:
            self.wait(result.retry_after or 1.0, f"{result.name} ({result.reason})")

    # --- continuation tokens (an accelerator: without them the next pass falls back to a GET) ------------
    def token(self, key: str) -> str | None:
        return next((op.token for op in self.status.pending_operations if op.key == key), None)

    def keep_token(self, key: str, token: str | None) -> None:
        kept = [op for op in self.status.pending_operations if op.key != key]
        if token is not None:
            previous = next((op for op in self.status.pending_operations if op.key == key), None)
            started = previous.started_at if previous and previous.token == token else now()
            kept.append(PendingOperation(key=key, token=token, started_at=started))
        self.status = self.status.model_copy(update={"pending_operations": kept})

    # --- output -----------------------------------------------------------------------------------------
    def write(self, patch: kopf.Patch) -> None:
        """Patch status only with what changed: a converged NodeSet makes no write at all."""
        before = self.before.model_dump(mode="json", by_alias=True, exclude_none=True)
        after = self.status.model_dump(mode="json", by_alias=True, exclude_none=True)
        for key, value in after.items():
            if before.get(key) != value:
                patch.status[key] = value
        for key in before.keys() - after.keys():
            patch.status[key] = None

    def is_ready(self) -> bool:
        ready = find_condition(self.status.conditions, READY)
        return ready is not None and ready.status == "True"

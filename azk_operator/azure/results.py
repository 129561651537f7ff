"""The typed outcome of one reconcile or delete step against one Azure resource.

Controllers turn a ``StepResult`` into a condition (``Ready`` → True, anything else → False with the
reason) and, for ``IN_PROGRESS``, into a temporary error with ``retry_after`` as its delay. The continuation
token is an accelerator a controller may keep in status: without it the next call falls back to a GET.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from azk_operator.azure.errors import Classification


class StepState(enum.Enum):
    READY = "Ready"
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    DELETED = "Deleted"


@dataclass(frozen=True)
class StepResult:
    """``token`` is set only while an Azure long-running operation is being followed."""

    name: str
    state: StepState
    reason: str
    message: str = ""
    token: str | None = None
    retry_after: float | None = None

    @property
    def done(self) -> bool:
        """Nothing more to do for this step (it converged or is gone)."""
        return self.state in (StepState.READY, StepState.DELETED)

    @classmethod
    def ready(cls, name: str, message: str = "") -> StepResult:
        return cls(name, StepState.READY, "Succeeded", message)

    @classmethod
    def deleted(cls, name: str, message: str = "") -> StepResult:
        return cls(name, StepState.DELETED, "Deleted", message)

    @classmethod
    def in_progress(
        cls, name: str, reason: str, retry_after: float, *, token: str | None = None, message: str = ""
    ) -> StepResult:
        return cls(name, StepState.IN_PROGRESS, reason, message, token, retry_after)

    @classmethod
    def from_error(cls, name: str, verdict: Classification) -> StepResult:
        """A transient error is "in progress, retry later"; a terminal one is a failure with Azure's words."""
        if verdict.transient:
            return cls(
                name, StepState.IN_PROGRESS, verdict.reason, verdict.message, None, verdict.retry_after
            )
        return cls(name, StepState.FAILED, verdict.reason, verdict.message)

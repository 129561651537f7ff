"""The standard condition (the shape of `metav1.Condition`) and the one way to set one.

`lastTransitionTime` moves only when `status` changes, so "Ready since" stays meaningful while reasons and
messages are updated on every reconcile.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, NonNegativeInt

from azk_operator.api.rules import ApiModel, ListType
from azk_operator.api.types import Timestamp

ConditionStatus = Literal["True", "False", "Unknown"]

CONDITION_TYPE_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
)
REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
MAX_MESSAGE_LENGTH = 32768
MAX_CONDITIONS = 16

READY = "Ready"


class Condition(ApiModel):
    """One aspect of the object's state, e.g. Ready or NetworkReady."""

    type: Annotated[str, Field(pattern=CONDITION_TYPE_PATTERN, min_length=1, max_length=316)]
    """CamelCase condition type, e.g. Ready, NetworkReady, RollingOut."""
    status: ConditionStatus
    reason: Annotated[str, Field(pattern=REASON_PATTERN, min_length=1, max_length=1024)]
    """A CamelCase word explaining the status, e.g. Provisioning or DrainBlocked."""
    message: Annotated[str, Field(max_length=MAX_MESSAGE_LENGTH)] = ""
    """Human-readable details."""
    last_transition_time: Timestamp
    """When status last changed."""
    observed_generation: NonNegativeInt | None = None
    """The metadata.generation the condition was computed from."""


Conditions = Annotated[
    list[Condition],
    Field(max_length=MAX_CONDITIONS),
    ListType("map", keys=("type",)),
]


def find_condition(conditions: list[Condition], condition_type: str) -> Condition | None:
    return next((c for c in conditions if c.type == condition_type), None)


def set_condition(
    conditions: list[Condition],
    condition_type: str,
    status: ConditionStatus,
    reason: str,
    message: str,
    *,
    now: datetime,
    observed_generation: int | None = None,
) -> list[Condition]:
    """A new list with `condition_type` set; its `lastTransitionTime` moves only when `status` changes.

    Messages longer than the schema allows are cut, so a long Azure error never makes a status write fail.
    """
    previous = find_condition(conditions, condition_type)
    transition_time = now if previous is None or previous.status != status else previous.last_transition_time
    updated = Condition(
        type=condition_type,
        status=status,
        reason=reason,
        message=message[:MAX_MESSAGE_LENGTH],
        last_transition_time=transition_time,
        observed_generation=observed_generation,
    )
    if previous is None:
        return [*conditions, updated]
    return [updated if c.type == condition_type else c for c in conditions]

"""Status parts shared by the four kinds."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, NonNegativeInt

from azk_operator.api.conditions import Conditions
from azk_operator.api.rules import ApiModel, ListType
from azk_operator.api.types import Timestamp


class PendingOperation(ApiModel):
    """A long-running Azure operation in flight, kept so that a restarted operator resumes polling it
    instead of starting it again. Optional: without it the operator falls back to a GET."""

    key: Annotated[str, Field(min_length=1, max_length=253)]
    """What the operation acts on, e.g. virtualNetworks/demo-vnet."""
    token: Annotated[str, Field(min_length=1, max_length=16384)]
    """The SDK poller's continuation token (it carries no credentials)."""
    started_at: Timestamp


PendingOperations = Annotated[list[PendingOperation], Field(max_length=16), ListType("map", keys=("key",))]


class CommonStatus(ApiModel):
    """What every kind reports: the generation last reconciled and the conditions."""

    observed_generation: NonNegativeInt | None = None
    """The metadata.generation the status reflects."""
    conditions: Conditions = Field(default_factory=list)
    """Ready, plus one condition per reconcile step."""

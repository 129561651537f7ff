"""The reconcile and delete algorithm every Azure resource kind shares.

reconcile: resume the operation a continuation token names (if any) → otherwise GET → compute the desired
model from the existing one → write only when a managed field differs → start the write and return
"in progress" with the new token. A resource without azk's ownership tag is used as is when it fits, and
never written or deleted.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from azure.core.exceptions import AzureError
from azure.core.polling import AsyncLROPoller

from azk_operator.azure.clients import SubscriptionClients
from azk_operator.azure.errors import ErrorKind, LocallyThrottledError, classify
from azk_operator.azure.lro import Finished, Pending, StepPolling
from azk_operator.azure.results import StepResult, StepState
from azk_operator.azure.tags import is_owned, merged_tags, ownership_key, tags_differ

M = TypeVar("M")

AzureFailure = (AzureError, LocallyThrottledError)
# provisioningState values during which ARM refuses or queues writes: wait instead of writing.
_BUSY_STATES = frozenset({"creating", "updating", "deleting", "accepted", "provisioning", "migrating"})


def lowered(value: Any) -> str:
    """Lower-case text of a string or SDK enum (``str()`` of an SDK enum gives its Python name)."""
    return str(getattr(value, "value", value) or "").lower()


class ManagedResource(ABC, Generic[M]):
    """One Azure resource of one cluster. Subclasses say how to read, build, compare, write and delete it."""

    kind: str  # human wording for messages: "network security group"

    def __init__(
        self,
        clients: SubscriptionClients,
        *,
        cluster: str,
        resource_group: str,
        name: str,
        step: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.clients = clients
        self.cluster = cluster
        self.resource_group = resource_group
        self.name = name
        self.step = step or name
        self.tags = {**(tags or {}), ownership_key(cluster): "owned"}

    # --- what a kind provides -------------------------------------------------------------------------
    @abstractmethod
    async def get(self) -> M:
        """GET the resource; raises the SDK's ``ResourceNotFoundError`` when it does not exist."""

    @abstractmethod
    def build(self, base: M | None) -> M:
        """The desired model: ``base`` (a copy of the existing object) with azk's managed fields set."""

    @abstractmethod
    def view(self, model: M) -> object:
        """A comparable summary of the fields azk manages (tags excluded); equal views mean no write."""

    @abstractmethod
    async def start_write(self, desired: M, existing: M | None) -> Pending | Finished[M]:
        """Send the create/update; ``Finished`` when Azure completed it synchronously."""

    @abstractmethod
    async def resume_write(self, token: str) -> Pending | Finished[M] | None:
        """Advance the write ``token`` follows by one status request (``None``: no such operation kind)."""

    @abstractmethod
    async def begin_delete(self, polling: StepPolling, token: str | None) -> AsyncLROPoller[None]:
        """Start the delete (or resume it from ``token``)."""

    def model_tags(self, model: M) -> Mapping[str, str] | None:
        tags: Mapping[str, str] | None = getattr(model, "tags", None)
        return tags

    def provisioning_state(self, model: M) -> str:
        return lowered(getattr(model, "provisioning_state", None))

    def set_tags(self, model: M, tags: dict[str, str]) -> None:
        model.tags = tags  # type: ignore[attr-defined]

    # --- the shared algorithm ---------------------------------------------------------------------------
    def desired(self, existing: M | None) -> M:
        base = copy.deepcopy(existing) if existing is not None else None
        model = self.build(base)
        self.set_tags(
            model, merged_tags(self.model_tags(existing) if existing is not None else None, self.tags)
        )
        return model

    def needs_write(self, existing: M, desired: M) -> bool:
        return self.view(existing) != self.view(desired) or tags_differ(self.model_tags(existing), self.tags)

    async def observe(self) -> M | StepResult | None:
        """The existing object, ``None`` when Azure says it does not exist, or the result of a failure."""
        try:
            return await self.get()
        except AzureFailure as error:
            verdict = classify(error, operation="read")
            if verdict.kind is ErrorKind.MISSING:
                return None
            return StepResult.from_error(self.step, verdict)

    async def reconcile(self, token: str | None = None) -> StepResult:
        existing: M | None = None
        if token:
            resumed = await self._resume_write(token)
            if isinstance(resumed, StepResult):
                return resumed
            existing = resumed
        if existing is None:
            observed = await self.observe()
            if isinstance(observed, StepResult):
                return observed
            existing = observed
        return await self._converge(existing)

    async def _resume_write(self, token: str) -> M | StepResult | None:
        """Advance the write ``token`` follows; ``None`` means "token unusable: look with a GET"."""
        try:
            progress = await self.resume_write(token)
        except ValueError:
            return None
        except AzureFailure as error:
            verdict = classify(error, operation="read")
            if verdict.kind is ErrorKind.MISSING:
                return None
            result = StepResult.from_error(self.step, verdict)
            if verdict.transient:  # keep following the same operation after the pause
                return StepResult.in_progress(
                    self.step, result.reason, result.retry_after or 1.0, token=token, message=result.message
                )
            return result
        if progress is None:
            return None
        if isinstance(progress, Pending):
            return StepResult.in_progress(
                self.step, "Provisioning", progress.retry_after, token=progress.token
            )
        return progress.value

    async def _converge(self, existing: M | None) -> StepResult:
        if existing is not None:
            state = self.provisioning_state(existing)
            if state in _BUSY_STATES:
                # Someone's operation (maybe ours, token lost) is running: writing now would conflict.
                return StepResult.in_progress(
                    self.step,
                    "Provisioning",
                    self.clients.lro.interval,
                    message=f"{self.kind} {self.name} is {state}",
                )
            desired = self.desired(existing)
            if not is_owned(self.model_tags(existing), self.cluster):
                if self.view(existing) == self.view(desired) and state != "failed":
                    return StepResult.ready(
                        self.step, f"{self.kind} {self.name} is not owned by azk; used as is"
                    )
                return StepResult(
                    self.step,
                    StepState.FAILED,
                    "ResourceNotOwned",
                    f"{self.kind} {self.name} exists without the tag {ownership_key(self.cluster)}=owned and "
                    "differs from what the cluster needs; azk does not modify resources it does not own",
                )
            if state != "failed" and not self.needs_write(existing, desired):
                return StepResult.ready(self.step)
        else:
            desired = self.desired(None)
        return await self._start_write(desired, existing)

    async def _start_write(self, desired: M, existing: M | None) -> StepResult:
        try:
            progress = await self.start_write(desired, existing)
        except AzureFailure as error:
            return StepResult.from_error(self.step, classify(error, operation="write"))
        if isinstance(progress, Finished):
            return StepResult.ready(self.step)
        return StepResult.in_progress(
            self.step,
            "Creating" if existing is None else "Updating",
            progress.retry_after,
            token=progress.token,
        )

    async def delete(self, token: str | None = None) -> StepResult:
        """Delete the resource if azk owns it; a resource without the tag is left alone (and reported)."""
        lro = self.clients.lro
        if token:
            try:
                progress = await lro.advance(lambda polling: self.begin_delete(polling, token))
            except ValueError:
                progress = None
            except AzureFailure as error:
                verdict = classify(error, operation="delete")
                if verdict.kind in (ErrorKind.DONE, ErrorKind.MISSING):
                    return StepResult.deleted(self.step)
                if verdict.transient:
                    return StepResult.in_progress(
                        self.step,
                        verdict.reason,
                        verdict.retry_after or 1.0,
                        token=token,
                        message=verdict.message,
                    )
                return StepResult.from_error(self.step, verdict)
            if isinstance(progress, Pending):
                return StepResult.in_progress(
                    self.step, "Deleting", progress.retry_after, token=progress.token
                )
            if progress is not None:
                return StepResult.deleted(self.step)
        observed = await self.observe()
        if isinstance(observed, StepResult):
            return observed
        if observed is None:
            return StepResult.deleted(self.step)
        if not is_owned(self.model_tags(observed), self.cluster):
            return StepResult.deleted(
                self.step, f"{self.kind} {self.name} is not owned by azk; left in place"
            )
        if self.provisioning_state(observed) == "deleting":
            return StepResult.in_progress(self.step, "Deleting", lro.interval)
        try:
            started = await lro.start(lambda polling: self.begin_delete(polling, None))
        except AzureFailure as error:
            verdict = classify(error, operation="delete")
            if verdict.kind is ErrorKind.DONE:
                return StepResult.deleted(self.step)
            return StepResult.from_error(self.step, verdict)
        if isinstance(started, Pending):
            return StepResult.in_progress(self.step, "Deleting", started.retry_after, token=started.token)
        return StepResult.deleted(self.step)


class LroResource(ManagedResource[M]):
    """A kind whose writes are ARM long-running operations (everything but resource groups)."""

    @abstractmethod
    async def begin_write(
        self, desired: M, existing: M | None, polling: StepPolling, token: str | None
    ) -> AsyncLROPoller[M]:
        """Start the create/update (or resume it from ``token``) with the given polling method."""

    async def start_write(self, desired: M, existing: M | None) -> Pending | Finished[M]:
        return await self.clients.lro.start(
            lambda polling: self.begin_write(desired, existing, polling, None)
        )

    async def resume_write(self, token: str) -> Pending | Finished[M] | None:
        # The body is not sent when resuming; the SDK only needs the call's shape.
        return await self.clients.lro.advance(
            lambda polling: self.begin_write(self.desired(None), None, polling, token)
        )

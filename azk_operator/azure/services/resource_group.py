"""Resource group: created synchronously by ARM, deleted (whole, cascading) only when azk owns it."""

from __future__ import annotations

from collections.abc import Mapping

from azure.core.polling import AsyncLROPoller
from azure.mgmt.resource.resources.models import ResourceGroup as ResourceGroupModel

from azk_operator.azure.clients import SubscriptionClients
from azk_operator.azure.lro import Finished, Pending, StepPolling
from azk_operator.azure.services.base import ManagedResource, lowered


class ResourceGroup(ManagedResource[ResourceGroupModel]):
    kind = "resource group"

    def __init__(
        self,
        clients: SubscriptionClients,
        *,
        cluster: str,
        name: str,
        location: str,
        tags: Mapping[str, str] | None = None,
        step: str = "ResourceGroup",
    ) -> None:
        super().__init__(clients, cluster=cluster, resource_group=name, name=name, step=step, tags=tags)
        self.location = location

    async def get(self) -> ResourceGroupModel:
        return await self.clients.resource.resource_groups.get(self.name)

    def build(self, base: ResourceGroupModel | None) -> ResourceGroupModel:
        # A group's location cannot change; a mismatch is sent and ARM's refusal surfaces as terminal.
        model = base if base is not None else ResourceGroupModel(location=self.location)
        model.location = self.location
        return model

    def view(self, model: ResourceGroupModel) -> object:
        return (model.location or "").replace(" ", "").lower()

    def provisioning_state(self, model: ResourceGroupModel) -> str:
        return lowered(model.properties.provisioning_state if model.properties else None)

    async def start_write(
        self, desired: ResourceGroupModel, existing: ResourceGroupModel | None
    ) -> Pending | Finished[ResourceGroupModel]:
        return Finished(await self.clients.resource.resource_groups.create_or_update(self.name, desired))

    async def resume_write(self, token: str) -> Pending | Finished[ResourceGroupModel] | None:
        return None  # group writes are synchronous: azk never hands out a token for one

    async def begin_delete(self, polling: StepPolling, token: str | None) -> AsyncLROPoller[None]:
        return await self.clients.resource.resource_groups.begin_delete(
            self.name, polling=polling, continuation_token=token
        )

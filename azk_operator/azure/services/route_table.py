"""Route table of the node subnet. azk manages none of its routes (cloud-provider-azure owns them)."""

from __future__ import annotations

from collections.abc import Mapping

from azure.core.polling import AsyncLROPoller
from azure.mgmt.network.models import RouteTable as RouteTableModel

from azk_operator.azure.clients import SubscriptionClients
from azk_operator.azure.lro import StepPolling
from azk_operator.azure.services.base import LroResource


class RouteTable(LroResource[RouteTableModel]):
    kind = "route table"

    def __init__(
        self,
        clients: SubscriptionClients,
        *,
        cluster: str,
        resource_group: str,
        name: str,
        location: str,
        tags: Mapping[str, str] | None = None,
        step: str | None = None,
    ) -> None:
        super().__init__(
            clients, cluster=cluster, resource_group=resource_group, name=name, step=step, tags=tags
        )
        self.location = location

    async def get(self) -> RouteTableModel:
        return await self.clients.network.route_tables.get(self.resource_group, self.name)

    def build(self, base: RouteTableModel | None) -> RouteTableModel:
        return base if base is not None else RouteTableModel(location=self.location)

    def view(self, model: RouteTableModel) -> object:
        return ()  # existence and tags are all azk manages

    async def begin_write(
        self,
        desired: RouteTableModel,
        existing: RouteTableModel | None,
        polling: StepPolling,
        token: str | None,
    ) -> AsyncLROPoller[RouteTableModel]:
        return await self.clients.network.route_tables.begin_create_or_update(
            self.resource_group, self.name, desired, polling=polling, continuation_token=token
        )

    async def begin_delete(self, polling: StepPolling, token: str | None) -> AsyncLROPoller[None]:
        return await self.clients.network.route_tables.begin_delete(
            self.resource_group, self.name, polling=polling, continuation_token=token
        )

"""Virtual network with azk's subnets embedded; other subnets and address prefixes are kept.

Subnets are written inside the network's PUT (one write for the whole network). A PUT replaces the subnet
list, so the desired model starts from the existing one: subnets others created (and everything ARM set on
ours, such as ``ipConfigurations`` or service endpoints) are carried over untouched.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from azure.core.polling import AsyncLROPoller
from azure.mgmt.network.models import AddressSpace, Subnet
from azure.mgmt.network.models import NetworkSecurityGroup as NsgRef
from azure.mgmt.network.models import RouteTable as RouteTableRef
from azure.mgmt.network.models import VirtualNetwork as VnetModel

from azk_operator.azure.clients import SubscriptionClients
from azk_operator.azure.lro import StepPolling
from azk_operator.azure.services.base import LroResource


@dataclass(frozen=True)
class SubnetSpec:
    name: str
    address_prefix: str
    network_security_group_id: str | None = None
    route_table_id: str | None = None


def _lower(value: str | None) -> str:
    return (value or "").lower()


def subnet_view(subnet: Subnet) -> tuple[object, ...]:
    prefixes = list(subnet.address_prefixes or [])
    if subnet.address_prefix:
        prefixes.append(subnet.address_prefix)
    nsg = subnet.network_security_group
    route_table = subnet.route_table
    return (
        tuple(sorted(set(prefixes))),
        _lower(nsg.id if nsg is not None else None),
        _lower(route_table.id if route_table is not None else None),
    )


class VirtualNetwork(LroResource[VnetModel]):
    kind = "virtual network"

    def __init__(
        self,
        clients: SubscriptionClients,
        *,
        cluster: str,
        resource_group: str,
        name: str,
        location: str,
        address_prefixes: Sequence[str],
        subnets: Sequence[SubnetSpec],
        tags: Mapping[str, str] | None = None,
        step: str | None = None,
    ) -> None:
        super().__init__(
            clients, cluster=cluster, resource_group=resource_group, name=name, step=step, tags=tags
        )
        self.location = location
        self.address_prefixes = tuple(address_prefixes)
        self.subnets = tuple(subnets)

    async def get(self) -> VnetModel:
        return await self.clients.network.virtual_networks.get(self.resource_group, self.name)

    def _subnet(self, spec: SubnetSpec, base: Subnet | None) -> Subnet:
        subnet = copy.deepcopy(base) if base is not None else Subnet(name=spec.name)
        subnet.address_prefix, subnet.address_prefixes = spec.address_prefix, None
        subnet.network_security_group = (
            NsgRef(id=spec.network_security_group_id) if spec.network_security_group_id else None
        )
        subnet.route_table = RouteTableRef(id=spec.route_table_id) if spec.route_table_id else None
        return subnet

    def build(self, base: VnetModel | None) -> VnetModel:
        model = base if base is not None else VnetModel(location=self.location)
        current = list((model.address_space.address_prefixes if model.address_space else None) or [])
        model.address_space = AddressSpace(
            address_prefixes=current + [prefix for prefix in self.address_prefixes if prefix not in current]
        )
        existing = {_lower(subnet.name): subnet for subnet in (model.subnets or []) if subnet.name}
        ours = {_lower(spec.name) for spec in self.subnets}
        kept = [subnet for name, subnet in existing.items() if name not in ours]
        model.subnets = kept + [self._subnet(spec, existing.get(_lower(spec.name))) for spec in self.subnets]
        return model

    def view(self, model: VnetModel) -> object:
        prefixes = set((model.address_space.address_prefixes if model.address_space else None) or [])
        subnets = {
            _lower(subnet.name): subnet_view(subnet) for subnet in (model.subnets or []) if subnet.name
        }
        return (
            tuple(prefix in prefixes for prefix in self.address_prefixes),
            tuple((_lower(spec.name), subnets.get(_lower(spec.name))) for spec in self.subnets),
        )

    async def begin_write(
        self, desired: VnetModel, existing: VnetModel | None, polling: StepPolling, token: str | None
    ) -> AsyncLROPoller[VnetModel]:
        return await self.clients.network.virtual_networks.begin_create_or_update(
            self.resource_group, self.name, desired, polling=polling, continuation_token=token
        )

    async def begin_delete(self, polling: StepPolling, token: str | None) -> AsyncLROPoller[None]:
        return await self.clients.network.virtual_networks.begin_delete(
            self.resource_group, self.name, polling=polling, continuation_token=token
        )

    def subnet_id(self, subnet: str) -> str:
        return (
            f"/subscriptions/{self.clients.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.Network/virtualNetworks/{self.name}/subnets/{subnet}"
        )

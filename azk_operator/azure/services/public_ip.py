"""Static Standard public IP (the API server's address), with an optional DNS label."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from azure.core.polling import AsyncLROPoller
from azure.mgmt.network.models import PublicIPAddress, PublicIPAddressDnsSettings, PublicIPAddressSku

from azk_operator.azure.clients import SubscriptionClients
from azk_operator.azure.lro import StepPolling
from azk_operator.azure.services.base import LroResource, lowered


@dataclass(frozen=True)
class PublicAddress:
    """What the rest of azk needs to know about a public IP once it exists."""

    id: str
    ip_address: str | None
    fqdn: str | None


class PublicIp(LroResource[PublicIPAddress]):
    kind = "public IP address"

    def __init__(
        self,
        clients: SubscriptionClients,
        *,
        cluster: str,
        resource_group: str,
        name: str,
        location: str,
        dns_label: str | None = None,
        tags: Mapping[str, str] | None = None,
        step: str | None = None,
    ) -> None:
        super().__init__(
            clients, cluster=cluster, resource_group=resource_group, name=name, step=step, tags=tags
        )
        self.location = location
        self.dns_label = dns_label

    async def get(self) -> PublicIPAddress:
        return await self.clients.network.public_ip_addresses.get(self.resource_group, self.name)

    async def address(self) -> PublicAddress | None:
        """The address once allocated (``None`` while absent); a read, so call it only when needed."""
        observed = await self.observe()
        if not isinstance(observed, PublicIPAddress) or not observed.id:
            return None
        dns = observed.dns_settings
        return PublicAddress(observed.id, observed.ip_address, dns.fqdn if dns is not None else None)

    def build(self, base: PublicIPAddress | None) -> PublicIPAddress:
        model = base if base is not None else PublicIPAddress(location=self.location)
        model.sku = PublicIPAddressSku(
            name="Standard", tier=(model.sku.tier if model.sku else None) or "Regional"
        )
        model.public_ip_allocation_method = "Static"
        model.public_ip_address_version = model.public_ip_address_version or "IPv4"
        if self.dns_label:
            dns = model.dns_settings or PublicIPAddressDnsSettings()
            dns.domain_name_label = self.dns_label
            model.dns_settings = dns
        return model

    def view(self, model: PublicIPAddress) -> object:
        dns = model.dns_settings
        return (
            lowered(model.sku.name if model.sku else None),
            lowered(model.public_ip_allocation_method),
            (dns.domain_name_label if dns is not None else None) if self.dns_label else None,
        )

    async def begin_write(
        self,
        desired: PublicIPAddress,
        existing: PublicIPAddress | None,
        polling: StepPolling,
        token: str | None,
    ) -> AsyncLROPoller[PublicIPAddress]:
        return await self.clients.network.public_ip_addresses.begin_create_or_update(
            self.resource_group, self.name, desired, polling=polling, continuation_token=token
        )

    async def begin_delete(self, polling: StepPolling, token: str | None) -> AsyncLROPoller[None]:
        return await self.clients.network.public_ip_addresses.begin_delete(
            self.resource_group, self.name, polling=polling, continuation_token=token
        )

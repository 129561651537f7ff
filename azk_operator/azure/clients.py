"""One factory for azk's async ARM clients: one credential, clients reused per subscription, closed once.

Every client gets the same pipeline additions: ``AzkRetryPolicy`` (no long sleeps inside a call), the
``ThrottleGatePolicy`` (no request before a ``Retry-After`` expires) and the ``AccountingPolicy`` (request
counters). With ``AZK_ARM_ENDPOINT``/``AZK_ARM_CA`` set, all of them target the emulator.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from azure.core.credentials_async import AsyncTokenCredential
from azure.mgmt.compute.aio import ComputeManagementClient
from azure.mgmt.network.aio import NetworkManagementClient
from azure.mgmt.resource.resources.aio import ResourceManagementClient

from azk_operator.azure.accounting import RequestAccounting
from azk_operator.azure.credentials import build_credential
from azk_operator.azure.lro import Lro
from azk_operator.azure.policies import AccountingPolicy, AzkRetryPolicy, ThrottleGate, ThrottleGatePolicy
from azk_operator.azure.settings import AzureSettings

# Public cloud ARM endpoint, used to format relative status links when no emulator is configured.
AZURE_PUBLIC_ARM_ENDPOINT = "https://management.azure.com"


@dataclass(frozen=True)
class SubscriptionClients:
    """The three management clients of one subscription, plus the LRO helper bound to their endpoint."""

    subscription_id: str
    resource: ResourceManagementClient
    network: NetworkManagementClient
    compute: ComputeManagementClient
    lro: Lro

    async def close(self) -> None:
        await asyncio.gather(self.resource.close(), self.network.close(), self.compute.close())


class AzureClientFactory:
    """Use as ``async with AzureClientFactory(settings) as azure: clients = azure.subscription(sub)``.

    ``credential`` overrides the one the settings describe (tests pass a static token credential); a
    credential the factory built itself is closed with it.
    """

    def __init__(self, settings: AzureSettings, credential: AsyncTokenCredential | None = None) -> None:
        self.settings = settings
        self.accounting = RequestAccounting()
        self.gate = ThrottleGate()
        self._owns_credential = credential is None
        self._credential = credential
        self._clients: dict[str, SubscriptionClients] = {}

    @property
    def credential(self) -> AsyncTokenCredential:
        if self._credential is None:
            self._credential = build_credential(self.settings)
        return self._credential

    @property
    def endpoint(self) -> str:
        return self.settings.arm_endpoint or AZURE_PUBLIC_ARM_ENDPOINT

    def subscription(self, subscription_id: str | None = None) -> SubscriptionClients:
        """Clients for ``subscription_id`` (default: the settings' subscription), created on first use."""
        subscription_id = subscription_id or self.settings.subscription_id
        if not subscription_id:
            raise ValueError("no subscription id given and none configured (AZURE_SUBSCRIPTION_ID)")
        key = subscription_id.lower()
        if key not in self._clients:
            self._clients[key] = self._build(subscription_id)
        return self._clients[key]

    def _client_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "polling_interval": self.settings.polling_interval,
            "per_retry_policies": [ThrottleGatePolicy(self.gate), AccountingPolicy(self.accounting)],
        }
        if self.settings.arm_endpoint is not None:
            options["base_url"] = self.settings.arm_endpoint
            options["connection_verify"] = str(self.settings.arm_ca)
        return options

    def _build(self, subscription_id: str) -> SubscriptionClients:
        credential = self.credential
        return SubscriptionClients(
            subscription_id=subscription_id,
            resource=ResourceManagementClient(
                credential, subscription_id, retry_policy=AzkRetryPolicy(), **self._client_options()
            ),
            network=NetworkManagementClient(
                credential, subscription_id, retry_policy=AzkRetryPolicy(), **self._client_options()
            ),
            compute=ComputeManagementClient(
                credential, subscription_id, retry_policy=AzkRetryPolicy(), **self._client_options()
            ),
            lro=Lro(self.endpoint, self.settings.polling_interval),
        )

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(client.close() for client in clients))
        if self._owns_credential and self._credential is not None:
            await self._credential.close()
            self._credential = None

    async def __aenter__(self) -> AzureClientFactory:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

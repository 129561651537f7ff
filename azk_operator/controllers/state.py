"""What every handler of one operator process shares: Azure clients, the Kubernetes client, caches, timings.

Built once in a kopf startup handler, kept in kopf's memo (`memo.state`), closed in the cleanup handler, so
clients and their connection pools are reused across handlers and closed when the operator stops.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

from azk_operator.azure.clients import AzureClientFactory
from azk_operator.azure.settings import AzureSettings
from azk_operator.azure.skus import ResourceSkuCache
from azk_operator.kube.clients import KubeClients

MIN_PEERING_LIFETIME_S = 5.0
"""kopf renews a peering record a few seconds before it expires; shorter lifetimes would flap."""
MIN_NODE_POLL_S = 0.25
"""However short the time scale, a NodeSet lists its Nodes at most four times a second."""


@dataclass(frozen=True)
class Timings:
    """How often the operator looks again (seconds). Tests shorten them through the environment."""

    resync_s: float = 60.0
    """Observation timer of every resource: Node readiness, drift in Azure."""
    retry_s: float = 10.0
    """Delay after a transient failure that gave no Retry-After."""
    context_missing_s: float = 15.0
    """Delay while a resource waits for its Cluster's endpoint, PKI or token."""
    orphan_grace_s: float = 600.0
    """How long a NodeSet being deleted waits for its Cluster before cleaning Azure up on its own."""
    peering_lifetime_s: float = 60.0
    """How long a replica's peering record lives without a keep-alive: the longest a standby replica waits
    before it takes over from one that died."""
    node_poll_s: float = 2.0
    """How often a NodeSet looks at its Nodes while they join or leave (half that while it scales):
    readiness is a change of Node objects, not of the NodeSet, so it is polled."""

    @classmethod
    def from_env(cls) -> Timings:
        scale = float(os.environ.get("AZK_OPERATOR_TIME_SCALE", "1"))
        defaults = cls()
        return cls(
            resync_s=defaults.resync_s * scale,
            retry_s=defaults.retry_s * scale,
            context_missing_s=defaults.context_missing_s * scale,
            orphan_grace_s=defaults.orphan_grace_s * scale,
            peering_lifetime_s=max(MIN_PEERING_LIFETIME_S, defaults.peering_lifetime_s * scale),
            node_poll_s=max(MIN_NODE_POLL_S, defaults.node_poll_s * scale),
        )


@dataclass
class OperatorState:
    """The operator process's shared clients; one per process, never per handler call."""

    azure: AzureClientFactory
    kube: KubeClients
    timings: Timings = field(default_factory=Timings.from_env)
    _skus: dict[str, ResourceSkuCache] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    @classmethod
    def create(cls, kubeconfig: Path | None) -> OperatorState:
        kube = KubeClients.from_kubeconfig(kubeconfig) if kubeconfig else KubeClients.in_cluster()
        return cls(azure=AzureClientFactory(AzureSettings.from_env()), kube=kube)

    def skus(self, subscription_id: str) -> ResourceSkuCache:
        """The 24-hour SKU cache of one subscription."""
        key = subscription_id.lower()
        if key not in self._skus:
            self._skus[key] = ResourceSkuCache(self.azure.subscription(subscription_id))
        return self._skus[key]

    def lock(self, key: str) -> asyncio.Lock:
        """One lock per object: a timer and a change handler of the same object never act on Azure at once."""
        return self._locks.setdefault(key, asyncio.Lock())

    async def close(self) -> None:
        await self.azure.close()
        self.kube.close()

"""Standard load balancer: azk's frontends, backend pools, probes and rules by name; others are kept.

Sub-resources refer to each other by ARM id (a rule names its frontend, pool and probe), so ids are built
from the balancer's own id and compared case-insensitively.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, MutableSequence, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from azure.core.polling import AsyncLROPoller
from azure.mgmt.network.models import (
    BackendAddressPool,
    FrontendIPConfiguration,
    LoadBalancerSku,
    LoadBalancingRule,
    Probe,
    PublicIPAddress,
    SubResource,
)
from azure.mgmt.network.models import LoadBalancer as LoadBalancerModel

from azk_operator.azure.clients import SubscriptionClients
from azk_operator.azure.lro import StepPolling
from azk_operator.azure.services.base import LroResource, lowered

S = TypeVar("S")


@dataclass(frozen=True)
class FrontendSpec:
    name: str
    public_ip_id: str


@dataclass(frozen=True)
class ProbeSpec:
    name: str
    port: int
    protocol: str = "Tcp"
    interval_s: int = 5
    threshold: int = 2


@dataclass(frozen=True)
class RuleSpec:
    name: str
    frontend: str
    backend_pool: str
    probe: str
    frontend_port: int
    backend_port: int
    protocol: str = "Tcp"
    idle_timeout_minutes: int = 4


def _lower(value: str | None) -> str:
    return (value or "").lower()


def _ref_id(ref: Any) -> str:
    return _lower(getattr(ref, "id", None))


def _merge(
    current: Sequence[S] | None, names: Sequence[str], make: Callable[[str, S | None], S]
) -> MutableSequence[S]:
    """Items azk does not name are kept in place; azk's items are (re)built from their current version."""
    by_name = {_lower(getattr(item, "name", None)): item for item in (current or [])}
    wanted = {_lower(name) for name in names}
    kept = [item for key, item in by_name.items() if key not in wanted]
    return kept + [make(name, by_name.get(_lower(name))) for name in names]


class LoadBalancer(LroResource[LoadBalancerModel]):
    kind = "load balancer"

    def __init__(
        self,
        clients: SubscriptionClients,
        *,
        cluster: str,
        resource_group: str,
        name: str,
        location: str,
        frontends: Sequence[FrontendSpec],
        backend_pools: Sequence[str],
        probes: Sequence[ProbeSpec],
        rules: Sequence[RuleSpec],
        tags: Mapping[str, str] | None = None,
        step: str | None = None,
    ) -> None:
        super().__init__(
            clients, cluster=cluster, resource_group=resource_group, name=name, step=step, tags=tags
        )
        self.location = location
        self.frontends = {spec.name: spec for spec in frontends}
        self.backend_pools = tuple(backend_pools)
        self.probes = {spec.name: spec for spec in probes}
        self.rules = {spec.name: spec for spec in rules}

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.clients.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.Network/loadBalancers/{self.name}"
        )

    def child_id(self, child_type: str, name: str) -> str:
        return f"{self.id}/{child_type}/{name}"

    def backend_pool_id(self, pool: str) -> str:
        return self.child_id("backendAddressPools", pool)

    async def get(self) -> LoadBalancerModel:
        model: LoadBalancerModel = await self.clients.network.load_balancers.get(
            self.resource_group, self.name
        )
        return model

    def _frontend(self, name: str, base: FrontendIPConfiguration | None) -> FrontendIPConfiguration:
        frontend = copy.deepcopy(base) if base is not None else FrontendIPConfiguration(name=name)
        frontend.public_ip_address = PublicIPAddress(id=self.frontends[name].public_ip_id)
        return frontend

    def _pool(self, name: str, base: BackendAddressPool | None) -> BackendAddressPool:
        return copy.deepcopy(base) if base is not None else BackendAddressPool(name=name)

    def _probe(self, name: str, base: Probe | None) -> Probe:
        spec = self.probes[name]
        probe = copy.deepcopy(base) if base is not None else Probe(name=name)
        probe.protocol, probe.port = spec.protocol, spec.port
        probe.interval_in_seconds, probe.probe_threshold = spec.interval_s, spec.threshold
        return probe

    def _rule(self, name: str, base: LoadBalancingRule | None) -> LoadBalancingRule:
        spec = self.rules[name]
        rule = copy.deepcopy(base) if base is not None else LoadBalancingRule(name=name)
        rule.frontend_ip_configuration = SubResource(
            id=self.child_id("frontendIPConfigurations", spec.frontend)
        )
        rule.backend_address_pool = SubResource(id=self.backend_pool_id(spec.backend_pool))
        rule.probe = SubResource(id=self.child_id("probes", spec.probe))
        rule.protocol = spec.protocol
        rule.frontend_port, rule.backend_port = spec.frontend_port, spec.backend_port
        rule.idle_timeout_in_minutes = spec.idle_timeout_minutes
        rule.enable_floating_ip = False
        return rule

    def build(self, base: LoadBalancerModel | None) -> LoadBalancerModel:
        model = base if base is not None else LoadBalancerModel(location=self.location)
        model.sku = LoadBalancerSku(
            name="Standard", tier=(model.sku.tier if model.sku else None) or "Regional"
        )
        model.frontend_ip_configurations = _merge(
            model.frontend_ip_configurations, list(self.frontends), self._frontend
        )
        model.backend_address_pools = _merge(model.backend_address_pools, self.backend_pools, self._pool)
        model.probes = _merge(model.probes, list(self.probes), self._probe)
        model.load_balancing_rules = _merge(model.load_balancing_rules, list(self.rules), self._rule)
        return model

    def view(self, model: LoadBalancerModel) -> object:
        def named(items: Sequence[Any] | None) -> dict[str, Any]:
            return {_lower(item.name): item for item in (items or []) if item.name}

        frontends = named(model.frontend_ip_configurations)
        pools = named(model.backend_address_pools)
        probes = named(model.probes)
        rules = named(model.load_balancing_rules)
        return (
            lowered(model.sku.name if model.sku else None),
            tuple(
                (name, _ref_id(frontends[name].public_ip_address) if name in frontends else None)
                for name in map(_lower, self.frontends)
            ),
            tuple(_lower(name) in pools for name in self.backend_pools),
            tuple(
                (name, (lowered(p.protocol), p.port, p.interval_in_seconds, p.probe_threshold))
                if (p := probes.get(name)) is not None
                else (name, None)
                for name in map(_lower, self.probes)
            ),
            tuple(
                (
                    name,
                    (
                        _ref_id(r.frontend_ip_configuration),
                        _ref_id(r.backend_address_pool),
                        _ref_id(r.probe),
                        lowered(r.protocol),
                        r.frontend_port,
                        r.backend_port,
                        r.idle_timeout_in_minutes,
                        bool(r.enable_floating_ip),
                    ),
                )
                if (r := rules.get(name)) is not None
                else (name, None)
                for name in map(_lower, self.rules)
            ),
        )

    async def begin_write(
        self,
        desired: LoadBalancerModel,
        existing: LoadBalancerModel | None,
        polling: StepPolling,
        token: str | None,
    ) -> AsyncLROPoller[LoadBalancerModel]:
        return await self.clients.network.load_balancers.begin_create_or_update(
            self.resource_group, self.name, desired, polling=polling, continuation_token=token
        )

    async def begin_delete(self, polling: StepPolling, token: str | None) -> AsyncLROPoller[None]:
        return await self.clients.network.load_balancers.begin_delete(
            self.resource_group, self.name, polling=polling, continuation_token=token
        )

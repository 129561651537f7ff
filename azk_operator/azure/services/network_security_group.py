"""Network security group: azk manages its own rules by name and keeps every other rule as it is.

cloud-provider-azure adds rules to a cluster's security groups for Services of type LoadBalancer; those
must survive azk's reconcile, so only rules whose names azk chose are compared and written.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from azure.core.polling import AsyncLROPoller
from azure.mgmt.network.models import NetworkSecurityGroup as NsgModel
from azure.mgmt.network.models import SecurityRule

from azk_operator.azure.clients import SubscriptionClients
from azk_operator.azure.lro import StepPolling
from azk_operator.azure.services.base import LroResource, lowered


@dataclass(frozen=True)
class SecurityRuleSpec:
    name: str
    priority: int
    direction: str  # "Inbound" | "Outbound"
    access: str  # "Allow" | "Deny"
    protocol: str  # "Tcp" | "Udp" | "*" ...
    source_address_prefixes: tuple[str, ...]
    destination_port_ranges: tuple[str, ...]
    source_port_range: str = "*"
    destination_address_prefix: str = "*"
    description: str = ""


def _one_or_many(single: str | None, many: Sequence[str] | None) -> tuple[str, ...]:
    """ARM accepts ``xPrefix`` or ``xPrefixes``; compare both spellings as one sorted set."""
    values = list(many or [])
    if single:
        values.append(single)
    return tuple(sorted({value.lower() for value in values}))


def rule_view(rule: SecurityRule) -> tuple[object, ...]:
    return (
        int(rule.priority or 0),
        lowered(rule.direction),
        lowered(rule.access),
        lowered(rule.protocol),
        _one_or_many(rule.source_address_prefix, rule.source_address_prefixes),
        _one_or_many(rule.source_port_range, rule.source_port_ranges),
        _one_or_many(rule.destination_address_prefix, rule.destination_address_prefixes),
        _one_or_many(rule.destination_port_range, rule.destination_port_ranges),
    )


def rule_model(spec: SecurityRuleSpec, base: SecurityRule | None) -> SecurityRule:
    rule = copy.deepcopy(base) if base is not None else SecurityRule(name=spec.name)
    rule.priority = spec.priority
    rule.direction = spec.direction
    rule.access = spec.access
    rule.protocol = spec.protocol
    rule.source_port_range, rule.source_port_ranges = spec.source_port_range, None
    rule.destination_address_prefix, rule.destination_address_prefixes = spec.destination_address_prefix, None
    if len(spec.source_address_prefixes) == 1:
        rule.source_address_prefix, rule.source_address_prefixes = spec.source_address_prefixes[0], None
    else:
        rule.source_address_prefix, rule.source_address_prefixes = None, list(spec.source_address_prefixes)
    if len(spec.destination_port_ranges) == 1:
        rule.destination_port_range, rule.destination_port_ranges = spec.destination_port_ranges[0], None
    else:
        rule.destination_port_range, rule.destination_port_ranges = None, list(spec.destination_port_ranges)
    if spec.description:
        rule.description = spec.description
    return rule


class NetworkSecurityGroup(LroResource[NsgModel]):
    kind = "network security group"

    def __init__(
        self,
        clients: SubscriptionClients,
        *,
        cluster: str,
        resource_group: str,
        name: str,
        location: str,
        rules: Sequence[SecurityRuleSpec] = (),
        tags: Mapping[str, str] | None = None,
        step: str | None = None,
    ) -> None:
        super().__init__(
            clients, cluster=cluster, resource_group=resource_group, name=name, step=step, tags=tags
        )
        self.location = location
        self.rules = tuple(rules)

    async def get(self) -> NsgModel:
        return await self.clients.network.network_security_groups.get(self.resource_group, self.name)

    def build(self, base: NsgModel | None) -> NsgModel:
        model = base if base is not None else NsgModel(location=self.location)
        current = {rule.name.lower(): rule for rule in (model.security_rules or []) if rule.name}
        ours = {spec.name.lower() for spec in self.rules}
        kept = [rule for name, rule in current.items() if name not in ours]
        model.security_rules = kept + [
            rule_model(spec, current.get(spec.name.lower())) for spec in self.rules
        ]
        return model

    def view(self, model: NsgModel) -> object:
        ours = {spec.name.lower() for spec in self.rules}
        rules = {rule.name.lower(): rule_view(rule) for rule in (model.security_rules or []) if rule.name}
        return tuple(sorted((name, rules.get(name)) for name in ours))

    async def begin_write(
        self, desired: NsgModel, existing: NsgModel | None, polling: StepPolling, token: str | None
    ) -> AsyncLROPoller[NsgModel]:
        return await self.clients.network.network_security_groups.begin_create_or_update(
            self.resource_group, self.name, desired, polling=polling, continuation_token=token
        )

    async def begin_delete(self, polling: StepPolling, token: str | None) -> AsyncLROPoller[None]:
        return await self.clients.network.network_security_groups.begin_delete(
            self.resource_group, self.name, polling=polling, continuation_token=token
        )

"""Desired models from spec + existing object: what is kept, what is compared, when a write is needed.

Uses the real SDK models and clients (no request is sent): an "existing" object is what the SDK would
send for the desired one, plus what Azure adds (ids, provisioning states, etags, fields others set).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import pytest
from azure.core.credentials import AccessToken
from azure.mgmt.compute.models import VirtualMachineScaleSet
from azure.mgmt.network._utils.model_base import SdkJSONEncoder

from azk_operator.azure.clients import AzureClientFactory, SubscriptionClients
from azk_operator.azure.infra import BaseInfraSpec, BaseInfrastructure
from azk_operator.azure.services.base import ManagedResource
from azk_operator.azure.services.scale_set import ImageSpec, ScaleSet, ScaleSetSpec
from azk_operator.azure.settings import AuthMethod, AzureSettings
from azk_operator.azure.tags import ownership_key

SUB = "00000000-0000-0000-0000-000000000001"
M = TypeVar("M")


class StaticToken:
    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("t", 2**40)

    async def close(self) -> None:
        return None


@pytest.fixture
async def clients() -> AsyncIterator[SubscriptionClients]:
    settings = AzureSettings(auth=AuthMethod.MANAGED_IDENTITY, subscription_id=SUB)
    async with AzureClientFactory(settings, credential=StaticToken()) as factory:  # type: ignore[arg-type]
        yield factory.subscription()


@pytest.fixture
def plan(clients: SubscriptionClients) -> BaseInfrastructure:
    spec = BaseInfraSpec(
        cluster="c1",
        subscription_id=SUB,
        resource_group="rg",
        location="westeurope",
        dns_prefix="c1-api",
        apiserver_allowed_cidrs=("203.0.113.0/24",),
        tags={"team": "infra"},
    )
    return BaseInfrastructure(clients, spec)


def as_azure_returns(resource: ManagedResource[M], model: M, **extra_properties: Any) -> M:
    """The wire JSON azk would send, read back the way ARM answers (read-only fields added)."""
    body = json.loads(json.dumps(model, cls=SdkJSONEncoder, exclude_readonly=True))
    body.setdefault("properties", {}).update({"provisioningState": "Succeeded", **extra_properties})
    body["etag"] = 'W/"1"'
    return type(model)(body)  # type: ignore[call-arg]


def converged(resource: ManagedResource[M]) -> M:
    return as_azure_returns(resource, resource.desired(None))


def test_every_step_of_the_plan_is_write_free_once_converged(plan: BaseInfrastructure) -> None:
    for name, step in plan.steps.items():
        existing = converged(step)
        assert not step.needs_write(existing, step.desired(existing)), name


def test_everything_created_carries_the_ownership_tag_and_user_tags(plan: BaseInfrastructure) -> None:
    for step in plan.steps.values():
        tags = step.model_tags(step.desired(None))
        assert tags == {"team": "infra", ownership_key("c1"): "owned"}


def test_tags_others_set_are_kept_and_a_missing_ownership_tag_is_restored(plan: BaseInfrastructure) -> None:
    step = plan.route_table
    existing = converged(step)
    existing.tags = {"costcenter": "42", "team": "infra"}
    desired = step.desired(existing)
    assert step.needs_write(existing, desired)
    assert desired.tags == {"costcenter": "42", "team": "infra", ownership_key("c1"): "owned"}


def test_security_group_keeps_foreign_rules_and_repairs_drift_in_its_own(plan: BaseInfrastructure) -> None:
    nsg = plan.control_plane_nsg
    existing = converged(nsg)
    foreign = {
        "name": "k8s-svc-http",
        "properties": {
            "priority": 500,
            "direction": "Inbound",
            "access": "Allow",
            "protocol": "Tcp",
            "sourceAddressPrefix": "*",
            "sourcePortRange": "*",
            "destinationAddressPrefix": "*",
            "destinationPortRange": "80",
        },
    }
    existing.security_rules = [*existing.security_rules, type(existing.security_rules[0])(foreign)]
    assert not nsg.needs_write(existing, nsg.desired(existing))

    existing.security_rules[0].source_address_prefix = "0.0.0.0/0"  # drift behind azk's back
    desired = nsg.desired(existing)
    assert nsg.needs_write(existing, desired)
    by_name = {rule.name: rule for rule in desired.security_rules}
    assert by_name["allow-apiserver"].source_address_prefix == "203.0.113.0/24"
    assert by_name["k8s-svc-http"].destination_port_range == "80"


def test_security_rule_spellings_azure_may_answer_with_compare_equal(plan: BaseInfrastructure) -> None:
    nsg = plan.control_plane_nsg
    existing = converged(nsg)
    rule = existing.security_rules[0]
    rule.source_address_prefix, rule.source_address_prefixes = None, ["203.0.113.0/24"]
    rule.protocol = "TCP"
    assert not nsg.needs_write(existing, nsg.desired(existing))


def test_virtual_network_keeps_foreign_subnets_prefixes_and_azure_set_fields(
    plan: BaseInfrastructure,
) -> None:
    vnet = plan.virtual_network
    existing = converged(vnet)
    existing.address_space.address_prefixes = [*existing.address_space.address_prefixes, "10.9.0.0/16"]
    subnet_type = type(existing.subnets[0])
    existing.subnets = [
        *existing.subnets,
        subnet_type({"name": "bastion", "properties": {"addressPrefix": "10.9.0.0/24"}}),
    ]
    existing.subnets[0].service_endpoints = [{"service": "Microsoft.Storage"}]
    existing.subnets[0].network_security_group.id = existing.subnets[0].network_security_group.id.upper()
    desired = vnet.desired(existing)
    assert not vnet.needs_write(existing, desired)
    assert [s.name for s in desired.subnets] == ["bastion", "control-plane-subnet", "node-subnet"]
    assert desired.address_space.address_prefixes == ["10.0.0.0/16", "10.9.0.0/16"]
    assert desired.subnets[1].service_endpoints == [{"service": "Microsoft.Storage"}]

    next(s for s in existing.subnets if s.name == "node-subnet").route_table = None
    assert vnet.needs_write(existing, vnet.desired(existing))


def test_load_balancer_wiring_and_foreign_rules(plan: BaseInfrastructure) -> None:
    lb = plan.load_balancer
    desired = lb.desired(None)
    rule = desired.load_balancing_rules[0]
    assert rule.frontend_port == rule.backend_port == 6443
    assert rule.probe.id.endswith("/loadBalancers/c1-apiserver-lb/probes/apiserver-probe")
    assert desired.frontend_ip_configurations[0].public_ip_address.id.endswith(
        "/publicIPAddresses/c1-apiserver-pip"
    )
    assert desired.probes[0].port == 6443

    existing = converged(lb)
    extra_rule = type(rule)({"name": "svc-rule", "properties": {"frontendPort": 80, "backendPort": 80}})
    existing.load_balancing_rules = [*existing.load_balancing_rules, extra_rule]
    assert not lb.needs_write(existing, lb.desired(existing))
    existing.probes[0].port = 443
    desired = lb.desired(existing)
    assert lb.needs_write(existing, desired)
    assert {r.name for r in desired.load_balancing_rules} == {"svc-rule", "apiserver-rule"}


def test_public_ip_is_static_standard_with_the_dns_label(plan: BaseInfrastructure) -> None:
    desired = plan.public_ip.desired(None)
    assert (desired.sku.name, desired.public_ip_allocation_method) == ("Standard", "Static")
    assert desired.dns_settings.domain_name_label == "c1-api"
    existing = as_azure_returns(plan.public_ip, desired, ipAddress="127.10.0.5")
    existing.dns_settings.fqdn = "c1-api.westeurope.cloudapp.azure.com"
    assert not plan.public_ip.needs_write(existing, plan.public_ip.desired(existing))


def scale_set(clients: SubscriptionClients, capacity: int) -> ScaleSet:
    spec = ScaleSetSpec(
        name="c1-pool-abc",
        location="westeurope",
        vm_size="Standard_D2s_v5",
        capacity=capacity,
        subnet_id="/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
        image=ImageSpec("Canonical", "ubuntu-24_04-lts", "server"),
        admin_username="azk",
        ssh_public_key="ssh-ed25519 AAAA",
        computer_name_prefix="pool-abc",
        custom_data="I2Nsb3VkLWNvbmZpZw==",
    )
    return ScaleSet(clients, cluster="c1", resource_group="rg", spec=spec)


def test_scale_set_is_created_manual_and_patched_only_for_what_differs(clients: SubscriptionClients) -> None:
    vmss = scale_set(clients, 3)
    created = vmss.desired(None)
    assert created.upgrade_policy.mode == "Manual" and created.sku.capacity == 3
    assert created.orchestration_mode == "Uniform" and created.overprovision is False
    assert "I2Nsb3VkLWNvbmZpZw" not in repr(vmss.spec)

    existing = as_azure_returns(vmss, created)
    existing.virtual_machine_profile.os_profile.custom_data = None  # Azure never returns customData
    assert not vmss.needs_write(existing, vmss.desired(existing))
    assert dict(vmss.patch(existing)) == {}

    bigger = scale_set(clients, 5)
    assert bigger.needs_write(existing, bigger.desired(existing))
    assert dict(bigger.patch(existing)) == {"sku": {"capacity": 5}}

    existing.upgrade_policy.mode = "Automatic"
    assert dict(vmss.patch(existing)) == {"properties": {"upgradePolicy": {"mode": "Manual"}}}


def test_scale_set_model_sent_to_azure_has_no_read_only_fields(clients: SubscriptionClients) -> None:
    body = json.loads(
        json.dumps(scale_set(clients, 1).desired(None), cls=SdkJSONEncoder, exclude_readonly=True)
    )
    assert body["sku"] == {"name": "Standard_D2s_v5", "tier": "Standard", "capacity": 1}
    assert body["properties"]["upgradePolicy"] == {"mode": "Manual"}
    assert isinstance(VirtualMachineScaleSet(body), VirtualMachineScaleSet)

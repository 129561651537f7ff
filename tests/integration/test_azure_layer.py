"""The Azure layer against the ARM emulator, with the real async SDKs and a real service-principal login."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from azure.mgmt.network.models import SecurityRule, VirtualNetwork
from azure.mgmt.resource.resources.models import ResourceGroup as ResourceGroupModel
from fixtures.azure_layer import azure_settings_for
from fixtures.emulator import AioArmClients

from azk_operator.azure.clients import AzureClientFactory, SubscriptionClients
from azk_operator.azure.infra import (
    APISERVER_LOAD_BALANCER,
    CONTROL_PLANE_NSG,
    RESOURCE_GROUP,
    VIRTUAL_NETWORK,
    BaseInfraSpec,
    BaseInfrastructure,
    InfraStatus,
    drive,
)
from azk_operator.azure.results import StepState
from azk_operator.azure.tags import ownership_key
from azk_operator.emulator import ArmEmulator, JournalRecord, Latency, LatencyProfile

OWNED = {ownership_key("c1"): "owned"}


def spec(clients: SubscriptionClients, resource_group: str = "c1-rg", cluster: str = "c1") -> BaseInfraSpec:
    return BaseInfraSpec(
        cluster=cluster,
        subscription_id=clients.subscription_id,
        resource_group=resource_group,
        location="westeurope",
        dns_prefix=f"{cluster}-api",
        apiserver_allowed_cidrs=("203.0.113.0/24",),
    )


def arm_requests(emu: ArmEmulator, since: int = 0) -> list[JournalRecord]:
    return [
        entry for entry in emu.control.journal()[since:] if entry.path.lower().startswith("/subscriptions")
    ]


def changes(entries: list[JournalRecord]) -> list[JournalRecord]:
    return [entry for entry in entries if entry.kind in ("write", "delete")]


async def converge(plan: BaseInfrastructure) -> InfraStatus:
    status = await drive(plan.reconcile, within_s=30)
    assert status.done, status
    return status


async def test_base_infrastructure_from_nothing_then_a_converged_reconcile_sends_zero_writes(
    arm_emulator: ArmEmulator, azure_factory: AzureClientFactory
) -> None:
    clients = azure_factory.subscription()
    plan = BaseInfrastructure(clients, spec(clients))
    status = await converge(plan)

    assert [(c.type, c.status) for c in status.conditions()] == [
        ("ResourceGroupReady", True),
        ("NetworkReady", True),
        ("LoadBalancerReady", True),
    ]
    inventory = {item.name: item for item in arm_emulator.control.inventory()}
    expected = {
        "c1-rg",
        "c1-vnet",
        "c1-control-plane-nsg",
        "c1-node-nsg",
        "c1-node-routetable",
        "c1-apiserver-pip",
        "c1-apiserver-lb",
    }
    assert expected <= set(inventory)
    for name in expected:
        assert inventory[name].tags == OWNED, name
    address = await plan.apiserver_address()
    assert address is not None and address.ip_address and address.ip_address.startswith("127.")
    assert address.fqdn == "c1-api.westeurope.cloudapp.azure.com"
    vnet = await clients.network.virtual_networks.get("c1-rg", "c1-vnet")
    node_subnet = next(s for s in vnet.subnets if s.name == "node-subnet")
    assert node_subnet.route_table.id.lower().endswith("/routetables/c1-node-routetable")

    # A second reconcile, from a freshly started operator (new clients), only reads.
    mark = len(arm_emulator.control.journal())
    async with AzureClientFactory(azure_settings_for(arm_emulator)) as restarted:
        again = await BaseInfrastructure(restarted.subscription(), spec(clients)).reconcile()
        assert again.done and not again.tokens
        assert restarted.accounting.snapshot().count("write") == 0
    assert changes(arm_requests(arm_emulator, mark)) == []
    assert len(arm_requests(arm_emulator, mark)) == len(plan.steps)  # one GET per resource


async def test_drift_behind_azks_back_is_repaired_with_exactly_one_write(
    arm_emulator: ArmEmulator, azure_factory: AzureClientFactory, aio_arm_clients: AioArmClients
) -> None:
    clients = azure_factory.subscription()
    plan = BaseInfrastructure(clients, spec(clients))
    await converge(plan)
    rule = await aio_arm_clients.network.security_rules.get(
        "c1-rg", "c1-control-plane-nsg", "allow-apiserver"
    )
    rule.source_address_prefix = "0.0.0.0/0"
    poller = await aio_arm_clients.network.security_rules.begin_create_or_update(
        "c1-rg", "c1-control-plane-nsg", "allow-apiserver", SecurityRule(dict(rule))
    )
    await poller.result()
    # Someone else's rule in the same group must survive the repair.
    extra = SecurityRule(
        {
            "name": "k8s-svc-80",
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
    )
    poller = await aio_arm_clients.network.security_rules.begin_create_or_update(
        "c1-rg", "c1-control-plane-nsg", "k8s-svc-80", extra
    )
    await poller.result()

    mark = len(arm_emulator.control.journal())
    await converge(plan)
    writes = changes(arm_requests(arm_emulator, mark))
    assert [(w.method, w.path.rsplit("/", 1)[-1]) for w in writes] == [("PUT", "c1-control-plane-nsg")]
    nsg = await clients.network.network_security_groups.get("c1-rg", "c1-control-plane-nsg")
    rules = {r.name: r for r in nsg.security_rules}
    assert rules["allow-apiserver"].source_address_prefix == "203.0.113.0/24"
    assert "k8s-svc-80" in rules


async def test_a_429_storm_is_honoured_no_request_before_retry_after(
    arm_emulator: ArmEmulator, azure_factory: AzureClientFactory
) -> None:
    clients = azure_factory.subscription()
    arm_emulator.control.inject_fault(
        "/subscriptions/.*", status=429, code="TooManyRequests", message="slow down", retry_after=1, count=3
    )
    status = await converge(BaseInfrastructure(clients, spec(clients)))
    assert status.done

    entries = arm_requests(arm_emulator)
    throttled = [entry for entry in entries if entry.status == 429]
    assert len(throttled) == 3
    in_flight = 0.1  # requests already sent when the 429 was answered may land just after it
    for answer in throttled:
        too_early = [e for e in entries if answer.time + in_flight < e.time < answer.time + 1.0]
        assert too_early == [], (answer, too_early)
    assert azure_factory.accounting.snapshot().count(outcome="throttled") == 3


async def test_a_failed_operation_surfaces_as_terminal_with_azures_code_and_message(
    arm_emulator: ArmEmulator, azure_factory: AzureClientFactory
) -> None:
    clients = azure_factory.subscription()
    arm_emulator.control.fail_next_operation(
        "SubnetsOverlapWithReservedRange",
        "Subnet overlaps a range reserved by the platform.",
        path=".*c1-vnet.*",
    )
    status = await drive(BaseInfrastructure(clients, spec(clients)).reconcile, within_s=30)
    vnet = status.step(VIRTUAL_NETWORK)
    assert vnet.state is StepState.FAILED
    assert vnet.reason == "SubnetsOverlapWithReservedRange"
    assert "Subnet overlaps a range reserved by the platform." in vnet.message
    network = next(c for c in status.conditions() if c.type == "NetworkReady")
    assert (network.status, network.reason) == (False, "SubnetsOverlapWithReservedRange")
    assert status.step(APISERVER_LOAD_BALANCER).state is StepState.READY  # independent steps went on


async def test_a_continuation_token_resumes_the_operation_after_a_restart(
    arm_emulator_factory: Callable[..., ArmEmulator],
) -> None:
    emu = arm_emulator_factory(profile=LatencyProfile(default=Latency(polls=3)))
    async with AzureClientFactory(azure_settings_for(emu)) as first:
        clients = first.subscription()
        started = await BaseInfrastructure(clients, spec(clients)).reconcile()
    tokens = started.tokens
    assert set(tokens) == {
        f"write/{name}"
        for name in ("ControlPlaneSecurityGroup", "NodeSecurityGroup", "NodeRouteTable", "ApiServerPublicIP")
    }
    mark = len(emu.control.journal())

    async with AzureClientFactory(azure_settings_for(emu)) as restarted:
        plan = BaseInfrastructure(restarted.subscription(), spec(clients))
        resumed = await plan.reconcile(tokens)
        # Resuming polls the operations the tokens name; nothing is written again.
        after_resume = arm_requests(emu, mark)
        assert changes(after_resume) == []
        assert sum("/operations/" in e.path for e in after_resume) == 4
        assert resumed.step(CONTROL_PLANE_NSG).token is not None

        # A lost token falls back to a GET: still no duplicate write for the running operation.
        mark = len(emu.control.journal())
        lost = await plan.reconcile()
        assert lost.step(CONTROL_PLANE_NSG).state is StepState.IN_PROGRESS
        assert changes(arm_requests(emu, mark)) == []
        garbage = await plan.reconcile({"write/ControlPlaneSecurityGroup": "not-a-token"})
        assert garbage.step(CONTROL_PLANE_NSG).state is not StepState.FAILED

        await drive(plan.reconcile, within_s=30)
    puts = [e for e in changes(arm_requests(emu)) if e.method == "PUT"]
    assert sorted(e.path.rsplit("/", 1)[-1] for e in puts) == sorted(
        [
            "c1-rg",
            "c1-control-plane-nsg",
            "c1-node-nsg",
            "c1-node-routetable",
            "c1-apiserver-pip",
            "c1-vnet",
            "c1-apiserver-lb",
        ]
    )


async def test_delete_removes_only_what_azk_owns(
    arm_emulator: ArmEmulator, azure_factory: AzureClientFactory, aio_arm_clients: AioArmClients
) -> None:
    clients = azure_factory.subscription()
    # A group someone else made, with their own network inside.
    await aio_arm_clients.resource.resource_groups.create_or_update(
        "shared-rg", ResourceGroupModel(location="westeurope")
    )
    theirs = VirtualNetwork(
        {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.50.0.0/16"]}}}
    )
    await (
        await aio_arm_clients.network.virtual_networks.begin_create_or_update(
            "shared-rg", "their-vnet", theirs
        )
    ).result()

    plan = BaseInfrastructure(clients, spec(clients, resource_group="shared-rg"))
    status = await converge(plan)
    assert "not owned" in status.step(RESOURCE_GROUP).message
    group = await clients.resource.resource_groups.get("shared-rg")
    assert not group.tags  # azk never tags (modifies) a group it does not own

    deleted = await drive(plan.delete, within_s=30)
    assert deleted.done and all(step.state is StepState.DELETED for step in deleted.steps)
    left = {item.name: item for item in arm_emulator.control.inventory()}
    assert {"shared-rg", "their-vnet"} <= set(left)
    assert not [item for item in left.values() if ownership_key("c1") in item.tags]

    # A group azk created goes whole, with one DELETE.
    own = BaseInfrastructure(clients, spec(clients, resource_group="c2-rg", cluster="c2"))
    await converge(own)
    mark = len(arm_emulator.control.journal())
    assert (await drive(own.delete, within_s=30)).done
    deletes = [e for e in changes(arm_requests(arm_emulator, mark)) if e.method == "DELETE"]
    assert [e.path.rsplit("/", 1)[-1].lower() for e in deletes] == ["c2-rg"]
    assert "c2-rg" not in {item.name for item in arm_emulator.control.inventory()}
    assert {"shared-rg", "their-vnet"} <= {item.name for item in arm_emulator.control.inventory()}


async def test_resources_azk_does_not_own_are_never_modified(
    arm_emulator: ArmEmulator, azure_factory: AzureClientFactory, aio_arm_clients: AioArmClients
) -> None:
    clients = azure_factory.subscription()
    await aio_arm_clients.resource.resource_groups.create_or_update(
        "c1-rg", ResourceGroupModel(location="westeurope")
    )
    squatter = VirtualNetwork(
        {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.70.0.0/16"]}}}
    )
    await (
        await aio_arm_clients.network.virtual_networks.begin_create_or_update("c1-rg", "c1-vnet", squatter)
    ).result()
    status = await drive(BaseInfrastructure(clients, spec(clients)).reconcile, within_s=30)
    vnet = status.step(VIRTUAL_NETWORK)
    assert (vnet.state, vnet.reason) == (StepState.FAILED, "ResourceNotOwned")
    untouched = await clients.network.virtual_networks.get("c1-rg", "c1-vnet")
    assert untouched.address_space.address_prefixes == ["10.70.0.0/16"] and not untouched.tags


@pytest.mark.parametrize("cidr", ["0.0.0.0/0"])
async def test_invalid_parameters_are_terminal(
    arm_emulator: ArmEmulator, azure_factory: AzureClientFactory, cidr: str
) -> None:
    clients = azure_factory.subscription()
    bad = BaseInfraSpec(
        cluster="c1",
        subscription_id=clients.subscription_id,
        resource_group="c1-rg",
        location="westeurope",
        control_plane_subnet_cidr="192.168.0.0/24",
        apiserver_allowed_cidrs=(cidr,),
    )
    status = await drive(BaseInfrastructure(clients, bad).reconcile, within_s=30)
    vnet = status.step(VIRTUAL_NETWORK)
    assert vnet.state is StepState.FAILED
    assert vnet.reason  # Azure's code, e.g. NetcfgInvalidSubnet / InvalidParameter


async def test_arm_like_token_buckets_are_honoured(
    arm_emulator: ArmEmulator, azure_factory: AzureClientFactory
) -> None:
    clients = azure_factory.subscription()
    arm_emulator.control.set_throttling(reads=(6, 6), writes=(5, 5))
    status = await drive(BaseInfrastructure(clients, spec(clients)).reconcile, within_s=60)
    assert status.done
    entries = arm_requests(arm_emulator)
    throttled = [entry for entry in entries if entry.status == 429]
    assert throttled, "the buckets are small enough that the plan must have been throttled"
    for answer in throttled:
        too_early = [e for e in entries if answer.time + 0.1 < e.time < answer.time + 1.0]
        assert too_early == [], (answer, too_early)


@pytest.mark.parametrize(("status", "retry_after"), [(500, None), (429, 1)])
async def test_a_failed_or_throttled_read_never_means_missing(
    arm_emulator: ArmEmulator, azure_factory: AzureClientFactory, status: int, retry_after: int | None
) -> None:
    clients = azure_factory.subscription()
    plan = BaseInfrastructure(clients, spec(clients))
    await converge(plan)
    arm_emulator.control.inject_fault(
        ".*/virtualNetworks/c1-vnet$", "GET", status=status, retry_after=retry_after
    )
    mark = len(arm_emulator.control.journal())
    result = await plan.reconcile()
    vnet = result.step(VIRTUAL_NETWORK)
    assert vnet.state is StepState.IN_PROGRESS and vnet.retry_after
    assert changes(arm_requests(arm_emulator, mark)) == []
    assert {item.name for item in arm_emulator.control.inventory()} >= {"c1-vnet"}

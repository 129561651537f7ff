"""VM scale set service against the emulator: create, capacity PATCH only when it differs, instances."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute.models import VirtualMachineScaleSetUpdate

from azk_operator.azure.clients import AzureClientFactory, SubscriptionClients
from azk_operator.azure.errors import LocallyThrottledError
from azk_operator.azure.infra import BaseInfraSpec, BaseInfrastructure, drive
from azk_operator.azure.results import StepResult, StepState
from azk_operator.azure.services.scale_set import ImageSpec, ScaleSet, ScaleSetSpec
from azk_operator.azure.skus import ResourceSkuCache
from azk_operator.emulator import ArmEmulator, JournalRecord


def arm_changes(emu: ArmEmulator, since: int) -> list[JournalRecord]:
    return [
        entry
        for entry in emu.control.journal()[since:]
        if entry.path.lower().startswith("/subscriptions") and entry.kind in ("write", "delete")
    ]


async def drive_step(advance: Callable[[str | None], Awaitable[StepResult]]) -> StepResult:
    token: str | None = None
    for _ in range(500):
        result = await advance(token)
        if result.state is not StepState.IN_PROGRESS:
            return result
        token = result.token
    raise AssertionError(f"step did not finish: {result}")


async def network(clients: SubscriptionClients) -> BaseInfrastructure:
    plan = BaseInfrastructure(
        clients,
        BaseInfraSpec(
            cluster="c1",
            subscription_id=clients.subscription_id,
            resource_group="c1-rg",
            location="westeurope",
        ),
    )
    assert (await drive(plan.reconcile, within_s=30)).done
    return plan


def scale_set(clients: SubscriptionClients, plan: BaseInfrastructure, capacity: int) -> ScaleSet:
    spec = ScaleSetSpec(
        name="c1-workers-1a2b3c",
        location="westeurope",
        vm_size="Standard_D2s_v5",
        capacity=capacity,
        subnet_id=plan.node_subnet_id,
        image=ImageSpec("Canonical", "ubuntu-24_04-lts", "server"),
        admin_username="azk",
        ssh_public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample azk",
        computer_name_prefix="workers-1a2b3c",
        custom_data="I2Nsb3VkLWNvbmZpZwo=",
        zones=("1", "2"),
    )
    return ScaleSet(clients, cluster="c1", resource_group="c1-rg", spec=spec)


async def test_scale_set_lifecycle(arm_emulator: ArmEmulator, azure_factory: AzureClientFactory) -> None:
    clients = azure_factory.subscription()
    plan = await network(clients)

    assert (await drive_step(scale_set(clients, plan, 2).reconcile)).state is StepState.READY
    created = await clients.compute.virtual_machine_scale_sets.get("c1-rg", "c1-workers-1a2b3c")
    assert created.upgrade_policy.mode == "Manual" and created.sku.capacity == 2

    # Same capacity: no write at all.
    mark = len(arm_emulator.control.journal())
    assert (await scale_set(clients, plan, 2).reconcile()).state is StepState.READY
    assert arm_changes(arm_emulator, mark) == []

    # A new capacity: exactly one PATCH (never a PUT of the whole model).
    mark = len(arm_emulator.control.journal())
    assert (await drive_step(scale_set(clients, plan, 3).reconcile)).state is StepState.READY
    assert [e.method for e in arm_changes(arm_emulator, mark)] == ["PATCH"]

    service = scale_set(clients, plan, 3)
    instances = await service.list_instances(with_private_ips=True)
    assert len(instances) == 3
    assert all(i.latest_model_applied and i.computer_name for i in instances)
    assert all(i.provisioning_state.lower() == "succeeded" for i in instances)
    assert {i.zone for i in instances} <= {"1", "2"}
    assert all(i.private_ip and i.private_ip.startswith("10.0.") for i in instances)

    # Delete chosen instances (one POST), idempotently.
    victim = instances[0].instance_id
    mark = len(arm_emulator.control.journal())
    assert (
        await drive_step(lambda token: service.delete_instances([victim], token))
    ).state is StepState.DELETED
    assert [e.method for e in arm_changes(arm_emulator, mark)] == ["POST"]
    remaining = {i.instance_id for i in await service.list_instances()}
    assert victim not in remaining and len(remaining) == 2
    mark = len(arm_emulator.control.journal())
    assert (await service.delete_instances([victim])).state is StepState.DELETED
    assert arm_changes(arm_emulator, mark) == []

    # The scale set itself: deleted because azk owns it.
    assert (await drive_step(service.delete)).state is StepState.DELETED
    assert "c1-workers-1a2b3c" not in {item.name for item in arm_emulator.control.inventory()}


async def test_resource_skus_are_listed_once_per_location_and_ttl(
    arm_emulator: ArmEmulator, azure_factory: AzureClientFactory
) -> None:
    now = [0.0]
    cache = ResourceSkuCache(azure_factory.subscription(), ttl=100.0, clock=lambda: now[0])
    size = await cache.vm_size("westeurope", "standard_d2s_v5")
    assert size is not None and size.zones == ("1", "2", "3")
    assert await cache.vm_size("westeurope", "Standard_Nope") is None
    reads = azure_factory.accounting.snapshot().count("read", "microsoft.compute/skus")
    assert reads >= 1
    now[0] = 99.0
    await cache.vm_sizes("westeurope")
    assert azure_factory.accounting.snapshot().count("read", "microsoft.compute/skus") == reads
    now[0] = 101.0
    await cache.vm_sizes("westeurope")
    assert azure_factory.accounting.snapshot().count("read", "microsoft.compute/skus") > reads
    no_zones = await cache.vm_size("northcentralus", "Standard_D2s_v5")
    assert no_zones is not None and no_zones.zones == ()


def named(clients: SubscriptionClients, plan: BaseInfrastructure, name: str) -> ScaleSet:
    base = scale_set(clients, plan, capacity=1)
    return ScaleSet(
        clients,
        cluster="c1",
        resource_group="c1-rg",
        spec=dataclasses.replace(base.spec, name=name, computer_name_prefix=name),
    )


async def two_scale_sets(clients: SubscriptionClients) -> None:
    plan = await network(clients)
    for name in ("pool-a", "pool-b"):
        created = await drive_step(named(clients, plan, name).reconcile)
        assert created.done, created


async def test_a_subscription_limit_answered_on_a_scale_set_holds_back_the_whole_subscription(
    arm_emulator: ArmEmulator, azure_factory: AzureClientFactory
) -> None:
    clients = azure_factory.subscription()
    await two_scale_sets(clients)
    arm_emulator.control.inject_fault(
        ".*/virtualMachineScaleSets/pool-a$", "GET", status=429, retry_after=30, count=1
    )
    with pytest.raises(HttpResponseError) as throttled:
        await clients.compute.virtual_machine_scale_sets.get("c1-rg", "pool-a")
    assert throttled.value.status_code == 429
    mark = len(arm_emulator.control.journal())
    with pytest.raises(LocallyThrottledError):
        await clients.compute.virtual_machine_scale_sets.get("c1-rg", "pool-b")
    with pytest.raises(LocallyThrottledError):
        await clients.network.virtual_networks.get("c1-rg", "c1-vnet")
    assert arm_emulator.control.journal()[mark:] == [], "nothing is sent before the Retry-After"


async def test_a_scale_set_update_limit_holds_back_only_that_scale_set(
    arm_emulator: ArmEmulator, azure_factory: AzureClientFactory
) -> None:
    clients = azure_factory.subscription()
    await two_scale_sets(clients)
    # ARM's subscription buckets stay wide open; pool-a's update bucket holds one update.
    arm_emulator.control.set_throttling(
        reads=(10_000, 1_000), writes=(10_000, 1_000), scale_set_updates=(1, 0.01)
    )
    update = VirtualMachineScaleSetUpdate(tags={"touched": "1"})
    await (await clients.compute.virtual_machine_scale_sets.begin_update("c1-rg", "pool-a", update)).result()
    with pytest.raises(HttpResponseError) as throttled:
        await clients.compute.virtual_machine_scale_sets.begin_update("c1-rg", "pool-a", update)
    assert throttled.value.status_code == 429
    with pytest.raises(LocallyThrottledError):
        await clients.compute.virtual_machine_scale_sets.get("c1-rg", "pool-a")
    other = await clients.compute.virtual_machine_scale_sets.get("c1-rg", "pool-b")
    assert other.name == "pool-b", "another scale set of the subscription is not held back"
    assert (await clients.network.virtual_networks.get("c1-rg", "c1-vnet")).name == "c1-vnet"

"""The ``.aio`` SDK clients (aiohttp transport) against the emulator: CRUD, LROs, paging, errors, resume."""

from __future__ import annotations

import base64

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute import models as cm
from azure.mgmt.network import models as nm
from fixtures.emulator import AioArmClients, make_aio_clients, scale_set_model, vnet_model

from azk_operator.emulator import ArmEmulator

GROUP = "aio-rg"


async def _network(clients: AioArmClients) -> str:
    await clients.resource.resource_groups.create_or_update(GROUP, {"location": "westeurope"})
    poller = await clients.network.virtual_networks.begin_create_or_update(
        GROUP, "vnet", vnet_model(location="westeurope", subnets={"nodes": "10.0.1.0/24"})
    )
    vnet = await poller.result()
    return (vnet.subnets or [])[0].id or ""


async def test_async_network_crud_and_errors(aio_arm_clients: AioArmClients) -> None:
    subnet_id = await _network(aio_arm_clients)
    network = aio_arm_clients.network
    nic_poller = await network.network_interfaces.begin_create_or_update(
        GROUP,
        "nic",
        nm.NetworkInterface(
            location="westeurope",
            ip_configurations=[nm.NetworkInterfaceIPConfiguration(name="ip", subnet=nm.Subnet(id=subnet_id))],
        ),
    )
    nic = await nic_poller.result()
    assert (nic.ip_configurations or [])[0].private_ip_address == "10.0.1.4"
    with pytest.raises(HttpResponseError) as in_use:
        await network.subnets.begin_delete(GROUP, "vnet", "nodes")
    assert in_use.value.error is not None and in_use.value.error.code == "InUseSubnetCannotBeDeleted"
    await (await network.network_interfaces.begin_delete(GROUP, "nic")).result()
    with pytest.raises(ResourceNotFoundError):
        await network.network_interfaces.get(GROUP, "nic")
    with pytest.raises(HttpResponseError) as outside:
        await network.virtual_networks.begin_create_or_update(
            GROUP, "bad", vnet_model(location="westeurope", subnets={"x": "192.168.0.0/24"})
        )
    assert outside.value.error is not None and outside.value.error.code == "NetcfgSubnetRangeOutsideVnet"


async def test_async_scale_set_lifecycle(aio_arm_clients: AioArmClients) -> None:
    subnet_id = await _network(aio_arm_clients)
    vmss = aio_arm_clients.compute.virtual_machine_scale_sets
    model = scale_set_model(
        subnet_id, capacity=2, location="westeurope", custom_data=base64.b64encode(b"x").decode()
    )
    created = await (await vmss.begin_create_or_update(GROUP, "pool", model)).result()
    assert created.provisioning_state == "Succeeded"
    ids = [
        vm.instance_id
        async for vm in aio_arm_clients.compute.virtual_machine_scale_set_vms.list(GROUP, "pool")
    ]
    assert ids == ["0", "1"]
    await (
        await vmss.begin_delete_instances(
            GROUP, "pool", cm.VirtualMachineScaleSetVMInstanceRequiredIDs(instance_ids=["0"])
        )
    ).result()
    updated = await (
        await vmss.begin_update(
            GROUP, "pool", cm.VirtualMachineScaleSetUpdate(tags={"azk.io_cluster_c": "owned"})
        )
    ).result()
    assert updated.tags == {"azk.io_cluster_c": "owned"} and (updated.sku or cm.Sku()).capacity == 1
    await (await aio_arm_clients.resource.resource_groups.begin_delete(GROUP)).result()
    assert not await aio_arm_clients.resource.resource_groups.check_existence(GROUP)


async def test_async_paging_and_continuation(
    aio_arm_clients: AioArmClients, arm_emulator: ArmEmulator
) -> None:
    await aio_arm_clients.resource.resource_groups.create_or_update(GROUP, {"location": "eastus"})
    arm_emulator.control.set_page_size(3)
    for index in range(7):
        poller = await aio_arm_clients.network.route_tables.begin_create_or_update(
            GROUP, f"rt-{index}", nm.RouteTable(location="eastus")
        )
        token = poller.continuation_token()
        fresh = make_aio_clients(arm_emulator)
        try:
            resumed = await fresh.network.route_tables.begin_create_or_update(
                GROUP, f"rt-{index}", None, continuation_token=token
            )
            assert (await resumed.result()).provisioning_state == "Succeeded"
        finally:
            await fresh.close()
        await poller.result()
    names = [table.name async for table in aio_arm_clients.network.route_tables.list(GROUP)]
    assert names == [f"rt-{index}" for index in range(7)]


async def test_emulator_on_the_test_loop() -> None:
    from azure.mgmt.resource.resources.aio import ResourceManagementClient

    from azk_operator.emulator import AsyncArmEmulator, AsyncEmulatorCredential

    async with AsyncArmEmulator() as emu:
        client = ResourceManagementClient(
            AsyncEmulatorCredential(),
            emu.subscription_id,
            base_url=emu.endpoint,
            connection_verify=str(emu.ca_path),
        )
        async with client:
            await client.resource_groups.create_or_update("in-loop", {"location": "westus2"})
            assert [group.name async for group in client.resource_groups.list()] == ["in-loop"]
        assert emu.app is not None and len(emu.app.engine.store) == 1

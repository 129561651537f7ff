"""Compute resources through the real azure-mgmt-compute client: VMs, availability sets, scale sets and
their instances, the SKU catalogue and usages."""

from __future__ import annotations

import base64

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.compute import models as cm
from azure.mgmt.network import models as nm
from fixtures.emulator import ArmClients, scale_set_model, vnet_model

GROUP = "compute-rg"


@pytest.fixture
def subnet_id(arm_clients: ArmClients) -> str:
    arm_clients.resource.resource_groups.create_or_update(GROUP, {"location": "eastus"})
    vnet = arm_clients.network.virtual_networks.begin_create_or_update(
        GROUP, "vnet", vnet_model(subnets={"nodes": "10.0.1.0/24"})
    ).result()
    return (vnet.subnets or [])[0].id or ""


def _nic(clients: ArmClients, subnet_id: str, name: str = "nic") -> str:
    model = nm.NetworkInterface(
        location="eastus",
        ip_configurations=[nm.NetworkInterfaceIPConfiguration(name="ip", subnet=nm.Subnet(id=subnet_id))],
    )
    return clients.network.network_interfaces.begin_create_or_update(GROUP, name, model).result().id or ""


def _vm(nic_id: str, size: str = "Standard_D2s_v5", avset: str | None = None) -> cm.VirtualMachine:
    return cm.VirtualMachine(
        location="eastus",
        zones=["1"],
        hardware_profile=cm.HardwareProfile(vm_size=size),
        os_profile=cm.OSProfile(
            computer_name="cp-0",
            admin_username="azk",
            custom_data=base64.b64encode(b"#cloud-config\n").decode(),
        ),
        storage_profile=cm.StorageProfile(
            image_reference=cm.ImageReference(publisher="Canonical", offer="o", sku="s", version="latest")
        ),
        network_profile=cm.NetworkProfile(
            network_interfaces=[cm.NetworkInterfaceReference(id=nic_id, primary=True)]
        ),
        availability_set=cm.SubResource(id=avset) if avset else None,
    )


def test_virtual_machine_lifecycle(arm_clients: ArmClients, subnet_id: str) -> None:
    compute = arm_clients.compute
    nic_id = _nic(arm_clients, subnet_id)
    vm = compute.virtual_machines.begin_create_or_update(GROUP, "cp-0", _vm(nic_id)).result()
    assert vm.provisioning_state == "Succeeded" and vm.vm_id
    assert vm.os_profile is not None and vm.os_profile.custom_data is None  # ARM never returns customData
    assert vm.etag == '"1"'
    view = compute.virtual_machines.instance_view(GROUP, "cp-0")
    assert [s.code for s in view.statuses or []] == ["ProvisioningState/succeeded", "PowerState/running"]

    compute.virtual_machines.begin_power_off(GROUP, "cp-0").result()
    assert "PowerState/stopped" in [
        s.code for s in compute.virtual_machines.instance_view(GROUP, "cp-0").statuses or []
    ]
    compute.virtual_machines.begin_start(GROUP, "cp-0").result()
    compute.virtual_machines.begin_restart(GROUP, "cp-0").result()
    assert "PowerState/running" in [
        s.code for s in compute.virtual_machines.instance_view(GROUP, "cp-0").statuses or []
    ]

    updated = compute.virtual_machines.begin_update(
        GROUP, "cp-0", cm.VirtualMachineUpdate(tags={"role": "cp"})
    ).result()
    assert updated.tags == {"role": "cp"} and updated.etag == '"2"'

    with pytest.raises(HttpResponseError) as err:
        arm_clients.network.network_interfaces.begin_delete(GROUP, "nic")
    assert err.value.error is not None and err.value.error.code == "NicInUse"
    compute.virtual_machines.begin_delete(GROUP, "cp-0").result()
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get(GROUP, "cp-0")
    arm_clients.network.network_interfaces.begin_delete(GROUP, "nic").result()


def test_unknown_vm_size_and_zone_are_refused(arm_clients: ArmClients, subnet_id: str) -> None:
    nic_id = _nic(arm_clients, subnet_id)
    with pytest.raises(HttpResponseError) as err:
        arm_clients.compute.virtual_machines.begin_create_or_update(
            GROUP, "vm", _vm(nic_id, size="Standard_Z99")
        )
    assert err.value.error is not None and err.value.error.code == "InvalidParameter"
    model = _vm(nic_id)
    model.zones = ["7"]
    with pytest.raises(HttpResponseError) as zone:
        arm_clients.compute.virtual_machines.begin_create_or_update(GROUP, "vm", model)
    assert zone.value.error is not None and zone.value.error.code == "InvalidParameter"


def test_availability_set_is_synchronous_and_lists_members(arm_clients: ArmClients, subnet_id: str) -> None:
    avsets = arm_clients.compute.availability_sets
    avset = avsets.create_or_update(
        GROUP,
        "cp",
        cm.AvailabilitySet(location="eastus", platform_fault_domain_count=2, sku=cm.Sku(name="Aligned")),
    )
    assert avset.platform_update_domain_count == 5
    vm = _vm(_nic(arm_clients, subnet_id), avset=avset.id)
    vm.zones = None
    arm_clients.compute.virtual_machines.begin_create_or_update(GROUP, "cp-0", vm).result()
    refreshed = avsets.create_or_update(
        GROUP, "cp", cm.AvailabilitySet(location="eastus", sku=cm.Sku(name="Aligned"))
    )
    assert [ref.id.rsplit("/", 1)[-1] for ref in refreshed.virtual_machines or [] if ref.id] == ["cp-0"]
    with pytest.raises(HttpResponseError):
        avsets.create_or_update(
            GROUP, "bad", cm.AvailabilitySet(location="eastus", platform_fault_domain_count=9)
        )
    assert [a.name for a in avsets.list(GROUP)] == [
        "cp",
    ]
    arm_clients.compute.virtual_machines.begin_delete(GROUP, "cp-0").result()
    avsets.delete(GROUP, "cp")
    assert list(avsets.list(GROUP)) == []


def test_scale_set_instances_scale_and_delete(arm_clients: ArmClients, subnet_id: str) -> None:
    vmss = arm_clients.compute.virtual_machine_scale_sets
    vms = arm_clients.compute.virtual_machine_scale_set_vms
    created = vmss.begin_create_or_update(GROUP, "pool", scale_set_model(subnet_id, capacity=3)).result()
    assert created.provisioning_state == "Succeeded" and created.sku is not None and created.sku.capacity == 3
    instances = list(vms.list(GROUP, "pool"))
    assert [i.instance_id for i in instances] == ["0", "1", "2"]
    assert [i.os_profile.computer_name for i in instances if i.os_profile] == [
        "node000000",
        "node000001",
        "node000002",
    ]
    assert all(i.latest_model_applied and i.provisioning_state == "Succeeded" for i in instances)

    vmss.begin_delete_instances(
        GROUP, "pool", cm.VirtualMachineScaleSetVMInstanceRequiredIDs(instance_ids=["1"])
    ).result()
    assert [i.instance_id for i in vms.list(GROUP, "pool")] == ["0", "2"]
    assert (vmss.get(GROUP, "pool").sku or cm.Sku()).capacity == 2

    vms.begin_delete(GROUP, "pool", "0").result()
    assert (vmss.get(GROUP, "pool").sku or cm.Sku()).capacity == 1

    vmss.begin_update(
        GROUP, "pool", cm.VirtualMachineScaleSetUpdate(sku=cm.Sku(name="Standard_D2s_v5", capacity=3))
    ).result()
    assert [i.instance_id for i in vms.list(GROUP, "pool")] == ["2", "3", "4"]  # ids are never reused
    vmss.begin_update(
        GROUP, "pool", cm.VirtualMachineScaleSetUpdate(sku=cm.Sku(name="Standard_D2s_v5", capacity=1))
    ).result()
    assert [i.instance_id for i in vms.list(GROUP, "pool")] == ["2"]  # scale-in removes the highest ids

    nics = list(
        arm_clients.network.network_interfaces.list_virtual_machine_scale_set_vm_network_interfaces(
            GROUP, "pool", "2"
        )
    )
    assert (nics[0].ip_configurations or [])[0].private_ip_address == "10.0.1.6"
    vmss.begin_delete(GROUP, "pool").result()
    with pytest.raises(ResourceNotFoundError):
        vms.get(GROUP, "pool", "2")


def test_scale_set_model_changes_need_manual_upgrade(arm_clients: ArmClients, subnet_id: str) -> None:
    vmss = arm_clients.compute.virtual_machine_scale_sets
    vms = arm_clients.compute.virtual_machine_scale_set_vms
    vmss.begin_create_or_update(GROUP, "pool", scale_set_model(subnet_id, capacity=2)).result()
    changed = scale_set_model(subnet_id, capacity=2, custom_data=base64.b64encode(b"new").decode())
    vmss.begin_create_or_update(GROUP, "pool", changed).result()
    assert [i.latest_model_applied for i in vms.list(GROUP, "pool")] == [False, False]
    vmss.begin_update_instances(
        GROUP, "pool", cm.VirtualMachineScaleSetVMInstanceRequiredIDs(instance_ids=["0"])
    ).result()
    assert [i.latest_model_applied for i in vms.list(GROUP, "pool")] == [True, False]
    assert vms.get(GROUP, "pool", "1").latest_model_applied is False


def test_scale_set_power_actions_and_instance_views(arm_clients: ArmClients, subnet_id: str) -> None:
    vmss = arm_clients.compute.virtual_machine_scale_sets
    vms = arm_clients.compute.virtual_machine_scale_set_vms
    vmss.begin_create_or_update(GROUP, "pool", scale_set_model(subnet_id, capacity=2)).result()
    vmss.begin_power_off(
        GROUP, "pool", vm_instance_i_ds=cm.VirtualMachineScaleSetVMInstanceIDs(instance_ids=["1"])
    ).result()
    powers = [
        [
            s.code
            for s in vms.get_instance_view(GROUP, "pool", iid).statuses or []
            if (s.code or "").startswith("PowerState")
        ]
        for iid in ("0", "1")
    ]
    assert powers == [["PowerState/running"], ["PowerState/stopped"]]
    vmss.begin_start(GROUP, "pool").result()
    vms.begin_deallocate(GROUP, "pool", "0").result()
    codes = [s.code for s in vms.get_instance_view(GROUP, "pool", "0").statuses or []]
    assert "PowerState/deallocated" in codes
    summary = vmss.get_instance_view(GROUP, "pool").virtual_machine
    assert summary is not None and [(s.code, s.count) for s in summary.statuses_summary or []] == [
        ("ProvisioningState/succeeded", 2)
    ]


def test_scale_set_validation(arm_clients: ArmClients, subnet_id: str) -> None:
    vmss = arm_clients.compute.virtual_machine_scale_sets
    with pytest.raises(HttpResponseError) as too_big:
        vmss.begin_create_or_update(GROUP, "pool", scale_set_model(subnet_id, capacity=1001))
    assert too_big.value.error is not None and too_big.value.error.code == "InvalidParameter"
    with pytest.raises(ResourceExistsError) as quota:  # 409: 60 x 2 vCPUs exceed the regional quota of 100
        vmss.begin_create_or_update(GROUP, "pool", scale_set_model(subnet_id, capacity=60))
    assert quota.value.error is not None and quota.value.error.code == "OperationNotAllowed"
    with pytest.raises(HttpResponseError) as size:
        vmss.begin_create_or_update(
            GROUP, "pool", scale_set_model(subnet_id, location="northcentralus", size="Standard_E4s_v5")
        )
    assert size.value.error is not None and size.value.error.code == "InvalidParameter"


def test_scale_set_etag_precondition(arm_clients: ArmClients, subnet_id: str) -> None:
    vmss = arm_clients.compute.virtual_machine_scale_sets
    first = vmss.begin_create_or_update(GROUP, "pool", scale_set_model(subnet_id, capacity=1)).result()
    vmss.begin_create_or_update(GROUP, "pool", scale_set_model(subnet_id, capacity=2)).result()
    with pytest.raises(HttpResponseError) as err:
        vmss.begin_create_or_update(
            GROUP,
            "pool",
            scale_set_model(subnet_id, capacity=3),
            etag=first.etag,
            match_condition=MatchConditions.IfNotModified,
        )
    assert err.value.status_code == 412
    with pytest.raises(HttpResponseError) as exists:
        vmss.begin_create_or_update(
            GROUP, "pool", scale_set_model(subnet_id), match_condition=MatchConditions.IfMissing
        )
    assert exists.value.status_code == 412


def test_resource_skus_and_usages(arm_clients: ArmClients, subnet_id: str) -> None:
    skus = list(arm_clients.compute.resource_skus.list(filter="location eq 'westeurope'"))
    by_name = {sku.name: sku for sku in skus}
    d4 = by_name["Standard_D4s_v5"]
    assert d4.locations == ["westeurope"]
    assert d4.location_info and d4.location_info[0].zones == ["1", "2", "3"]
    assert {c.name: c.value for c in d4.capabilities or []}["vCPUs"] == "4"
    assert {c.name: c.value for c in d4.capabilities or []}["MemoryGB"] == "16"
    assert {"Standard_B2s", "Standard_D2s_v5", "Standard_E4s_v5"} <= set(by_name)
    assert len(list(arm_clients.compute.resource_skus.list())) > len(skus)

    arm_clients.compute.virtual_machine_scale_sets.begin_create_or_update(
        GROUP, "pool", scale_set_model(subnet_id, capacity=3)
    ).result()
    usages = {u.name.value: u for u in arm_clients.compute.usage.list("eastus") if u.name}
    assert usages["cores"].current_value == 6 and usages["cores"].limit == 100
    assert usages["standardDSv5Family"].current_value == 6


def test_subscriptions_and_locations(arm_clients: ArmClients) -> None:
    from azure.core.rest import HttpRequest

    subs = arm_clients.resource.send_request(HttpRequest("GET", "/subscriptions?api-version=2022-12-01"))
    assert subs.status_code == 200
    [sub] = subs.json()["value"]
    locations = arm_clients.resource.send_request(
        HttpRequest("GET", f"/subscriptions/{sub['subscriptionId']}/locations?api-version=2022-12-01")
    ).json()["value"]
    assert {"eastus", "westeurope", "westus2"} <= {loc["name"] for loc in locations}
    missing = arm_clients.resource.send_request(
        HttpRequest("GET", "/subscriptions/nope?api-version=2022-12-01")
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "SubscriptionNotFound"

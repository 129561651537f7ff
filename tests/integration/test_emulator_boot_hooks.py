"""Boot hooks: VMs and scale-set instances announce themselves to the pluggable boot handler."""

from __future__ import annotations

import asyncio
import base64

from azure.mgmt.compute import models as cm
from azure.mgmt.network import models as nm
from fixtures.emulator import ArmClients, resource_id, scale_set_model, vnet_model

from azk_operator.emulator import ArmEmulator, BootEvent, ShutdownEvent

GROUP = "boot-rg"


class Recorder:
    def __init__(self, boot_delay: float = 0.0, fail: bool = False) -> None:
        self.events: list[BootEvent | ShutdownEvent] = []
        self.boot_delay = boot_delay
        self.fail = fail

    async def on_boot(self, event: BootEvent) -> None:
        await asyncio.sleep(self.boot_delay)  # a simulator awaits processes here
        self.events.append(event)
        if self.fail:
            raise RuntimeError("simulator crashed")

    async def on_shutdown(self, event: ShutdownEvent) -> None:
        self.events.append(event)


def _lb(emu: ArmEmulator, clients: ArmClients, name: str, frontend: nm.FrontendIPConfiguration) -> str:
    lb_id = resource_id(emu, GROUP, "Microsoft.Network/loadBalancers", name)
    model = nm.LoadBalancer(
        location="eastus",
        frontend_ip_configurations=[frontend],
        backend_address_pools=[nm.BackendAddressPool(name="pool")],
        load_balancing_rules=[
            nm.LoadBalancingRule(
                name="api",
                protocol="Tcp",
                frontend_port=6443,
                backend_port=6443,
                frontend_ip_configuration=nm.SubResource(
                    id=f"{lb_id}/frontendIPConfigurations/{frontend.name}"
                ),
                backend_address_pool=nm.SubResource(id=f"{lb_id}/backendAddressPools/pool"),
            )
        ],
    )
    clients.network.load_balancers.begin_create_or_update(GROUP, name, model).result()
    return f"{lb_id}/backendAddressPools/pool"


def _base(clients: ArmClients) -> str:
    clients.resource.resource_groups.create_or_update(GROUP, {"location": "eastus"})
    vnet = clients.network.virtual_networks.begin_create_or_update(
        GROUP, "vnet", vnet_model(subnets={"nodes": "10.0.1.0/24", "cp": "10.0.0.0/24"})
    ).result()
    return (vnet.subnets or [])[0].id or ""


def test_scale_set_instances_boot_with_their_frontends(
    arm_clients: ArmClients, arm_emulator: ArmEmulator
) -> None:
    recorder = Recorder(boot_delay=0.05)
    arm_emulator.set_boot_handler(recorder)
    subnet_id = _base(arm_clients)
    pip = arm_clients.network.public_ip_addresses.begin_create_or_update(
        GROUP, "api", nm.PublicIPAddress(location="eastus", sku=nm.PublicIPAddressSku(name="Standard"))
    ).result()
    pool = _lb(
        arm_emulator,
        arm_clients,
        "public",
        nm.FrontendIPConfiguration(name="fe", public_ip_address=nm.PublicIPAddress(id=pip.id)),
    )
    cloud_init = b"#cloud-config\nruncmd: [kubeadm join]\n"
    model = scale_set_model(
        subnet_id,
        capacity=2,
        pool_ids=[pool],
        custom_data=base64.b64encode(cloud_init).decode(),
        tags={"role": "worker"},
    )
    arm_clients.compute.virtual_machine_scale_sets.begin_create_or_update(GROUP, "pool", model).result()
    arm_emulator.drain_hooks()
    boots = [e for e in recorder.events if isinstance(e, BootEvent)]
    assert [(e.instance_id, e.computer_name) for e in boots] == [("0", "node000000"), ("1", "node000001")]
    first = boots[0]
    assert first.custom_data == cloud_init
    assert first.private_ips == ("10.0.1.4",) and boots[1].private_ips == ("10.0.1.5",)
    assert first.tags == {"role": "worker"} and first.vm_size == "Standard_D2s_v5"
    assert first.scale_set_id and first.scale_set_id.endswith("/virtualMachineScaleSets/pool")
    assert [(f.frontend_name, f.address, f.loopback) for f in first.frontends] == [
        ("fe", pip.ip_address, pip.ip_address)
    ]

    arm_clients.compute.virtual_machine_scale_sets.begin_delete_instances(
        GROUP, "pool", cm.VirtualMachineScaleSetVMInstanceRequiredIDs(instance_ids=["1"])
    ).result()
    arm_emulator.drain_hooks()
    shutdowns = [e for e in recorder.events if isinstance(e, ShutdownEvent)]
    assert [(e.instance_id, e.computer_name) for e in shutdowns] == [("1", "node000001")]


def test_vm_behind_internal_load_balancer_gets_a_loopback_alias(
    arm_clients: ArmClients, arm_emulator: ArmEmulator
) -> None:
    recorder = Recorder()
    arm_emulator.set_boot_handler(recorder)
    _base(arm_clients)
    cp_subnet = resource_id(arm_emulator, GROUP, "Microsoft.Network/virtualNetworks", "vnet") + "/subnets/cp"
    pool = _lb(
        arm_emulator,
        arm_clients,
        "internal",
        nm.FrontendIPConfiguration(name="fe", subnet=nm.Subnet(id=cp_subnet)),
    )
    nic = arm_clients.network.network_interfaces.begin_create_or_update(
        GROUP,
        "cp-0-nic",
        nm.NetworkInterface(
            location="eastus",
            ip_configurations=[
                nm.NetworkInterfaceIPConfiguration(
                    name="ip",
                    subnet=nm.Subnet(id=cp_subnet),
                    load_balancer_backend_address_pools=[nm.BackendAddressPool(id=pool)],
                )
            ],
        ),
    ).result()
    vm = cm.VirtualMachine(
        location="eastus",
        hardware_profile=cm.HardwareProfile(vm_size="Standard_D4s_v5"),
        os_profile=cm.OSProfile(
            computer_name="cp-0", admin_username="azk", custom_data=base64.b64encode(b"cp").decode()
        ),
        network_profile=cm.NetworkProfile(network_interfaces=[cm.NetworkInterfaceReference(id=nic.id)]),
        tags={"azk.io_cluster_c1": "owned"},
    )
    arm_clients.compute.virtual_machines.begin_create_or_update(GROUP, "cp-0", vm).result()
    arm_clients.compute.virtual_machines.begin_delete(GROUP, "cp-0").result()
    arm_emulator.drain_hooks()
    boot, shutdown = recorder.events
    assert isinstance(boot, BootEvent) and isinstance(shutdown, ShutdownEvent)
    assert boot.instance_id is None and boot.computer_name == "cp-0" and boot.custom_data == b"cp"
    assert boot.private_ips == ("10.0.0.5",)  # 10.0.0.4 went to the internal frontend
    [frontend] = boot.frontends
    assert frontend.address == "10.0.0.4" and frontend.loopback == "127.11.0.1"
    assert shutdown.resource_id == boot.resource_id


def test_failing_handler_does_not_break_arm(arm_clients: ArmClients, arm_emulator: ArmEmulator) -> None:
    recorder = Recorder(fail=True)
    arm_emulator.set_boot_handler(recorder)
    subnet_id = _base(arm_clients)
    result = arm_clients.compute.virtual_machine_scale_sets.begin_create_or_update(
        GROUP, "pool", scale_set_model(subnet_id, capacity=1)
    ).result()
    arm_emulator.drain_hooks()
    assert result.provisioning_state == "Succeeded" and len(recorder.events) == 1


def test_group_delete_shuts_every_machine_down(arm_clients: ArmClients, arm_emulator: ArmEmulator) -> None:
    recorder = Recorder()
    arm_emulator.set_boot_handler(recorder)
    subnet_id = _base(arm_clients)
    arm_clients.compute.virtual_machine_scale_sets.begin_create_or_update(
        GROUP, "pool", scale_set_model(subnet_id, capacity=2)
    ).result()
    arm_clients.resource.resource_groups.begin_delete(GROUP).result()
    arm_emulator.drain_hooks()
    shutdowns = sorted((e.instance_id, e.reason) for e in recorder.events if isinstance(e, ShutdownEvent))
    assert shutdowns == [("0", "deleted"), ("1", "deleted")]
    assert arm_emulator.control.inventory() == []


def test_power_actions_shut_down_and_boot_again(arm_clients: ArmClients, arm_emulator: ArmEmulator) -> None:
    recorder = Recorder()
    arm_emulator.set_boot_handler(recorder)
    subnet_id = _base(arm_clients)
    vmss = arm_clients.compute.virtual_machine_scale_sets
    vmss.begin_create_or_update(GROUP, "pool", scale_set_model(subnet_id, capacity=1)).result()
    vmss.begin_power_off(GROUP, "pool").result()
    vmss.begin_power_off(GROUP, "pool").result()  # already stopped: nothing more to shut down
    vmss.begin_start(GROUP, "pool").result()
    vmss.begin_restart(GROUP, "pool").result()
    vmss.begin_deallocate(GROUP, "pool").result()
    vmss.begin_delete(GROUP, "pool").result()  # a deallocated machine has nothing left to shut down
    arm_emulator.drain_hooks()
    kinds = [(type(e).__name__, e.reason) for e in recorder.events]
    assert kinds == [
        ("BootEvent", "created"),
        ("ShutdownEvent", "stopped"),  # power off
        ("BootEvent", "started"),  # start
        ("ShutdownEvent", "stopped"),  # restart ...
        ("BootEvent", "started"),  # ... boots again
        ("ShutdownEvent", "stopped"),  # deallocate
    ]

"""The VM boot simulator plays kubeadm for real: the first control plane starts an apiserver with azk's PKI,
workers join only with a valid bootstrap token, and every machine registers (and removes) its Node."""

from __future__ import annotations

import asyncio
import datetime
import random
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import kubernetes
import pytest

from azk_operator.bootstrap import (
    BootstrapSecrets,
    BootstrapToken,
    ClusterBootstrapConfig,
    ClusterPKI,
    NodeBootstrapConfig,
    NodeRole,
    PKIOptions,
    client_certificate_kubeconfig,
    generate_cluster_pki,
    issue_admin_certificate,
    render_node_document,
    write_kubeconfig,
)
from azk_operator.bootstrap.keys import KeyAlgorithm
from azk_operator.emulator.boot import BootEvent, FrontendAddress, ShutdownEvent
from azk_operator.emulator.bootsim import SimulatorFaults, VmBootSimulator, provider_id

SUB = "00000000-0000-0000-0000-000000000001"
VMSS = f"/subscriptions/{SUB}/resourceGroups/Sim-RG/providers/Microsoft.Compute/virtualMachineScaleSets"


class World:
    def __init__(self, tmp_path: Path, simulator: VmBootSimulator) -> None:
        self.simulator = simulator
        self.address = f"127.{random.randint(11, 250)}.{random.randint(1, 250)}.{random.randint(2, 250)}"
        self.pki: ClusterPKI = generate_cluster_pki(PKIOptions(key_algorithm=KeyAlgorithm.ECDSA_P256))
        self.token = BootstrapToken.generate()
        self.cluster = ClusterBootstrapConfig(
            cluster_name="sim",
            kubernetes_version="1.37.2",
            control_plane_endpoint=f"{self.address}:6443",
            apiserver_cert_sans=(self.address,),
        )
        self.kubeconfig = tmp_path / "admin.kubeconfig"
        # The regular admin (kubeadm:cluster-admins) works only once the simulated `kubeadm init`
        # has bound its group.
        admin = issue_admin_certificate(self.pki)
        write_kubeconfig(
            self.kubeconfig,
            client_certificate_kubeconfig(
                cluster_name="sim",
                server=f"https://{self.address}:6443",
                ca_cert_pem=self.pki.ca.cert_pem,
                client=admin,
                user="admin",
            ),
        )

    def document(
        self, role: NodeRole, token: BootstrapToken | None = None, labels: dict[str, str] | None = None
    ) -> bytes:
        secrets = BootstrapSecrets(
            self.pki,
            token or self.token,
            datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
        )
        return render_node_document(
            self.cluster, NodeBootstrapConfig(role=role, node_labels=labels or {}), secrets
        ).encode()

    def event(self, vmss: str, instance: int, document: bytes, frontends: bool = False) -> BootEvent:
        return BootEvent(
            resource_id=f"{VMSS}/{vmss}/virtualMachines/{instance}",
            name=f"{vmss}_{instance}",
            computer_name=f"{vmss}{instance:06d}",
            location="eastus",
            vm_size="Standard_D2s_v5",
            tags={},
            custom_data=document,
            private_ips=(f"10.0.0.{instance + 4}",),
            frontends=(FrontendAddress("lb", "apiserver", self.address, self.address),) if frontends else (),
            scale_set_id=f"{VMSS}/{vmss}",
            instance_id=str(instance),
            zones=("1",),
        )

    def core(self) -> kubernetes.client.CoreV1Api:
        api = kubernetes.config.new_client_from_config(config_file=str(self.kubeconfig))
        return kubernetes.client.CoreV1Api(api)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    simulator = VmBootSimulator(tmp_path / "sim", node_ready_delay_s=0.1, faults=SimulatorFaults())
    yield World(tmp_path, simulator)
    await asyncio.to_thread(simulator.close)


def _listening(address: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((address, port)) == 0


async def test_first_control_plane_boot_starts_a_real_apiserver_with_azks_pki(world: World) -> None:
    await world.simulator.on_boot(
        world.event("cp", 0, world.document(NodeRole.FIRST_CONTROL_PLANE), frontends=True)
    )

    core = world.core()
    node = core.read_node("cp000000")
    assert node.spec.provider_id == provider_id(f"{VMSS}/cp/virtualMachines/0")
    assert "/resourceGroups/sim-rg/" in node.spec.provider_id, "cloud-provider-azure lowercases the group"
    assert node.metadata.labels["node.kubernetes.io/instance-type"] == "Standard_D2s_v5"
    assert node.metadata.labels["topology.kubernetes.io/zone"] == "eastus-1"
    assert "node-role.kubernetes.io/control-plane" in node.metadata.labels
    assert node.status.node_info.kubelet_version == "v1.37.2"
    ready = {c.type: c.status for c in node.status.conditions}
    assert ready["Ready"] == "True"
    secret = core.read_namespaced_secret(world.token.secret_name, "kube-system")
    assert secret.type == "bootstrap.kubernetes.io/token", "kubeadm init stores its token"


async def test_workers_join_only_with_a_valid_token_and_leave_with_their_machine(world: World) -> None:
    await world.simulator.on_boot(
        world.event("cp", 0, world.document(NodeRole.FIRST_CONTROL_PLANE), frontends=True)
    )
    labels = {"engine.azk.io/pool": "workers"}
    await world.simulator.on_boot(world.event("pool", 1, world.document(NodeRole.WORKER, labels=labels)))
    await world.simulator.on_boot(
        world.event("pool", 2, world.document(NodeRole.WORKER, token=BootstrapToken.generate()))
    )

    core = world.core()
    names = {n.metadata.name for n in core.list_node().items}
    assert names == {"cp000000", "pool000001"}, "the node with an unknown token never registers"
    assert core.read_node("pool000001").metadata.labels["engine.azk.io/pool"] == "workers"

    await world.simulator.on_shutdown(ShutdownEvent(f"{VMSS}/pool/virtualMachines/1", "pool_1", "pool000001"))
    assert {n.metadata.name for n in core.list_node().items} == {"cp000000"}

    await world.simulator.on_shutdown(ShutdownEvent(f"{VMSS}/cp/virtualMachines/0", "cp_0", "cp000000"))
    assert not _listening(world.address, 6443), "the last control-plane machine took the apiserver with it"


async def test_fault_knobs_make_nodes_never_register_or_turn_not_ready(world: World) -> None:
    world.simulator.faults.never_register.add("ghost*")
    await world.simulator.on_boot(
        world.event("cp", 0, world.document(NodeRole.FIRST_CONTROL_PLANE), frontends=True)
    )
    await world.simulator.on_boot(world.event("ghost", 1, world.document(NodeRole.WORKER)))
    await world.simulator.on_boot(world.event("pool", 2, world.document(NodeRole.WORKER)))
    await world.simulator.set_ready("pool000002", False)

    core = world.core()
    assert {n.metadata.name for n in core.list_node().items} == {"cp000000", "pool000002"}
    ready = {c.type: c.status for c in core.read_node("pool000002").status.conditions}
    assert ready["Ready"] == "False"

"""Node lookup and cordon against the real test control plane."""

from __future__ import annotations

import uuid

from fixtures.kube_world import FakeKubelets

from azk_operator.kube.clients import KubeClients
from azk_operator.kube.cordon import cordon, uncordon
from azk_operator.kube.nodes import get_node, list_nodes, node_by_provider_id, nodes_by_provider_id
from azk_operator.kube.providerid import vmss_instance_provider_id

SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"


async def test_nodes_are_found_by_provider_id_whatever_the_resource_group_case(
    kube_clients: KubeClients, fake_kubelets: FakeKubelets
) -> None:
    vmss = f"pool-{uuid.uuid4().hex[:6]}"
    # What cloud-provider-azure writes: the resource group lowercased.
    ready = fake_kubelets.node(provider_id=vmss_instance_provider_id(SUBSCRIPTION, "My-RG", vmss, "0"))
    unready = fake_kubelets.node(
        provider_id=vmss_instance_provider_id(SUBSCRIPTION, "My-RG", vmss, "1"), ready=False
    )
    # What ARM returns for the same instances: the resource group as the user spelled it.
    arm_ids = [
        f"azure:///subscriptions/{SUBSCRIPTION}/resourceGroups/My-RG/providers/Microsoft.Compute/"
        f"virtualMachineScaleSets/{vmss}/virtualMachines/{i}"
        for i in range(3)
    ]
    found = await nodes_by_provider_id(kube_clients, arm_ids)
    assert {pid: (n.name, n.ready) for pid, n in found.items()} == {
        arm_ids[0]: (ready, True),
        arm_ids[1]: (unready, False),
    }
    single = await node_by_provider_id(kube_clients, arm_ids[0].upper())
    assert single is not None
    assert single.name == ready
    assert await node_by_provider_id(kube_clients, arm_ids[2]) is None


async def test_nodes_by_name_and_label_selector(
    kube_clients: KubeClients, fake_kubelets: FakeKubelets
) -> None:
    pool = f"p{uuid.uuid4().hex[:6]}"
    a = fake_kubelets.node(labels={"engine.azk.io/pool": pool, "role": "worker"})
    b = fake_kubelets.node(labels={"engine.azk.io/pool": pool, "role": "edge"})
    fake_kubelets.node(labels={"engine.azk.io/pool": "other"})

    assert [n.name for n in await list_nodes(kube_clients, f"engine.azk.io/pool={pool}")] == sorted([a, b])
    assert [n.name for n in await list_nodes(kube_clients, f"engine.azk.io/pool={pool},role in (edge)")] == [
        b
    ]
    info = await get_node(kube_clients, a)
    assert info is not None
    assert (info.ready, info.unschedulable, info.labels["role"]) == (True, False, "worker")
    assert await get_node(kube_clients, f"missing-{uuid.uuid4().hex[:6]}") is None


async def test_cordon_and_uncordon_write_only_when_the_state_differs(
    kube_clients: KubeClients, fake_kubelets: FakeKubelets
) -> None:
    name = fake_kubelets.node()

    def version() -> str:
        rv: str = fake_kubelets.core.read_node(name).metadata.resource_version
        return rv

    assert await cordon(kube_clients, name) is True
    cordoned = version()
    assert await cordon(kube_clients, name) is False
    assert version() == cordoned
    node = await get_node(kube_clients, name)
    assert node is not None
    assert node.unschedulable

    assert await uncordon(kube_clients, name) is True
    uncordoned = version()
    assert await uncordon(kube_clients, name) is False
    assert version() == uncordoned
    node = await get_node(kube_clients, name)
    assert node is not None
    assert not node.unschedulable

"""The NodeSet controller on a self-managed cluster: emulator + boot simulator + the cluster's own apiserver,
with the real operator running against that apiserver (the setup `azk create` leaves behind)."""

from __future__ import annotations

from typing import Any

import kubernetes
import pytest
from fixtures.cluster_world import KUBERNETES_VERSION, World
from fixtures.kube_world import FakeKubelets
from fixtures.waiting import converged_status, eventually

from azk_operator.emulator import ArmEmulator

WRITES = {"PUT", "PATCH", "POST", "DELETE"}

GROUP, VERSION = "engine.azk.io", "v1alpha1"
VMSS = "Microsoft.Compute/virtualMachineScaleSets"

pytestmark = pytest.mark.timeout(600)


class NodeSets:
    def __init__(self, world: World) -> None:
        self.world = world
        self.custom = kubernetes.client.CustomObjectsApi(world.kube.api)
        self.core = world.kube.core

    def apply(self, name: str, replicas: int, **template: Any) -> None:
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "NodeSet",
            "metadata": {"name": name, "labels": {"engine.azk.io/cluster": self.world.cluster_name}},
            "spec": {
                "clusterName": self.world.cluster_name,
                "role": "Worker",
                "replicas": replicas,
                "template": {
                    "vmSize": "Standard_D2s_v5",
                    "kubernetesVersion": KUBERNETES_VERSION,
                    **template,
                },
            },
        }
        self.custom.create_namespaced_custom_object(GROUP, VERSION, self.world.namespace, "nodesets", body)

    def scale(self, name: str, replicas: int) -> None:
        self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, self.world.namespace, "nodesets", name, {"spec": {"replicas": replicas}}
        )

    def get(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.world.namespace, "nodesets", name
        )
        return found

    def condition(self, name: str, kind: str) -> dict[str, Any] | None:
        for condition in (self.get(name).get("status") or {}).get("conditions", []):
            if condition["type"] == kind:
                found: dict[str, Any] = condition
                return found
        return None

    def ready(self, name: str, replicas: int) -> dict[str, Any] | None:
        return converged_status(self.get(name), replicas)

    def nodes(self, name: str) -> set[str]:
        listed = self.core.list_node(label_selector=f"engine.azk.io/nodeset={name}")
        return {n.metadata.name for n in listed.items}


def scale_sets(emulator: ArmEmulator) -> set[str]:
    return {item.name for item in emulator.control.inventory(VMSS)}


def test_worker_nodeset_reaches_ready_with_its_nodes_registered(cluster_world: World) -> None:
    sets = NodeSets(cluster_world)
    with cluster_world.run_operator():
        sets.apply("workers", 2)
        status = eventually(lambda: sets.ready("workers", 2), "NodeSet workers Ready")
    assert status["replicas"] == 2 and status["scaleSetName"] == "workers"
    assert status["selector"] == "engine.azk.io/nodeset=workers"
    nodes = sets.nodes("workers")
    assert len(nodes) == 2
    assert {i["nodeName"] for i in status["instances"]} == nodes
    assert {i["state"] for i in status["instances"]} == {"Ready"}
    tags = next(i.tags for i in cluster_world.emulator.control.inventory(VMSS) if i.name == "workers")
    assert tags[f"azk.io_cluster_{cluster_world.cluster_name}"] == "owned"
    assert tags["azk.io_nodeset"] == f"{cluster_world.namespace}.workers"


def kubelets(world: World) -> FakeKubelets:
    """Plays the kubelets of the simulated nodes for pods (the simulator registers the Nodes themselves)."""
    return FakeKubelets(
        kubernetes.client.CoreV1Api(world.kube.api), kubernetes.client.AppsV1Api(world.kube.api)
    )


def apps_namespace(world: World) -> str:
    world.kube.core.create_namespace({"metadata": {"name": "apps"}})
    return "apps"


def test_scaling_2_5_1_follows_in_azure_and_drains_every_removed_node_first(cluster_world: World) -> None:
    sets, emulator = NodeSets(cluster_world), cluster_world.emulator
    namespace, pods = apps_namespace(cluster_world), kubelets(cluster_world)
    with cluster_world.run_operator():
        sets.apply("workers", 2)
        eventually(lambda: sets.ready("workers", 2), "2 Ready nodes")
        sets.scale("workers", 5)
        status = eventually(lambda: sets.ready("workers", 5), "5 Ready nodes")
        assert len(sets.nodes("workers")) == 5 and status["replicas"] == 5
        nodes = sorted(sets.nodes("workers"))
        for node in nodes:  # a grace period keeps an evicted pod Terminating until "its kubelet" ends it
            pods.pod(namespace, f"app-{node}", node, grace_period_seconds=30)

        sets.scale("workers", 1)
        evicted_while_node_existed: set[str] = set()

        def converged_after_kubelet_work() -> dict[str, Any] | None:
            existing = sets.nodes("workers")
            terminating = [
                pod
                for pod in cluster_world.kube.core.list_namespaced_pod(namespace).items
                if pod.metadata.deletion_timestamp is not None
            ]
            for pod in terminating:
                if pod.spec.node_name in existing:
                    evicted_while_node_existed.add(pod.spec.node_name)
            # Only the pods seen above: one evicted after the listing waits for the next look.
            pods.finish(namespace, [pod.metadata.name for pod in terminating])
            return sets.ready("workers", 1)

        status = eventually(converged_after_kubelet_work, "scale-down to 1")
        eventually(lambda: len(sets.nodes("workers")) == 1, "the removed VMs' Nodes to go")
    assert status["replicas"] == 1
    remaining = sets.nodes("workers")
    assert len(remaining) == 1 and remaining < set(nodes)
    removed = set(nodes) - remaining
    assert evicted_while_node_existed == removed
    left = {p.metadata.name for p in cluster_world.kube.core.list_namespaced_pod(namespace).items}
    assert left == {f"app-{node}" for node in remaining}
    assert [i["nodeName"] for i in status["instances"]] == sorted(remaining)
    instances = [
        i
        for i in emulator.control.inventory()
        if "/virtualmachines/" in i.id.lower() and "/workers/" in i.id.lower()
    ]
    assert len(instances) == 1
    capacity_patches = [
        r for r in emulator.control.journal() if r.method == "PATCH" and r.path.lower().endswith("/workers")
    ]
    assert capacity_patches  # 2 -> 5 was a capacity write; 5 -> 1 went through instance deletes
    deletes = [
        r for r in emulator.control.journal() if r.method == "POST" and "/workers/delete" in r.path.lower()
    ]
    assert deletes


def test_a_disruption_budget_blocks_the_drain_with_a_condition_naming_it(cluster_world: World) -> None:
    sets = NodeSets(cluster_world)
    namespace, pods = apps_namespace(cluster_world), kubelets(cluster_world)
    policy = kubernetes.client.PolicyV1Api(cluster_world.kube.api)
    with cluster_world.run_operator():
        sets.apply("workers", 2)
        eventually(lambda: sets.ready("workers", 2), "2 Ready nodes")
        for node in sorted(sets.nodes("workers")):
            pods.pod(namespace, f"guarded-{node}", node, labels={"app": "guarded"}, grace_period_seconds=0)
        policy.create_namespaced_pod_disruption_budget(
            namespace,
            {
                "metadata": {"name": "keep-both"},
                "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "guarded"}}},
            },
        )
        eventually(
            lambda: (
                (policy.read_namespaced_pod_disruption_budget("keep-both", namespace).status or {})
                and policy.read_namespaced_pod_disruption_budget(
                    "keep-both", namespace
                ).status.current_healthy
                == 2
            ),
            "the budget counting both pods",
        )
        sets.scale("workers", 1)
        blocked = eventually(
            lambda: (c := sets.condition("workers", "DrainBlocked")) and c["status"] == "True" and c,
            "DrainBlocked",
        )
        assert f"PodDisruptionBudget {namespace}/keep-both" in blocked["message"]
        assert len(sets.nodes("workers")) == 2  # nothing was deleted while blocked
        assert sets.condition("workers", "Ready")["status"] == "False"

        policy.delete_namespaced_pod_disruption_budget("keep-both", namespace)
        eventually(lambda: sets.ready("workers", 1), "scale-down once the budget is gone")
        assert sets.condition("workers", "DrainBlocked")["status"] == "False"
    assert len(sets.nodes("workers")) == 1


def test_an_unknown_vm_size_is_reported_and_nothing_is_created(cluster_world: World) -> None:
    sets = NodeSets(cluster_world)
    with cluster_world.run_operator():
        sets.apply("huge", 2, vmSize="Standard_Z99s_v9")
        ready = eventually(
            lambda: (c := sets.condition("huge", "Ready")) and c["reason"] == "VmSizeUnknown" and c,
            "a VmSizeUnknown condition",
        )
        assert "Standard_Z99s_v9" in ready["message"]
        assert sets.condition("huge", "ScaleSetReady")["reason"] == "VmSizeUnknown"
    assert "huge" not in scale_sets(cluster_world.emulator)
    journal = cluster_world.emulator.control.journal()
    assert not [r for r in journal if r.method in WRITES and "/huge" in r.path.lower()]


def test_a_converged_nodeset_makes_no_azure_write_over_several_resyncs(cluster_world: World) -> None:
    sets, emulator = NodeSets(cluster_world), cluster_world.emulator
    with cluster_world.run_operator():
        sets.apply("workers", 2)
        eventually(lambda: sets.ready("workers", 2), "2 Ready nodes")
        eventually(
            lambda: (cp := sets.ready(f"{cluster_world.cluster_name}-control-plane", 1)) and cp,
            "the control-plane NodeSet Ready",
        )
        mark = len(emulator.control.journal())
        version = sets.get("workers")["metadata"]["resourceVersion"]

        def reads() -> list[Any]:
            return [
                r
                for r in emulator.control.journal()[mark:]
                if r.method == "GET" and r.path.lower().endswith("/virtualmachinescalesets/workers")
            ]

        eventually(lambda: len(reads()) >= 4, "four resync passes over the workers", within_s=60)
    later = emulator.control.journal()[mark:]
    writes = [r for r in later if r.method in WRITES and "virtualmachinescalesets" in r.path.lower()]
    assert writes == []
    assert sets.get("workers")["metadata"]["resourceVersion"] == version  # no status churn either


def test_deleting_a_nodeset_drains_its_nodes_and_deletes_the_scale_set(cluster_world: World) -> None:
    sets = NodeSets(cluster_world)
    namespace, pods = apps_namespace(cluster_world), kubelets(cluster_world)
    with cluster_world.run_operator():
        sets.apply("workers", 2)
        eventually(lambda: sets.ready("workers", 2), "2 Ready nodes")
        for node in sorted(sets.nodes("workers")):
            pods.pod(namespace, f"app-{node}", node, grace_period_seconds=0)
        sets.custom.delete_namespaced_custom_object(
            GROUP, VERSION, cluster_world.namespace, "nodesets", "workers"
        )
        eventually(lambda: "workers" not in scale_sets(cluster_world.emulator), "the scale set to go")
        eventually(lambda: not _exists(sets, "workers"), "the NodeSet to go")
    assert cluster_world.kube.core.list_namespaced_pod(namespace).items == []  # evicted before the VMs went


def test_a_nodeset_whose_cluster_is_broken_says_so_then_cleans_azure_up(cluster_world: World) -> None:
    sets = NodeSets(cluster_world)
    with cluster_world.run_operator():
        sets.apply("workers", 1)
        eventually(lambda: sets.ready("workers", 1), "1 Ready node")
        cluster_world.kube.core.delete_namespaced_secret(
            f"{cluster_world.cluster_name}-pki", cluster_world.namespace
        )
        sets.custom.delete_namespaced_custom_object(
            GROUP, VERSION, cluster_world.namespace, "nodesets", "workers"
        )
        blocked = eventually(
            lambda: (c := sets.condition("workers", "Deleting")) and c["reason"] == "PKIMissing" and c,
            "a Deleting condition naming what blocks",
        )
        assert blocked["status"] == "True"
        assert "workers" in blocked["message"] and "scale set" in blocked["message"]
        assert "workers" in scale_sets(cluster_world.emulator)  # waits for the Cluster first
        # after the grace period (600 s x 0.05) the recorded scale set is deleted anyway
        eventually(lambda: not _exists(sets, "workers"), "the NodeSet to go", within_s=120)
    assert "workers" not in scale_sets(cluster_world.emulator)


def _exists(sets: NodeSets, name: str) -> bool:
    try:
        sets.get(name)
    except kubernetes.client.ApiException as error:
        if error.status == 404:
            return False
        raise
    return True

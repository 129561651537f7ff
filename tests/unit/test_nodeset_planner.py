"""planner.scaleset: names, labels, documents, VM size checks and scale decisions of a NodeSet (pure)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from azk_operator.api.nodeset import NodeSet
from azk_operator.azure.skus import VmSku
from azk_operator.bootstrap.config import NodeRole
from azk_operator.planner import scaleset as plan
from azk_operator.planner.naming import nodeset_name

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def nodeset(name: str = "workers", *, role: str = "Worker", **template: Any) -> NodeSet:
    return NodeSet.model_validate(
        {
            "apiVersion": "engine.azk.io/v1alpha1",
            "kind": "NodeSet",
            "metadata": {"name": name, "namespace": "ns1", "labels": {"engine.azk.io/nodepool": "pool-a"}},
            "spec": {
                "clusterName": "demo",
                "role": role,
                "replicas": 3,
                "template": {"vmSize": "Standard_D2s_v5", "kubernetesVersion": "v1.31.4", **template},
            },
        }
    )


# --- names --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["w", "workers", "workers-a", nodeset_name("workers", "abcdefghij"), "demo-control-plane", "a" * 63],
)
def test_computer_names_fit_azure_and_are_valid_node_names(name: str) -> None:
    prefix = plan.computer_name_prefix(name)
    computer_name = f"{prefix}00000z"  # Azure appends 6 base-36 digits
    assert len(prefix) <= 9 and len(computer_name) <= 15
    assert DNS_LABEL.match(computer_name)
    assert plan.computer_name_prefix(name) == prefix  # stable across passes and restarts


def test_short_names_are_kept_and_long_names_sharing_a_start_get_different_prefixes() -> None:
    assert plan.computer_name_prefix("workers") == "workers"
    first = plan.computer_name_prefix(nodeset_name("pool", "aaaaaaaaaa"))
    second = plan.computer_name_prefix(nodeset_name("pool", "bbbbbbbbbb"))
    assert first.startswith("pool") and second.startswith("pool") and first != second


def test_scale_set_name_is_the_nodeset_name_within_azure_limits() -> None:
    assert plan.scale_set_name("workers-5d8f7c") == "workers-5d8f7c"
    long_a, long_b = "x" * 60 + "-a" * 5, "x" * 60 + "-b" * 5
    assert len(plan.scale_set_name(long_a)) <= 64
    assert plan.scale_set_name(long_a) != plan.scale_set_name(long_b)


# --- labels, documents, tags, spec --------------------------------------------------------------------------


def test_nodes_are_labelled_with_cluster_nodeset_and_pool() -> None:
    labels = plan.node_labels(nodeset(labels={"tier": "web"}))
    assert labels == {
        "tier": "web",
        "engine.azk.io/cluster": "demo",
        "engine.azk.io/nodeset": "workers",
        "engine.azk.io/nodepool": "pool-a",
    }
    assert plan.selector("workers") == "engine.azk.io/nodeset=workers"


def test_documents_by_role() -> None:
    worker = plan.node_bootstrap_config(nodeset(taints=[{"key": "gpu", "effect": "NoSchedule"}]))
    assert worker.role is NodeRole.WORKER
    assert [(t.key, t.value, t.effect) for t in worker.taints or ()] == [("gpu", "", "NoSchedule")]
    control_plane = nodeset("demo-control-plane", role="ControlPlane")
    assert plan.node_bootstrap_config(control_plane).role is NodeRole.CONTROL_PLANE
    assert plan.node_bootstrap_config(control_plane).taints is None  # kubeadm's control-plane taint stays
    first = plan.node_bootstrap_config(control_plane, first_control_plane=True)
    assert first.role is NodeRole.FIRST_CONTROL_PLANE


def test_images_default_to_ubuntu_and_image_ids_are_not_supported_yet() -> None:
    assert plan.image_spec(nodeset()) == plan.DEFAULT_IMAGE
    market = {"marketplace": {"publisher": "p", "offer": "o", "sku": "s"}}
    assert plan.image_spec(nodeset(image=market)) == plan.ImageSpec("p", "o", "s", "latest")
    image_id = "/subscriptions/x/resourceGroups/g/providers/Microsoft.Compute/images/i"
    assert plan.image_spec(nodeset(image={"id": image_id})) is None


def test_tags_name_the_owner_nodeset_and_role() -> None:
    tags = plan.scale_set_tags({"azk.io_cluster_demo": "owned", "team": "x"}, nodeset())
    assert tags == {
        "azk.io_cluster_demo": "owned",
        "team": "x",
        "azk.io_nodeset": "ns1.workers",
        "azk.io_role": "Worker",
    }


def test_desired_scale_set_carries_template_and_placement() -> None:
    spec = plan.desired_scale_set(
        nodeset(zones=["3", "1"], osDiskSizeGB=64),
        plan.Placement("westeurope", "/sub/net", ("/pool",)),
        image=plan.DEFAULT_IMAGE,
        capacity=4,
        custom_data="I2Nsb3VkLWNvbmZpZw==",
        ssh_public_key="ssh-ed25519 AAAA",
    )
    assert (spec.name, spec.vm_size, spec.capacity, spec.zones) == (
        "workers",
        "Standard_D2s_v5",
        4,
        ("1", "3"),
    )
    assert (spec.subnet_id, spec.backend_pool_ids, spec.os_disk_size_gb) == ("/sub/net", ("/pool",), 64)
    assert "I2Nsb3VkLWNvbmZpZw" not in repr(spec)


def test_node_ssh_key_is_stable_per_cluster_and_openssh_formatted() -> None:
    def ca_key() -> bytes:
        return ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    one, other = ca_key(), ca_key()
    key = plan.node_ssh_public_key(one)
    assert key.startswith("ssh-ed25519 ") and key == plan.node_ssh_public_key(one)
    assert key != plan.node_ssh_public_key(other)
    assert serialization.load_ssh_public_key(key.encode())


# --- VM size check ------------------------------------------------------------------------------------------

SIZES = {
    "standard_d2s_v5": VmSku("Standard_D2s_v5", ("1", "2", "3")),
    "standard_e4s_v5": VmSku("Standard_E4s_v5", (), restricted=True),
}


@pytest.mark.parametrize(
    ("sizes", "size", "zones", "reason"),
    [
        (SIZES, "Standard_D2s_v5", ["1", "2"], None),
        (SIZES, "standard_d2s_v5", [], None),
        ({}, "Standard_D2s_v5", [], "LocationUnknown"),
        (SIZES, "Standard_Z9_v9", [], "VmSizeUnknown"),
        (SIZES, "Standard_E4s_v5", [], "VmSizeNotOffered"),
        (SIZES, "Standard_D2s_v5", ["1", "4"], "ZoneNotOffered"),
    ],
)
def test_vm_size_check(sizes: dict[str, VmSku], size: str, zones: list[str], reason: str | None) -> None:
    problem = plan.check_vm_size(sizes, "westeurope", size, zones)
    assert (problem.reason if problem else None) == reason
    if problem:
        assert size in problem.message or "westeurope" in problem.message


# --- scaling ------------------------------------------------------------------------------------------------


def instance(
    iid: str, *, ready: bool = True, draining: bool = False, state: str = "succeeded"
) -> plan.ObservedInstance:
    return plan.ObservedInstance(
        iid, state, created=float(iid), node=plan.NodeView(f"node-{iid}", ready, draining)
    )


def test_scale_up_raises_capacity_and_chooses_no_victim() -> None:
    scale = plan.plan_scale(5, [instance("0"), instance("1")])
    assert (scale.capacity, scale.victims, scale.release) == (5, (), ())


def test_scale_down_keeps_capacity_and_picks_unready_then_newest() -> None:
    instances = [instance("0"), instance("1", ready=False), instance("2"), instance("3"), instance("4")]
    scale = plan.plan_scale(2, instances)
    assert scale.capacity == 5  # capacity falls only through deleting the chosen instances
    assert [v.instance_id for v in scale.victims] == ["1", "4", "3"]


def test_restart_continues_with_the_victims_already_draining() -> None:
    instances = [instance("0", draining=True), instance("1"), instance("2")]
    assert [v.instance_id for v in plan.plan_scale(2, instances).victims] == ["0"]


def test_instances_being_deleted_do_not_count_and_unwanted_drains_are_released() -> None:
    instances = [instance("0"), instance("1", draining=True), instance("2", state="deleting")]
    scale = plan.plan_scale(2, instances)
    assert scale.victims == () and scale.capacity == 2
    assert [i.instance_id for i in scale.release] == ["1"]


def test_instance_states() -> None:
    assert plan.instance_state(instance("0"), victim=False) == "Ready"
    assert plan.instance_state(instance("0", ready=False), victim=False) == "NotReady"
    assert plan.instance_state(instance("0"), victim=True) == "Draining"
    assert plan.instance_state(instance("0", state="deleting"), victim=True) == "Deleting"
    assert plan.instance_state(plan.ObservedInstance("1", "creating", 0.0), victim=False) == "Creating"
    assert plan.instance_state(plan.ObservedInstance("1", "succeeded", 0.0), victim=False) == "Joining"
    assert plan.instance_state(plan.ObservedInstance("1", "failed", 0.0), victim=False) == "Failed"
    assert plan.instance_name("workers", "7") == "workers_7"
